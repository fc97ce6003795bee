// RUN: attn-opt %s | FileCheck %s
// RUN: attn-opt %s | attn-opt | FileCheck %s
//
// The alignments round-trip: align(sigmoid) / align(argmax) on
// attn.attention, attn.online_attention and the tile-level ops (elided there
// when softmax, the default).

// CHECK-LABEL: func @alignments
// CHECK: attn.attention scaled_dot align(sigmoid) causal ins(
// CHECK: attn.attention dot align(argmax) ins(
// CHECK-SAME: weights(
// CHECK: attn.online_attention dot align(sigmoid) window(3) ins(
// CHECK: attn.online_attention dot align(argmax) ins(
// CHECK: attn.online_attention dot causal ins(
// CHECK: attn.attention dot align(hard) seed(42) causal ins(
// CHECK: attn.online_attention dot align(hard) seed(7) ins(
func.func @alignments(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %w: memref<?x1x?x?xf32>) {
  attn.attention scaled_dot align(sigmoid) causal
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  attn.attention dot align(argmax)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) weights(%w : memref<?x1x?x?xf32>)
  attn.online_attention dot align(sigmoid) window(3)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  attn.online_attention dot align(argmax)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  attn.online_attention dot align(softmax) causal
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  attn.attention dot align(hard) seed(42) causal
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  attn.online_attention dot align(hard) seed(7)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// CHECK-LABEL: func @tile_ops
// CHECK: attn.online_softmax_update dot align(argmax) key_tile(64)
// CHECK: attn.tile_weights dot align(sigmoid) query(
// CHECK: attn.online_softmax_update dot align(hard) seed(9) key_tile(16)
// CHECK-SAME: sample_batch(%{{.*}}) state(
// CHECK: attn.tile_weights dot align(hard) seed(9) query(
func.func @tile_ops(%q: memref<2x4x?x8xf32>, %v: memref<2x4x?x4xf32>, %b: index, %i: index, %e: index,
                    %m: vector<4xf32>, %l: vector<4xf32>, %acc: vector<4x4xf32>, %w: memref<2x4x?x?xf32>) {
  %m1, %l1, %a1 = attn.online_softmax_update dot align(argmax) key_tile(64)
      query(%q[%b, %b, %i] : memref<2x4x?x8xf32>)
      keys(%q[%b, %b, %i] : memref<2x4x?x8xf32>)
      values(%v[%b, %b] : memref<2x4x?x4xf32>)
      key_end(%e)
      state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
  attn.tile_weights dot align(sigmoid)
      query(%q[%b, %b, %i] : memref<2x4x?x8xf32>)
      keys(%q[%b, %b] : memref<2x4x?x8xf32>)
      key_end(%e)
      state(%m1, %l1 : vector<4xf32>, vector<4xf32>)
      outs(%w[%b] : memref<2x4x?x?xf32>)
  %m2, %l2, %a2 = attn.online_softmax_update dot align(hard) seed(9) key_tile(16)
      query(%q[%b, %b, %i] : memref<2x4x?x8xf32>)
      keys(%q[%b, %b, %i] : memref<2x4x?x8xf32>)
      values(%v[%b, %b] : memref<2x4x?x4xf32>)
      key_end(%e) sample_batch(%b)
      state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
  attn.tile_weights dot align(hard) seed(9)
      query(%q[%b, %b, %i] : memref<2x4x?x8xf32>)
      keys(%q[%b, %b] : memref<2x4x?x8xf32>)
      key_end(%e)
      state(%m2, %l2 : vector<4xf32>, vector<4xf32>)
      outs(%w[%b] : memref<2x4x?x?xf32>)
  return
}
