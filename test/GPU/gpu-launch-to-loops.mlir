// RUN: attn-opt %s --attn-gpu-launch-to-loops --split-input-file --verify-diagnostics | FileCheck %s

// A grid of one-thread blocks over (batch, tile): a loop nest z, y, x over
// the grid, then over the block; the block ids are the induction variables,
// the grid sizes the launch's operands; the private buffer is made once,
// before the nest.
// CHECK-LABEL: func.func @grid
// CHECK-SAME:      (%[[B:.*]]: index, %[[T:.*]]: index, %[[OUT:.*]]: memref<?x?xf32>)
// CHECK:         %[[ONE:.*]] = arith.constant 1 : index
// CHECK:         %[[BUF:.*]] = memref.alloca() : memref<8xf32>
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[STEP:.*]] = arith.constant 1 : index
// CHECK:         scf.for %[[Z:.*]] = %[[C0]] to %[[ONE]] step %[[STEP]] {
// CHECK-NEXT:      scf.for %[[Y:.*]] = %[[C0]] to %[[T]] step %[[STEP]] {
// CHECK-NEXT:        scf.for %[[X:.*]] = %[[C0]] to %[[B]] step %[[STEP]] {
// CHECK-NEXT:          scf.for %{{.*}} = %[[C0]] to %[[ONE]] step %[[STEP]] {
// CHECK-NEXT:            scf.for %{{.*}} = %[[C0]] to %[[ONE]] step %[[STEP]] {
// CHECK-NEXT:              scf.for %{{.*}} = %[[C0]] to %[[ONE]] step %[[STEP]] {
// CHECK-NOT:                 memref.alloca
// CHECK:                     %[[I:.*]] = arith.muli %[[Y]], %{{.*}} : index
// CHECK-NEXT:                arith.index_cast %[[X]] : index to i32
// CHECK:                     memref.store %{{.*}}, %[[BUF]][%{{.*}}] : memref<8xf32>
// CHECK:                     memref.store %{{.*}}, %[[OUT]][%[[X]], %[[I]]] : memref<?x?xf32>
// CHECK-NOT:   gpu.
func.func @grid(%B: index, %T: index, %out: memref<?x?xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %B, %gy = %T, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %buf = memref.alloca() : memref<8xf32>
    %c8 = arith.constant 8 : index
    %c0 = arith.constant 0 : index
    %i0 = arith.muli %by, %c8 : index
    %v = arith.index_cast %bx : index to i32
    %f = arith.sitofp %v : i32 to f32
    memref.store %f, %buf[%c0] : memref<8xf32>
    %g = memref.load %buf[%c0] : memref<8xf32>
    memref.store %g, %out[%bx, %i0] : memref<?x?xf32>
    gpu.terminator
  }
  return
}

// -----

// Barriers have no sequential form.
func.func @barrier(%n: index) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{attn-gpu-launch-to-loops: a launch with barriers has no sequential form}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %n, %sy = %c1, %sz = %c1) {
    gpu.barrier
    gpu.terminator
  }
  return
}
