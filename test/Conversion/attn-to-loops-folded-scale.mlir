// RUN: attn-opt %s "--convert-attn-to-loops=query-tiles-per-group=1 split-keys=false" | FileCheck %s
//
// The f32 blocked kernel with a positive constant scale and nothing else
// between the products and the softmax: pass 1 stores the products and
// takes their maxima without scaling them (one vmulps fewer per 16
// scores), the tile's maxima are scaled once, and pass 2 computes
// exp(scale s - m) as 2^(s (scale log2 e) - m log2 e), the scaling in the
// exponential's first FMA. (The same on the AMX tile unit:
// attn-to-loops-amx-folded-scale.mlir; a scale given at run time keeps
// pass 1's multiply: @runtime_scale below.)

// CHECK-LABEL: func @folded
// Pass 1, a whole tile: FMAs over d, then the products stored as they
// are and their maxima.
// CHECK:        scf.if
// CHECK:          scf.for
// CHECK:            scf.for
// CHECK:              vector.fma
// CHECK:            }
// CHECK-NOT:        arith.mulf
// CHECK:            vector.store
// CHECK-NEXT:       arith.maxnumf
// CHECK:        } else {
// The tile's maxima scaled once.
// CHECK:        arith.constant 1.250000e-01 : f32
// CHECK:        arith.mulf
// Pass 2: the scale in the first FMA.
// CHECK:        arith.constant 0.180336878 : f32
// CHECK:        scf.for
// CHECK:          %[[SV:.*]] = vector.load
// CHECK:          vector.fma %[[SV]], %{{.*}}, %{{.*}} : vector<16xf32>
func.func @folded(%q: memref<1x1x?x64xf32>, %k: memref<1x1x?x64xf32>,
                  %v: memref<1x1x?x64xf32>, %c: memref<1x?x1x64xf32>) {
  %s = arith.constant 0.125 : f32
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x1x?x64xf32>, memref<1x1x?x64xf32>, memref<1x1x?x64xf32>)
      scale(%s) outs(%c : memref<1x?x1x64xf32>)
  return
}

// A scale known only at run time (it could be negative): pass 1 scales.
// CHECK-LABEL: func @runtime_scale
// CHECK:        scf.if
// CHECK:          scf.for
// CHECK:            scf.for
// CHECK:              vector.fma
// CHECK:            }
// CHECK:            arith.mulf
// CHECK:            vector.store
// CHECK-NEXT:       arith.maxnumf
func.func @runtime_scale(%q: memref<1x1x?x64xf32>, %k: memref<1x1x?x64xf32>,
                         %v: memref<1x1x?x64xf32>, %c: memref<1x?x1x64xf32>,
                         %s: f32) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x1x?x64xf32>, memref<1x1x?x64xf32>, memref<1x1x?x64xf32>)
      scale(%s) outs(%c : memref<1x?x1x64xf32>)
  return
}
