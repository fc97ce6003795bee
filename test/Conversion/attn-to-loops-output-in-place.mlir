// RUN: attn-opt %s --convert-attn-to-loops --split-input-file | FileCheck %s
//
// Bufferization leaves an attention's context in an allocation, copied
// into the output argument after the kernels (linalg.copy, or a
// linalg.generic of arith.truncf for a bf16 output). Where the allocation
// is only stored into before the copy, the stores go to the same views of
// the output (rounded as the copy rounds; expanded back where the copy
// collapses the heads of a multi-head context) and the copy goes away, as
// do the loads of kernels that read it back when the copy does not round;
// where something else reads it, or the output, the copy stays.

#id = affine_map<(b, h, n, c) -> (b, h, n, c)>

// CHECK-LABEL: func @narrowing_copy
// CHECK-SAME:  (%[[N:.*]]: index, %[[O:.*]]: memref<2x4x?x32xbf16>)
// CHECK:       %[[OV:.*]] = memref.collapse_shape %[[O]] {{\[\[}}0, 1], [2], [3]] : memref<2x4x?x32xbf16> into memref<8x?x32xbf16>
// CHECK:       scf.parallel
// CHECK:         %[[T:.*]] = arith.truncf %{{.*}} : vector<32xf32> to vector<32xbf16>
// CHECK:         vector.store %[[T]], %[[OV]][%{{.*}}] : memref<8x?x32xbf16>, vector<32xbf16>
// CHECK:         %[[S:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK:         memref.store %[[S]], %[[OV]][%{{.*}}] : memref<8x?x32xbf16>
// CHECK-NOT:   linalg.generic
// CHECK:       return
func.func @narrowing_copy(%n: index, %o: memref<2x4x?x32xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %x = arith.constant dense<1.5> : vector<32xf32>
  %y = arith.constant 2.5 : f32
  %w = memref.alloc(%n) : memref<2x4x?x32xf32>
  %v = memref.collapse_shape %w [[0, 1], [2], [3]] : memref<2x4x?x32xf32> into memref<8x?x32xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %n) step (%c1, %c1) {
    vector.store %x, %v[%i, %j, %c0] : memref<8x?x32xf32>, vector<32xf32>
    memref.store %y, %v[%i, %j, %c0] : memref<8x?x32xf32>
    scf.reduce
  }
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w : memref<2x4x?x32xf32>) outs(%o : memref<2x4x?x32xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  }
  memref.dealloc %w : memref<2x4x?x32xf32>
  return
}

// -----

// The f32 copy, read through a memref.reshape (as bufferization leaves
// it): the stores go to the output as they are.

// CHECK-LABEL: func @plain_copy
// CHECK-SAME:  (%[[N:.*]]: index, %[[O:.*]]: memref<2x?x32xf32>)
// CHECK:       %[[OV:.*]] = memref.expand_shape %[[O]] {{\[\[}}0], [1, 2], [3]]
// CHECK:       scf.parallel
// CHECK-NOT:     arith.truncf
// CHECK:         vector.store %{{.*}}, %[[OV]][%{{.*}}] : memref<2x?x1x32xf32>, vector<32xf32>
// CHECK-NOT:   linalg.copy
// CHECK:       return
func.func @plain_copy(%n: index, %o: memref<2x?x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %x = arith.constant dense<1.5> : vector<32xf32>
  %w = memref.alloc(%n) : memref<2x?x32xf32>
  %v = memref.expand_shape %w [[0], [1, 2], [3]] output_shape [2, %n, 1, 32] : memref<2x?x32xf32> into memref<2x?x1x32xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c2, %n) step (%c1, %c1) {
    vector.store %x, %v[%i, %j, %c0, %c0] : memref<2x?x1x32xf32>, vector<32xf32>
    scf.reduce
  }
  %shape = memref.alloc() : memref<3xindex>
  memref.store %c2, %shape[%c0] : memref<3xindex>
  memref.store %n, %shape[%c1] : memref<3xindex>
  memref.store %c32, %shape[%c2] : memref<3xindex>
  %r = memref.reshape %w(%shape) : (memref<2x?x32xf32>, memref<3xindex>) -> memref<?x?x?xf32>
  linalg.copy ins(%r : memref<?x?x?xf32>) outs(%o : memref<2x?x32xf32>)
  return
}

