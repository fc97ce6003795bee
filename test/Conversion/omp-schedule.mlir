// RUN: attn-opt %s --convert-scf-to-openmp --attn-omp-schedule | FileCheck %s
// RUN: attn-opt %s --convert-scf-to-openmp "--attn-omp-schedule=chunk=4" | FileCheck %s --check-prefix=CHUNK4
// RUN: not attn-opt %s --convert-scf-to-openmp "--attn-omp-schedule=chunk=0" 2>&1 | FileCheck %s --check-prefix=BAD
//
// The parallel loop of the tiled form, once an omp.wsloop, gets a cyclic
// static schedule: the threads take the (batch, head, query tile)
// iterations in turn, which balances tiles of different cost (causal). Its
// omp.parallel runs only when the loop nest has iterations (libomp's
// chunked static schedule divides by the trip count).

// CHECK-LABEL: func @tiles
// CHECK-SAME:    (%[[HEADS:[^:]*]]: index, %[[TILES:[^:]*]]: index
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[H:.*]] = arith.cmpi slt, %[[C0]], %[[HEADS]] : index
// CHECK:         %[[T:.*]] = arith.cmpi slt, %[[C0]], %[[TILES]] : index
// CHECK:         %[[ANY:.*]] = arith.andi %[[H]], %[[T]] : i1
// CHECK:         scf.if %[[ANY]] {
// CHECK-NEXT:      omp.parallel
// CHECK:           %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK-NEXT:      omp.wsloop schedule(static = %[[ONE]] : i64) {
// CHECK-NEXT:        omp.loop_nest (%{{.*}}, %{{.*}}) : index
// CHUNK4:          %[[FOUR:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHUNK4-NEXT:     omp.wsloop schedule(static = %[[FOUR]] : i64) {
// BAD: error: attn-omp-schedule: chunk must be at least 1, not 0
func.func @tiles(%heads: index, %tiles: index, %out: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%h, %i) = (%c0, %c0) to (%heads, %tiles) step (%c1, %c8) {
    memref.store %one, %out[%h, %i] : memref<?x?xf32>
  }
  return
}

// A schedule already chosen is kept.
// CHECK-LABEL: func @chosen
// CHECK-NOT:     scf.if
// CHECK:         omp.wsloop schedule(dynamic) {
// CHECK-NOT:     schedule(static
func.func @chosen(%n: index, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop schedule(dynamic) {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        memref.store %one, %out[%i] : memref<?xf32>
        omp.yield
      }
      omp.terminator
    }
    omp.terminator
  }
  return
}
