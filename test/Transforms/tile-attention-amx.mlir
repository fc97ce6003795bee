// RUN: attn-opt %s "--attn-tile-attention=split-keys=false amx-tiles=true" | FileCheck %s
// RUN: attn-opt %s "--attn-tile-attention=split-keys=false" | FileCheck %s --check-prefix=VECTOR
//
// With amx-tiles (the kernels take bf16 products on the AMX tile unit), a
// dot softmax whose tiles are whole (D a multiple of 32, Dv of 16) is tiled
// in query tiles of the tile unit's 16 rows (the host's amxQueryTile), in
// groups of at most 8 tiles: 128 queries, as the default groups of 16
// tiles of 8. A D of 7 (@odd) keeps tiles of 8 rows, and so does every op
// without the option (VECTOR).

// CHECK-LABEL: func @whole
// CHECK:      arith.divui %{{.*}}, %c16
// CHECK-NEXT: arith.addi %{{.*}}, %c7
// CHECK-NEXT: arith.divui %{{.*}}, %c8
// CHECK:      scf.parallel ({{.*}}) step (%c1, %c1, %c1) {
// CHECK:        memref.alloc() : memref<8x16xf32>
// CHECK:        memref.alloc() : memref<8x16xf32>
// CHECK:        memref.alloc() : memref<8x16x32xf32>
// CHECK:        attn.online_softmax_update {{.*}} state({{.*}} : vector<16xf32>, vector<16xf32>, vector<16x32xf32>)
// CHECK-LABEL: func @odd
// CHECK:      arith.divui %{{.*}}, %c8
// CHECK-NEXT: arith.addi %{{.*}}, %c15
// CHECK-NEXT: arith.divui %{{.*}}, %c16
// CHECK:      scf.parallel ({{.*}}) step (%c1, %c1, %c1) {
// CHECK:        memref.alloc() : memref<16x8xf32>
// CHECK:        attn.online_softmax_update {{.*}} state({{.*}} : vector<8xf32>, vector<8xf32>, vector<8x32xf32>)

// VECTOR-LABEL: func @whole
// VECTOR:        memref.alloc() : memref<16x8xf32>
// VECTOR:        attn.online_softmax_update {{.*}} state({{.*}} : vector<8xf32>, vector<8xf32>, vector<8x32xf32>)
func.func @whole(%q: memref<2x4x?x64xf32>, %k: memref<2x4x?x64xf32>,
                 %v: memref<2x4x?x32xf32>, %s: f32,
                 %c: memref<2x?x4x32xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<2x4x?x64xf32>, memref<2x4x?x64xf32>, memref<2x4x?x32xf32>)
      scale(%s) outs(%c : memref<2x?x4x32xf32>)
  return
}

func.func @odd(%q: memref<2x4x?x7xf32>, %k: memref<2x4x?x7xf32>,
               %v: memref<2x4x?x32xf32>, %s: f32,
               %c: memref<2x?x4x32xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<2x4x?x7xf32>, memref<2x4x?x7xf32>, memref<2x4x?x32xf32>)
      scale(%s) outs(%c : memref<2x?x4x32xf32>)
  return
}