// -----

// The heads of a multi-head context side by side: the copy collapses the
// allocation [b, n, h, d] into the output [b, n, h d]; the stores go to the
// output expanded back.

// CHECK-LABEL: func @heads_side_by_side
// CHECK-SAME:  (%[[N:.*]]: index, %[[O:.*]]: memref<?x?x32xf32>)
// CHECK:       %[[W:.*]] = memref.alloc(%[[N]], %[[N]]) : memref<?x?x4x8xf32>
// CHECK-NEXT:  %[[OV:.*]] = memref.expand_shape %[[O]] {{\[\[}}0], [1], [2, 3]] output_shape [%[[N]], %[[N]], 4, 8] : memref<?x?x32xf32> into memref<?x?x4x8xf32>
// CHECK:       vector.store %{{.*}}, %[[OV]][%{{.*}}] : memref<?x?x4x8xf32>, vector<8xf32>
// CHECK-NOT:   linalg.copy
// CHECK:       return
func.func @heads_side_by_side(%n: index, %o: memref<?x?x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %x = arith.constant dense<1.5> : vector<8xf32>
  %w = memref.alloc(%n, %n) : memref<?x?x4x8xf32>
  scf.parallel (%i, %h) = (%c0, %c0) to (%n, %c4) step (%c1, %c1) {
    vector.store %x, %w[%c0, %i, %h, %c0] : memref<?x?x4x8xf32>, vector<8xf32>
    scf.reduce
  }
  %r = memref.collapse_shape %w [[0], [1], [2, 3]] : memref<?x?x4x8xf32> into memref<?x?x32xf32>
  linalg.copy ins(%r : memref<?x?x32xf32>) outs(%o : memref<?x?x32xf32>)
  return
}

// -----

// A kernel that reads the allocation back before the copy (the weights
// output: the key loop stores the scores, attn.tile_weights reads them
// back and stores the weights, with masked loads and stores at the end of
// a row): without rounding, the loads read the output too, which holds
// what the stores wrote, and the copy goes away.

// CHECK-LABEL: func @read_back
// CHECK-SAME:  (%[[O:.*]]: memref<4x32xf32>)
// CHECK:       vector.store %{{.*}}, %[[O]][%{{.*}}] : memref<4x32xf32>, vector<32xf32>
// CHECK:       vector.load %[[O]][%{{.*}}] : memref<4x32xf32>, vector<32xf32>
// CHECK:       vector.maskedload %[[O]][%{{.*}}], %{{.*}}, %{{.*}} : memref<4x32xf32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// CHECK:       vector.maskedstore %[[O]][%{{.*}}], %{{.*}}, %{{.*}} : memref<4x32xf32>, vector<16xi1>, vector<16xf32>
// CHECK-NOT:   linalg.copy
// CHECK:       return
func.func @read_back(%o: memref<4x32xf32>) -> vector<32xf32> {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %x = arith.constant dense<1.5> : vector<32xf32>
  %m = arith.constant dense<true> : vector<16xi1>
  %z = arith.constant dense<0.0> : vector<16xf32>
  %w = memref.alloc() : memref<4x32xf32>
  vector.store %x, %w[%c0, %c0] : memref<4x32xf32>, vector<32xf32>
  %y = vector.load %w[%c0, %c0] : memref<4x32xf32>, vector<32xf32>
  %p = vector.maskedload %w[%c0, %c16], %m, %z : memref<4x32xf32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
  vector.maskedstore %w[%c0, %c16], %m, %p : memref<4x32xf32>, vector<16xi1>, vector<16xf32>
  linalg.copy ins(%w : memref<4x32xf32>) outs(%o : memref<4x32xf32>)
  return %y : vector<32xf32>
}

