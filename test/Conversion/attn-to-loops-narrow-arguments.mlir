// RUN: attn-opt %s "--convert-attn-to-loops=bf16-dot-products=true" | FileCheck %s
// RUN: attn-opt %s "--convert-attn-to-loops=bf16-dot-products=true single-query-copy=false" | FileCheck %s --check-prefix=ERASED
//
// bf16 arguments reach the kernels widened: MLIRGen copies each into an f32
// buffer (a linalg.generic of arith.extf). The blocked kernel's packing
// reads such an argument where it is instead (a bf16 load, widened as it
// is read: the same values), through the same reshapes. A copy then read
// only in one branch of an scf.if (the single-query copy of a dynamic n_q,
// whose kernel reads the f32 values in place) moves into that branch; one
// nothing reads any more is erased; one read elsewhere too stays.

#id = affine_map<(b, h, n, c) -> (b, h, n, c)>

// CHECK-LABEL: func @read_in_place
// CHECK-SAME: (%[[QA:[^:]*]]: memref<2x4x?x32xbf16>, %[[KA:[^:]*]]: memref<2x2x?x32xbf16>, %[[VA:[^:]*]]: memref<2x2x?x32xbf16>
// CHECK-NOT:  linalg.generic
// CHECK:      scf.if
// CHECK:        scf.parallel
// CHECK:          vector.load %[[QA]][{{.*}}] : memref<2x4x?x32xbf16>, vector<32xbf16>
// CHECK:          arith.extf %{{.*}} : vector<32xbf16> to vector<32xf32>
// CHECK:        scf.parallel
// CHECK:          vector.load %[[KA]][{{.*}}] : memref<2x2x?x32xbf16>, vector<32xbf16>
// CHECK:          arith.extf %{{.*}} : vector<32xbf16> to vector<32xf32>
// CHECK:        scf.parallel
// CHECK:          vector.load %[[VA]][{{.*}}] : memref<2x2x?x32xbf16>, vector<16xbf16>
// CHECK-NOT:  linalg.generic
// CHECK:        memref.dealloc %{{.*}} : memref<?x?x?x?x32xf32>
// CHECK-NEXT: } else {
// CHECK-NEXT:   linalg.generic
// CHECK-SAME:     ins(%[[VA]]
// CHECK:        linalg.generic
// CHECK-SAME:     ins(%[[KA]]
// CHECK:        linalg.generic
// CHECK-SAME:     ins(%[[QA]]
// CHECK:      return

// ERASED-LABEL: func @read_in_place
// ERASED-NOT:     linalg.generic
// ERASED:         vector.load %{{.*}} : memref<2x4x?x32xbf16>, vector<32xbf16>
// ERASED-NOT:     linalg.generic
// ERASED:         return
func.func @read_in_place(%qa: memref<2x4x?x32xbf16>, %ka: memref<2x2x?x32xbf16>,
                         %va: memref<2x2x?x32xbf16>, %s: f32,
                         %c: memref<2x?x4x32xf32>) {
  %c2 = arith.constant 2 : index
  %nq = memref.dim %qa, %c2 : memref<2x4x?x32xbf16>
  %nk = memref.dim %ka, %c2 : memref<2x2x?x32xbf16>
  %q = memref.alloc(%nq) : memref<2x4x?x32xf32>
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%qa : memref<2x4x?x32xbf16>) outs(%q : memref<2x4x?x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  }
  %k = memref.alloc(%nk) : memref<2x2x?x32xf32>
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ka : memref<2x2x?x32xbf16>) outs(%k : memref<2x2x?x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  }
  %v = memref.alloc(%nk) : memref<2x2x?x32xf32>
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%va : memref<2x2x?x32xbf16>) outs(%v : memref<2x2x?x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  }
  attn.online_attention dot
      ins(%q, %k, %v : memref<2x4x?x32xf32>, memref<2x2x?x32xf32>, memref<2x2x?x32xf32>)
      scale(%s) outs(%c : memref<2x?x4x32xf32>)
  memref.dealloc %q : memref<2x4x?x32xf32>
  memref.dealloc %k : memref<2x2x?x32xf32>
  memref.dealloc %v : memref<2x2x?x32xf32>
  return
}

// The widened values are also copied out: that copy stays (and the
// packing still reads the argument).
// CHECK-LABEL: func @read_elsewhere_too
// CHECK-SAME: (%[[VA:[^:]*]]: memref<2x2x?x32xbf16>
// CHECK:      linalg.generic
// CHECK-SAME:   ins(%[[VA]]
// CHECK:      vector.load %[[VA]][{{.*}}] : memref<2x2x?x32xbf16>, vector<16xbf16>
// CHECK:      memref.copy
func.func @read_elsewhere_too(%va: memref<2x2x?x32xbf16>,
                              %q: memref<2x4x?x32xf32>, %k: memref<2x2x?x32xf32>,
                              %s: f32, %c: memref<2x?x4x32xf32>,
                              %w: memref<2x2x?x32xf32>) {
  %c2 = arith.constant 2 : index
  %nk = memref.dim %va, %c2 : memref<2x2x?x32xbf16>
  %v = memref.alloc(%nk) : memref<2x2x?x32xf32>
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%va : memref<2x2x?x32xbf16>) outs(%v : memref<2x2x?x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  }
  attn.online_attention dot
      ins(%q, %k, %v : memref<2x4x?x32xf32>, memref<2x2x?x32xf32>, memref<2x2x?x32xf32>)
      scale(%s) outs(%c : memref<2x?x4x32xf32>)
  memref.copy %v, %w : memref<2x2x?x32xf32> to memref<2x2x?x32xf32>
  memref.dealloc %v : memref<2x2x?x32xf32>
  return
}
