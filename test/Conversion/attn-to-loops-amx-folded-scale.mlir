// RUN: attn-opt %s "--convert-attn-to-loops=bf16-dot-products=true amx-tiles=true" | FileCheck %s
//
// On the AMX tile unit, with a positive constant scale and nothing else
// between the products and the softmax (no bias, activation, cosine norms
// or modifiers), the scale is not applied in pass 1: on a whole, unmasked
// tile pass 1 only takes the maxima of the products the tile unit stored
// (nothing is stored back), the tile's maxima are scaled once, and pass 2
// computes exp(scale s - m) as 2^(s (scale log2 e) - m log2 e), the
// scaling in the exponential's first FMA, and the shorter polynomial of
// probabilities rounded to bf16. A masked tile still stores its selects. (A scale given at run time keeps pass 1's multiply:
// attn-to-loops-amx.mlir.)

// CHECK-LABEL: func @folded
// CHECK:      scf.parallel
// CHECK-DAG:    %[[S:.*]] = memref.alloc() : memref<16x128xf32>
// CHECK:        amx.tile_store %[[S]]
// Pass 1, a whole tile: the stored products, their maxima.
// CHECK:        scf.if
// CHECK:          scf.for
// CHECK:            vector.load %[[S]]
// CHECK-NOT:        vector.store
// CHECK-NOT:        arith.mulf
// CHECK:            arith.maxnumf
// CHECK:        } else {
// A masked tile: the selects stored.
// CHECK:            arith.select
// CHECK:            vector.store %{{.*}}, %[[S]]
// The tile's maxima scaled once.
// CHECK:        arith.constant 1.250000e-01 : f32
// CHECK:        arith.mulf
// Pass 2.
// CHECK:        arith.constant 0.180336878 : f32
// CHECK:        scf.for
// CHECK:          %[[SV:.*]] = vector.load %[[S]]
// CHECK:          vector.fma %[[SV]], %{{.*}}, %{{.*}} : vector<16xf32>
// The probabilities are rounded to bf16 next: 2^r by the polynomial of
// degree 3 (ExpPrecision::BF16; coefficients times 2^27), three FMAs.
// CHECK:          arith.subf
// CHECK:          arith.constant 0x4AE1FBB0 : f32
// CHECK:          vector.fma
// CHECK-NEXT:     arith.constant 0x4CB1798D : f32
// CHECK-NEXT:     vector.broadcast
// CHECK-NEXT:     vector.fma
// CHECK-NEXT:     arith.constant 0x4CFFFB49 : f32
// CHECK-NEXT:     vector.broadcast
// CHECK-NEXT:     vector.fma
// CHECK-NEXT:     arith.bitcast
// CHECK:          arith.mulf
// CHECK-NEXT:     arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
func.func @folded(%q: memref<2x4x?x64xf32>, %k: memref<2x2x?x64xf32>,
                  %v: memref<2x2x?x32xf32>, %c: memref<2x?x4x32xf32>) {
  %s = arith.constant 0.125 : f32
  attn.online_attention dot causal
      ins(%q, %k, %v : memref<2x4x?x64xf32>, memref<2x2x?x64xf32>, memref<2x2x?x32xf32>)
      scale(%s) outs(%c : memref<2x?x4x32xf32>)
  return
}