// -----

// The same read back with a rounding copy (a bf16 output): a load must see
// the f32 that was stored, so the copy stays.

#id2 = affine_map<(n, c) -> (n, c)>

// CHECK-LABEL: func @read_back_rounded
// CHECK:       vector.store %{{.*}} : memref<4x32xf32>, vector<32xf32>
// CHECK:       vector.load %{{.*}} : memref<4x32xf32>, vector<32xf32>
// CHECK:       linalg.generic
func.func @read_back_rounded(%o: memref<4x32xbf16>) -> vector<32xf32> {
  %c0 = arith.constant 0 : index
  %x = arith.constant dense<1.5> : vector<32xf32>
  %w = memref.alloc() : memref<4x32xf32>
  vector.store %x, %w[%c0, %c0] : memref<4x32xf32>, vector<32xf32>
  %y = vector.load %w[%c0, %c0] : memref<4x32xf32>, vector<32xf32>
  linalg.generic {indexing_maps = [#id2, #id2],
                  iterator_types = ["parallel", "parallel"]}
      ins(%w : memref<4x32xf32>) outs(%o : memref<4x32xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  }
  return %y : vector<32xf32>
}

// -----

// A store after the copy, and an output read elsewhere: both copies stay.

// CHECK-LABEL: func @store_after
// CHECK:       linalg.copy
// CHECK:       vector.store %{{.*}} : memref<4x32xf32>, vector<32xf32>
func.func @store_after(%o: memref<4x32xf32>) {
  %c0 = arith.constant 0 : index
  %x = arith.constant dense<1.5> : vector<32xf32>
  %w = memref.alloc() : memref<4x32xf32>
  linalg.copy ins(%w : memref<4x32xf32>) outs(%o : memref<4x32xf32>)
  vector.store %x, %w[%c0, %c0] : memref<4x32xf32>, vector<32xf32>
  return
}

// CHECK-LABEL: func @output_read
// CHECK:       vector.store %{{.*}} : memref<4x32xf32>, vector<32xf32>
// CHECK:       linalg.copy
func.func @output_read(%o: memref<4x32xf32>) -> vector<32xf32> {
  %c0 = arith.constant 0 : index
  %x = arith.constant dense<1.5> : vector<32xf32>
  %w = memref.alloc() : memref<4x32xf32>
  vector.store %x, %w[%c0, %c0] : memref<4x32xf32>, vector<32xf32>
  linalg.copy ins(%w : memref<4x32xf32>) outs(%o : memref<4x32xf32>)
  %y = vector.load %o[%c0, %c0] : memref<4x32xf32>, vector<32xf32>
  return %y : vector<32xf32>
}

// -----

// Masked stores into a rounded copy's allocation: each becomes a masked
// store of the rounded vector into the output.

#id3 = affine_map<(n, c) -> (n, c)>

// CHECK-LABEL: func @masked_rounded
// CHECK-SAME:  (%[[O:.*]]: memref<4x32xbf16>)
// CHECK:       %[[T:.*]] = arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK:       vector.maskedstore %[[O]][%{{.*}}], %{{.*}}, %[[T]] : memref<4x32xbf16>, vector<16xi1>, vector<16xbf16>
// CHECK-NOT:   linalg.generic
// CHECK:       return
func.func @masked_rounded(%o: memref<4x32xbf16>) {
  %c0 = arith.constant 0 : index
  %x = arith.constant dense<1.5> : vector<16xf32>
  %m = arith.constant dense<true> : vector<16xi1>
  %w = memref.alloc() : memref<4x32xf32>
  vector.maskedstore %w[%c0, %c0], %m, %x : memref<4x32xf32>, vector<16xi1>, vector<16xf32>
  linalg.generic {indexing_maps = [#id3, #id3],
                  iterator_types = ["parallel", "parallel"]}
      ins(%w : memref<4x32xf32>) outs(%o : memref<4x32xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}
