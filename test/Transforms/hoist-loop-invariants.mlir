// RUN: attn-opt %s --attn-hoist-loop-invariants | FileCheck %s

// Loop-invariant code motion that leaves the amx dialect's ops in place:
// the constant and the invariant arithmetic leave both loops (as upstream's
// -loop-invariant-code-motion does), the amx.tile_zero stays in the key
// loop that uses it (upstream would hoist it out of the parallel loop, and
// LLVM could not pass it into the outlined OpenMP body).

// CHECK-LABEL: func.func @tiles_stay
// CHECK-SAME:    (%[[N:.*]]: index, %[[X:.*]]: f32, %[[OUT:.*]]: memref<16x16xf32>, %[[F:.*]]: memref<?xf32>)
// CHECK:         %[[TWO:.*]] = arith.constant 2.000000e+00
// CHECK:         %[[Y:.*]] = arith.mulf %[[X]], %[[TWO]]
// CHECK:         scf.parallel
// CHECK:           scf.for
// CHECK-NEXT:        %[[Z:.*]] = amx.tile_zero : vector<16x16xf32>
// CHECK-NEXT:        amx.tile_store %[[OUT]][%{{.*}}, %{{.*}}], %[[Z]]
// CHECK-NEXT:        memref.store %[[Y]], %[[F]]
func.func @tiles_stay(%n: index, %x: f32, %out: memref<16x16xf32>,
                      %f: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.for %j = %c0 to %n step %c1 {
      %two = arith.constant 2.0 : f32
      %y = arith.mulf %x, %two : f32
      %z = amx.tile_zero : vector<16x16xf32>
      amx.tile_store %out[%c0, %c0], %z : memref<16x16xf32>, vector<16x16xf32>
      memref.store %y, %f[%j] : memref<?xf32>
    }
    scf.reduce
  }
  return
}
