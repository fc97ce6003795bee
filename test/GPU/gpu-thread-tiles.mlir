// RUN: attn-opt %s --attn-gpu-thread-tiles --split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-gpu-thread-tiles=threads-per-block=16 --canonicalize --split-input-file | FileCheck %s --check-prefix=T16

// The tiled form's loop (batch x head, query tiles of 8): groups of 32
// tiles (256 queries) for the grid, a tile per thread inside, the inner
// bounds the minimum of the group and what is left.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME:      %[[BH:[a-z0-9]+]]: index, %[[NQ:[a-z0-9]+]]: index
// CHECK:         %[[C32:.*]] = arith.constant 32 : index
// CHECK:         %[[STEP:.*]] = arith.muli %c8, %[[C32]] : index
// CHECK:         scf.parallel (%[[I:.*]], %[[G:.*]]) = (%c0, %c0) to (%[[BH]], %[[NQ]]) step (%{{.*}}, %[[STEP]]) {
// CHECK:           %[[M1:.*]] = affine.min #{{.*}}(%[[STEP]], %[[NQ]], %[[G]])
// CHECK:           scf.parallel (%{{.*}}, %[[T:.*]]) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %[[M1]]) step (%c1, %c8) {
// CHECK:             %[[Q0:.*]] = arith.addi %[[T]], %[[G]] : index
// CHECK:             memref.store %{{.*}}, %{{.*}}[%{{.*}}, %[[Q0]]]
func.func @attention(%BH: index, %NQ: index, %out: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%bh, %i) = (%c0, %c0) to (%BH, %NQ) step (%c1, %c8) {
    memref.store %cst, %out[%bh, %i] : memref<?x?xf32>
    scf.reduce
  }
  return
}

// -----

// A projection over four dimensions: batch and head combined into one, so
// that three remain for the mapping; the features are the threads.
// T16-LABEL: func.func @projection(
// T16:         %[[BH:.*]] = arith.muli %{{.*}}, %c4 : index
// T16:         scf.parallel (%[[I:.*]], %[[N:.*]]) = (%c0, %c0) to (%[[BH]], %{{.*}}) step (%c1, %c1) {
// T16:           scf.parallel (%{{.*}}, %{{.*}}, %[[F:.*]]) = (%c0, %c0, %c0) to (%{{.*}}, %{{.*}}, %c8) step (%c1, %c1, %c1) {
// T16:             arith.remsi %{{.*}}, %c4
// T16:             arith.divsi %{{.*}}, %c4
// T16:             memref.store {{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[F]]] : memref<?x4x?x8xf32>
func.func @projection(%B: index, %N: index, %out: memref<?x4x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%b, %h, %n, %f) = (%c0, %c0, %c0, %c0) to (%B, %c4, %N, %c8) step (%c1, %c1, %c1, %c1) {
    memref.store %cst, %out[%b, %h, %n, %f] : memref<?x4x?x8xf32>
    scf.reduce
  }
  return
}
