// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=128" | FileCheck %s
// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=128 bf16-dot-products=true" | FileCheck %s --check-prefix=BF16
//
// The single-query kernel: a static n_q of 1 makes query tiles of one row,
// and the blocked dot kernel then reads the keys in place (no panels are
// packed before the parallel loop). Pass 1 takes 16 keys per step: each key
// row is loaded where it is (D = 20: a vector of 16 and one of 4, padded
// into 16 lanes by insert_strided_slice) and multiplied into its own
// accumulator; four levels of shuffles and adds (15 pairs) sum accumulator
// j into lane j of the step's scores. In the copy of the loop for tiles
// that are cut off (the last one) key rows past n_k are read as the last
// one (arith.minsi) and their lanes masked. Passes 2 and 3 are the blocked
// kernel's. bf16 dot products do not apply (nothing is packed).

// CHECK-LABEL: func @single_query
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x1x20xf32>, %[[K:[^:]*]]: memref<2x4x?x20xf32>
// No panels: the only buffers before the loop are the key splits' partial
// states.
// CHECK-NOT:  memref<?x?x?x20x16xf32>
// CHECK:      scf.parallel
// The query row, once per key tile.
// CHECK:        vector.load %[[Q]][{{.*}}] : memref<2x4x1x20xf32>, vector<16xf32>
// CHECK:        vector.load %[[Q]][{{.*}}] : memref<2x4x1x20xf32>, vector<4xf32>
// Tiles within n_k: the keys as they are.
// CHECK:        scf.if
// CHECK:          scf.for %{{.*}} step %c16
// CHECK-NOT:        arith.minsi
// CHECK:            vector.load %[[K]][{{.*}}] : memref<2x4x?x20xf32>, vector<16xf32>
// CHECK:            vector.fma
// CHECK:            vector.load %[[K]][{{.*}}] : memref<2x4x?x20xf32>, vector<4xf32>
// CHECK:            vector.insert_strided_slice %{{.*}} {offsets = [0], strides = [1]} : vector<4xf32> into vector<16xf32>
// Level 1 (groups of 16 lanes), 2 (8), 3 (4), 4 (2).
// CHECK:            vector.shuffle %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
// CHECK-NEXT:       vector.shuffle %{{.*}} [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]
// CHECK-NEXT:       arith.addf
// CHECK:            vector.shuffle %{{.*}} [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]
// CHECK:            vector.shuffle %{{.*}} [0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29]
// CHECK:            vector.shuffle %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK-NEXT:       vector.shuffle %{{.*}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// CHECK-NEXT:       arith.addf
// CHECK-NOT:        vector.shuffle
// CHECK:            arith.maxnumf
// A cut-off tile: each key row index clamped to n_k - 1.
// CHECK:        } else {
// CHECK:          scf.for %{{.*}} step %c16
// CHECK:            %[[ROW:.*]] = arith.minsi
// CHECK-NEXT:       arith.constant 0 : index
// CHECK-NEXT:       vector.load %[[K]][%{{.*}}, %{{.*}}, %[[ROW]], %{{.*}}] : memref<2x4x?x20xf32>, vector<16xf32>

// BF16-LABEL: func @single_query
// BF16-NOT:     bf16
// BF16:         vector.shuffle
// BF16-NOT:     llvm.call_intrinsic
// BF16-LABEL: func @few_queries
func.func @single_query(%q: memref<2x4x1x20xf32>, %k: memref<2x4x?x20xf32>,
                        %v: memref<2x4x?x32xf32>, %s: f32,
                        %c: memref<2x1x4x32xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<2x4x1x20xf32>, memref<2x4x?x20xf32>, memref<2x4x?x32xf32>)
      scale(%s) outs(%c : memref<2x1x4x32xf32>)
  return
}

// A static n_q of 3 is the only tile of its head: it reads the keys in
// place too, each of the 3 rows with its own 16 accumulators and tree of
// shuffles (the key rows are in L1 for the rows after the first). A
// static n_q of 12 makes two tiles of 8: the keys are packed into panels.
// CHECK-LABEL: func @few_queries
// CHECK-NOT:    memref<?x?x?x32x16xf32>
// CHECK:        memref.alloc() : memref<3x144xf32>
// CHECK:        scf.for %{{.*}} step %c16
// CHECK-COUNT-3:  vector.shuffle %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK-NOT:      vector.shuffle %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK:          arith.maxnumf
// CHECK-LABEL: func @two_tiles
// CHECK:        memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x?x?x16x16xf32>
func.func @few_queries(%q: memref<1x2x3x32xf32>, %k: memref<1x2x?x32xf32>,
                       %v: memref<1x2x?x16xf32>, %c: memref<1x3x2x16xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x2x3x32xf32>, memref<1x2x?x32xf32>, memref<1x2x?x16xf32>)
      outs(%c : memref<1x3x2x16xf32>)
  return
}
func.func @two_tiles(%q: memref<1x2x12x16xf32>, %k: memref<1x2x?x16xf32>,
                     %v: memref<1x2x?x16xf32>, %c: memref<1x12x2x16xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x2x12x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>)
      outs(%c : memref<1x12x2x16xf32>)
  return
}
