// RUN: attn-opt %s --attn-group-query-heads | FileCheck %s
//
// One query per head and grouped-query heads (8 query heads, 2 key/value
// heads): the 4 query heads of a group become 4 queries of their key head.
// Only views change: the queries [B, 8, 1, D] and the weights and
// log-sum-exp are row-major [B, 2, 4, ..]; the context [B, 1, 8, Dv] is
// seen as [B, 4, 2, Dv] with strides [8 Dv, Dv, 4 Dv, 1] (query r of head
// hk is query head 4 hk + r). The causal mask of one query masks nothing
// and is dropped.

// CHECK-LABEL: func @decode
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x8x1x64xf32>, %[[K:[^:]*]]: memref<?x2x?x64xf32>, %[[V:[^:]*]]: memref<?x2x?x64xf32>, %[[S:[^:]*]]: f32, %[[C:[^:]*]]: memref<?x1x8x64xf32>, %[[W:[^:]*]]: memref<?x8x1x?xf32>, %[[Z:[^:]*]]: memref<?x8x1xf32>)
// CHECK:      %[[QG:.*]] = memref.reinterpret_cast %[[Q]] to offset: [0], sizes: [%{{.*}}, 2, 4, 64], strides: [512, 256, 64, 1] : memref<?x8x1x64xf32> to memref<?x2x4x64xf32>
// CHECK:      %[[CG:.*]] = memref.reinterpret_cast %[[C]] to offset: [0], sizes: [%{{.*}}, 4, 2, 64], strides: [512, 64, 256, 1] : memref<?x1x8x64xf32> to memref<?x4x2x64xf32, strided<[512, 64, 256, 1]>>
// The weights' strides depend on N_k: 8 N_k, 4 N_k, N_k.
// CHECK:      %[[NK:.*]] = memref.dim %[[W]], %c3
// CHECK:      %[[S0:.*]] = arith.muli %c8, %[[NK]]
// CHECK:      %[[S1:.*]] = arith.muli %c4, %[[NK]]
// CHECK:      %[[WG:.*]] = memref.reinterpret_cast %[[W]] to offset: [0], sizes: [%{{.*}}, 2, 4, %{{.*}}], strides: [%[[S0]], %[[S1]], %[[NK]], 1] : memref<?x8x1x?xf32> to memref<?x2x4x?xf32>
// CHECK:      %[[ZG:.*]] = memref.reinterpret_cast %[[Z]] to offset: [0], sizes: [%{{.*}}, 2, 4], strides: [8, 4, 1] : memref<?x8x1xf32> to memref<?x2x4xf32>
// CHECK:      attn.online_attention dot ins(%[[QG]], %[[K]], %[[V]] : memref<?x2x4x64xf32>, memref<?x2x?x64xf32>, memref<?x2x?x64xf32>) scale(%[[S]]) outs(%[[CG]] : memref<?x4x2x64xf32, strided<[512, 64, 256, 1]>>) weights(%[[WG]] : memref<?x2x4x?xf32>) lse(%[[ZG]] : memref<?x2x4xf32>)
func.func @decode(%q: memref<?x8x1x64xf32>, %k: memref<?x2x?x64xf32>,
                  %v: memref<?x2x?x64xf32>, %s: f32,
                  %c: memref<?x1x8x64xf32>, %w: memref<?x8x1x?xf32>,
                  %z: memref<?x8x1xf32>) {
  attn.online_attention dot causal
      ins(%q, %k, %v : memref<?x8x1x64xf32>, memref<?x2x?x64xf32>, memref<?x2x?x64xf32>)
      scale(%s) outs(%c : memref<?x1x8x64xf32>)
      weights(%w : memref<?x8x1x?xf32>) lse(%z : memref<?x8x1xf32>)
  return
}

// Left as they are: a window (it depends on the query's position), several
// queries per head, as many key heads as query heads, an additive score
// (its weights may be per query head).
// CHECK-LABEL: func @not_grouped
// CHECK-NOT:   memref.reinterpret_cast
// CHECK:       attn.online_attention dot window(4) ins(%{{.*}} : memref<1x8x1x16xf32>,
// CHECK:       attn.online_attention dot ins(%{{.*}} : memref<1x8x3x16xf32>,
// CHECK:       attn.online_attention dot ins(%{{.*}} : memref<1x2x1x16xf32>,
// CHECK:       attn.online_attention additive
func.func @not_grouped(%q: memref<1x8x1x16xf32>, %q3: memref<1x8x3x16xf32>,
                       %q2: memref<1x2x1x16xf32>, %k: memref<1x2x?x16xf32>,
                       %c: memref<1x1x8x16xf32>, %c3: memref<1x3x8x16xf32>,
                       %c2: memref<1x1x2x16xf32>, %wa: memref<16xf32>) {
  attn.online_attention dot window(4)
      ins(%q, %k, %k : memref<1x8x1x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>)
      outs(%c : memref<1x1x8x16xf32>)
  attn.online_attention dot
      ins(%q3, %k, %k : memref<1x8x3x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>)
      outs(%c3 : memref<1x3x8x16xf32>)
  attn.online_attention dot
      ins(%q2, %k, %k : memref<1x2x1x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>)
      outs(%c2 : memref<1x1x2x16xf32>)
  attn.online_attention additive act(tanh)
      ins(%q, %k, %k : memref<1x8x1x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>)
      score_weights(%wa : memref<16xf32>)
      outs(%c : memref<1x1x8x16xf32>)
  return
}
