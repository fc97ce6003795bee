// RUN: attn-opt %s | FileCheck %s
// RUN: attn-opt %s | attn-opt | FileCheck %s
//
// The interval masks on the attention ops round-trip: `causal_offset(o)`,
// `window(W)` (attributes) and `prefix(%P)` (an i32 [B] operand), on
// attn.attention (tensors and memrefs), attn.online_attention and the
// tile-level ops.

// CHECK-LABEL: func @attention_masks
// CHECK: attn.attention scaled_dot align(softmax) causal causal_offset(-3) window(256) ins(
// CHECK-SAME: lengths(%{{.*}} : tensor<?xi32>) outs(
// CHECK: attn.attention dot align(softmax) causal ins(
// CHECK-SAME: prefix(%{{.*}} : memref<?xi32>) outs(
func.func @attention_masks(%q: tensor<?x1x?x16xf32>, %k: tensor<?x1x?x16xf32>, %l: tensor<?xi32>, %c: tensor<?x?x1x16xf32>,
                           %qm: memref<?x1x?x16xf32>, %p: memref<?xi32>, %cm: memref<?x?x1x16xf32>) -> tensor<?x?x1x16xf32> {
  %r = attn.attention scaled_dot align(softmax) causal causal_offset(-3) window(256)
      ins(%q, %k, %k : tensor<?x1x?x16xf32>, tensor<?x1x?x16xf32>, tensor<?x1x?x16xf32>)
      lengths(%l : tensor<?xi32>) outs(%c : tensor<?x?x1x16xf32>) -> tensor<?x?x1x16xf32>
  attn.attention dot align(softmax) causal
      ins(%qm, %qm, %qm : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      prefix(%p : memref<?xi32>) outs(%cm : memref<?x?x1x16xf32>)
  return %r : tensor<?x?x1x16xf32>
}

// CHECK-LABEL: func @online_masks
// CHECK: attn.online_attention dot causal causal_offset(2) ins(
// CHECK-SAME: prefix(%{{.*}} : memref<?xi32>) outs(
// CHECK: attn.online_attention dot window(7) ins(
func.func @online_masks(%q: memref<?x1x?x16xf32>, %p: memref<?xi32>, %c: memref<?x?x1x16xf32>) {
  attn.online_attention dot causal causal_offset(2)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      prefix(%p : memref<?xi32>) outs(%c : memref<?x?x1x16xf32>)
  attn.online_attention dot window(7)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// CHECK-LABEL: func @tile_masks
// CHECK: attn.online_softmax_update dot causal causal_offset(-1) key_tile(64) {{.*}} key_end(%{{.*}}) prefix_end(%{{.*}}) state(
// CHECK: attn.tile_weights dot window(3) query(
func.func @tile_masks(%q: memref<?x1x?x16xf32>, %i: index, %m: vector<4xf32>, %acc: vector<4x16xf32>, %a: memref<?x1x?x?xf32>) {
  %m1, %l1, %acc1 = attn.online_softmax_update dot causal causal_offset(-1) key_tile(64)
      query(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      keys(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      values(%q[%i, %i] : memref<?x1x?x16xf32>)
      key_end(%i) prefix_end(%i)
      state(%m, %m, %acc : vector<4xf32>, vector<4xf32>, vector<4x16xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x16xf32>
  attn.tile_weights dot window(3)
      query(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      keys(%q[%i, %i] : memref<?x1x?x16xf32>)
      key_end(%i)
      state(%m1, %l1 : vector<4xf32>, vector<4xf32>)
      outs(%a[%i] : memref<?x1x?x?xf32>)
  return
}

// The log-sum-exp output [B, Hq, Nq]: a third init of attn.attention (a
// result on tensors), an operand of attn.online_attention, and of
// attn.tile_finalize with the running maximum.
// CHECK-LABEL: func @lse
// CHECK: %{{.*}}:2 = attn.attention dot align(softmax) ins({{.*}}) outs(%{{.*}} : tensor<?x?x1x16xf32>) lse(%{{.*}} : tensor<?x1x?xf32>) -> tensor<?x?x1x16xf32>, tensor<?x1x?xf32>
// CHECK: attn.online_attention dot ins({{.*}}) outs(%{{.*}} : memref<?x?x1x16xf32>) lse(%{{.*}} : memref<?x1x?xf32>)
// CHECK: attn.tile_finalize ins({{.*}}) outs({{.*}}) lse(%{{.*}} : vector<4xf32>) into(%{{.*}} : memref<?x1x?xf32>)
func.func @lse(%q: tensor<?x1x?x16xf32>, %c: tensor<?x?x1x16xf32>, %z: tensor<?x1x?xf32>,
               %qm: memref<?x1x?x16xf32>, %cm: memref<?x?x1x16xf32>, %zm: memref<?x1x?xf32>,
               %i: index, %m: vector<4xf32>, %acc: vector<4x16xf32>) {
  %r:2 = attn.attention dot align(softmax)
      ins(%q, %q, %q : tensor<?x1x?x16xf32>, tensor<?x1x?x16xf32>, tensor<?x1x?x16xf32>)
      outs(%c : tensor<?x?x1x16xf32>) lse(%z : tensor<?x1x?xf32>) -> tensor<?x?x1x16xf32>, tensor<?x1x?xf32>
  attn.online_attention dot
      ins(%qm, %qm, %qm : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%cm : memref<?x?x1x16xf32>) lse(%zm : memref<?x1x?xf32>)
  attn.tile_finalize ins(%m, %acc : vector<4xf32>, vector<4x16xf32>)
      outs(%cm[%i, %i, %i] : memref<?x?x1x16xf32>) lse(%m : vector<4xf32>) into(%zm : memref<?x1x?xf32>)
  return
}
