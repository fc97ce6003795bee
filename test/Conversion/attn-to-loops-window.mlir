// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s
// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s --check-prefix=GENERIC
//
// The partial key tiles of a window are masked per key by the kernels: the
// blocked dot kernel (static D) selects -inf where a lane's key is outside
// [begin_r, end_r) (two lane-wise compares); the generic kernel (dynamic D)
// runs its score, exp and accumulation loops from the row's first visible
// key of the tile, max(begin - j0, 0) clamped to the count, to the count.

// CHECK-LABEL: func @blocked_window
// CHECK:     scf.for %[[J0:[^ ]*]] =
// CHECK:       %[[LANES:.*]] = arith.addi %{{.*}}, %{{.*}} : vector<16xindex>
// CHECK:       %[[BELOW:.*]] = arith.cmpi slt, %[[LANES]], %{{.*}} : vector<16xindex>
// CHECK:       %[[ABOVE:.*]] = arith.cmpi sge, %[[LANES]], %{{.*}} : vector<16xindex>
// CHECK:       %[[VIS:.*]] = arith.andi %[[BELOW]], %[[ABOVE]] : vector<16xi1>
// CHECK:       arith.select %[[VIS]], %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xf32>
func.func @blocked_window(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot window(256)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}

// GENERIC-LABEL: func @generic_window
// GENERIC:     scf.for %[[J0:[^ ]*]] = %{{.*}} to %{{.*}} step %c128
// GENERIC:       %[[C:.*]] = arith.subi %{{.*}}, %[[J0]] : index
// GENERIC:       %[[C1:.*]] = arith.minsi %c128{{.*}}, %[[C]] : index
// GENERIC:       %[[COUNT:.*]] = arith.maxsi %[[C1]], %{{.*}} : index
// GENERIC:       %[[F:.*]] = arith.subi %{{.*}}, %[[J0]] : index
// GENERIC:       %[[F1:.*]] = arith.maxsi %[[F]], %{{.*}} : index
// GENERIC:       %[[FIRST:.*]] = arith.minsi %[[F1]], %[[COUNT]] : index
// GENERIC:       scf.for %{{.*}} = %[[FIRST]] to %[[COUNT]] step
func.func @generic_window(%q: memref<2x1x?x?xf32>, %c: memref<2x?x1x?xf32>) {
  attn.online_attention dot window(256)
      ins(%q, %q, %q : memref<2x1x?x?xf32>, memref<2x1x?x?xf32>, memref<2x1x?x?xf32>)
      outs(%c : memref<2x?x1x?xf32>)
  return
}
