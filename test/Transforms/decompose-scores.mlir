// RUN: attn-opt %s --attn-decompose-scores | FileCheck %s
// RUN: attn-opt %s --attn-decompose-scores | FileCheck %s --check-prefix=GONE
//
// -attn-decompose-scores rewrites each attn.attention into attn.linear ops
// (into buffers allocated right before and freed right after) and one
// attn.online_attention, for each of the 7 score kinds of Table 2.

// GONE-NOT: attn.attention

//===----------------------------------------------------------------------===//
// dot, cosine: unchanged scores; masks and outputs pass through
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @dot
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x4x?x16xf32>, %[[K:[^:]*]]: memref<?x4x?x16xf32>, %[[V:[^:]*]]: memref<?x4x?x8xf32>, %[[L:[^:]*]]: memref<?xi32>, %[[C:[^:]*]]: memref<?x?x4x8xf32>, %[[A:[^:]*]]: memref<?x4x?x?xf32>)
// CHECK-NEXT: attn.online_attention dot causal ins(%[[Q]], %[[K]], %[[V]] : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x8xf32>) lengths(%[[L]] : memref<?xi32>) outs(%[[C]] : memref<?x?x4x8xf32>) weights(%[[A]] : memref<?x4x?x?xf32>){{$}}
// CHECK-NEXT: return
func.func @dot(%q: memref<?x4x?x16xf32>, %k: memref<?x4x?x16xf32>,
               %v: memref<?x4x?x8xf32>, %len: memref<?xi32>,
               %c: memref<?x?x4x8xf32>, %a: memref<?x4x?x?xf32>) {
  attn.attention dot align(softmax) causal
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x8xf32>)
      lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x4x8xf32>) weights(%a : memref<?x4x?x?xf32>)
  return
}

// CHECK-LABEL: func @cosine
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x1x3x8xf32>, %[[K:[^:]*]]: memref<2x1x5x8xf32>, %[[V:[^:]*]]: memref<2x1x5x4xf32>, %[[C:[^:]*]]: memref<2x3x1x4xf32>)
// CHECK-NEXT: attn.online_attention cosine ins(%[[Q]], %[[K]], %[[V]] : memref<2x1x3x8xf32>, memref<2x1x5x8xf32>, memref<2x1x5x4xf32>) outs(%[[C]] : memref<2x3x1x4xf32>){{$}}
// CHECK-NEXT: return
func.func @cosine(%q: memref<2x1x3x8xf32>, %k: memref<2x1x5x8xf32>,
                  %v: memref<2x1x5x4xf32>, %c: memref<2x3x1x4xf32>) {
  attn.attention cosine align(softmax)
      ins(%q, %k, %v : memref<2x1x3x8xf32>, memref<2x1x5x8xf32>, memref<2x1x5x4xf32>)
      outs(%c : memref<2x3x1x4xf32>)
  return
}

// CHECK-LABEL: func @neg_sq_euclidean
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x1x3x8xf32>, %[[K:[^:]*]]: memref<2x1x5x8xf32>, %[[V:[^:]*]]: memref<2x1x5x4xf32>, %[[C:[^:]*]]: memref<2x3x1x4xf32>)
// CHECK-NEXT: attn.online_attention neg_sq_euclidean ins(%[[Q]], %[[K]], %[[V]] : memref<2x1x3x8xf32>, memref<2x1x5x8xf32>, memref<2x1x5x4xf32>) outs(%[[C]] : memref<2x3x1x4xf32>){{$}}
// CHECK-NEXT: return
func.func @neg_sq_euclidean(%q: memref<2x1x3x8xf32>, %k: memref<2x1x5x8xf32>,
                            %v: memref<2x1x5x4xf32>, %c: memref<2x3x1x4xf32>) {
  attn.attention neg_sq_euclidean align(softmax)
      ins(%q, %k, %v : memref<2x1x3x8xf32>, memref<2x1x5x8xf32>, memref<2x1x5x4xf32>)
      outs(%c : memref<2x3x1x4xf32>)
  return
}

//===----------------------------------------------------------------------===//
// scaled_dot: dot with scale = 1 / sqrt(Dk)
//===----------------------------------------------------------------------===//

// A static Dk gives a constant: 1/sqrt(16) = 0.25.
// CHECK-LABEL: func @scaled_dot_static
// CHECK-SAME: (%[[Q:[^:]*]]: {{[^,]*}}, %[[K:[^:]*]]: {{[^,]*}}, %[[V:[^:]*]]: {{[^,]*}}, %[[C:[^:]*]]: memref<?x?x4x8xf32>)
// CHECK-NEXT: %[[S:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-NEXT: attn.online_attention dot causal ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) scale(%[[S]]) outs(%[[C]] : memref<?x?x4x8xf32>){{$}}
// CHECK-NEXT: return
func.func @scaled_dot_static(%q: memref<?x4x?x16xf32>, %k: memref<?x4x?x16xf32>,
                             %v: memref<?x4x?x8xf32>, %c: memref<?x?x4x8xf32>) {
  attn.attention scaled_dot align(softmax) causal
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x8xf32>)
      outs(%c : memref<?x?x4x8xf32>)
  return
}

// 1/sqrt(3) = 0.57735026...
// CHECK-LABEL: func @scaled_dot_static_3
// CHECK-NEXT: %[[S:.*]] = arith.constant 0.577350{{[0-9]*}} : f32
// CHECK-NEXT: attn.online_attention dot ins({{.*}}) scale(%[[S]]) outs(
func.func @scaled_dot_static_3(%q: memref<1x1x2x3xf32>, %k: memref<1x1x?x3xf32>,
                               %v: memref<1x1x?x3xf32>, %c: memref<1x2x1x3xf32>) {
  attn.attention scaled_dot align(softmax)
      ins(%q, %k, %v : memref<1x1x2x3xf32>, memref<1x1x?x3xf32>, memref<1x1x?x3xf32>)
      outs(%c : memref<1x2x1x3xf32>)
  return
}

// A dynamic Dk (dim 3 of the keys) gives math.rsqrt at run time, and 1 for
// Dk = 0 (the dot products are then 0 and must not become 0 * inf).
// CHECK-LABEL: func @scaled_dot_dynamic
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x?x?x?xf32>, %[[K:[^:]*]]: memref<?x?x?x?xf32>, %[[V:[^:]*]]: memref<?x?x?x?xf32>, %[[C:[^:]*]]: memref<?x?x?x?xf32>)
// CHECK-NEXT: %[[C3:.*]] = arith.constant 3 : index
// CHECK-NEXT: %[[DK:.*]] = memref.dim %[[K]], %[[C3]] : memref<?x?x?x?xf32>
// CHECK-NEXT: %[[I:.*]] = arith.index_cast %[[DK]] : index to i64
// CHECK-NEXT: %[[F:.*]] = arith.sitofp %[[I]] : i64 to f32
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[EMPTY:.*]] = arith.cmpi eq, %[[DK]], %[[C0]] : index
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[R:.*]] = math.rsqrt %[[F]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.select %[[EMPTY]], %[[ONE]], %[[R]] : f32
// CHECK-NEXT: attn.online_attention dot ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) scale(%[[S]]) outs(%[[C]] : memref<?x?x?x?xf32>){{$}}
// CHECK-NEXT: return
func.func @scaled_dot_dynamic(%q: memref<?x?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                              %v: memref<?x?x?x?xf32>, %c: memref<?x?x?x?xf32>) {
  attn.attention scaled_dot align(softmax)
      ins(%q, %k, %v : memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>)
      outs(%c : memref<?x?x?x?xf32>)
  return
}

//===----------------------------------------------------------------------===//
// general: q' = W q, then dot
//===----------------------------------------------------------------------===//

// The example of Passes.td: shared W [Dk, Dq].
// CHECK-LABEL: func @general_shared
// CHECK-SAME: (%[[Q:[^:]*]]: memref<1x1x?x8xf32>, %[[K:[^:]*]]: memref<1x1x?x16xf32>, %[[V:[^:]*]]: memref<1x1x?x16xf32>, %[[W:[^:]*]]: memref<16x8xf32>, %[[C:[^:]*]]: memref<1x?x1x16xf32>)
// CHECK-NEXT: %[[C2:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[NQ:.*]] = memref.dim %[[Q]], %[[C2]] : memref<1x1x?x8xf32>
// CHECK-NEXT: %[[QW:.*]] = memref.alloc(%[[NQ]]) {alignment = 64 : i64} : memref<1x1x?x16xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W]] : memref<1x1x?x8xf32>, memref<16x8xf32>) outs(%[[QW]] : memref<1x1x?x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot ins(%[[QW]], %[[K]], %[[V]] : memref<1x1x?x16xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>) outs(%[[C]] : memref<1x?x1x16xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QW]] : memref<1x1x?x16xf32>
// CHECK-NEXT: return
func.func @general_shared(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x16xf32>,
                          %v: memref<1x1x?x16xf32>, %W: memref<16x8xf32>,
                          %c: memref<1x?x1x16xf32>) {
  attn.attention general align(softmax)
      ins(%q, %k, %v : memref<1x1x?x8xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
      params(W = %W : memref<16x8xf32>) outs(%c : memref<1x?x1x16xf32>)
  return
}

// A per-head W [H, Dk, Dq]; keys shared by the heads (multi-query).
// CHECK-LABEL: func @general_per_head
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x3x8xf32>, %[[K:[^:]*]]: memref<2x1x5x16xf32>, %[[V:[^:]*]]: memref<2x1x5x8xf32>, %[[W:[^:]*]]: memref<4x16x8xf32>, %[[C:[^:]*]]: memref<2x3x4x8xf32>)
// CHECK-NEXT: %[[QW:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x3x16xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W]] : memref<2x4x3x8xf32>, memref<4x16x8xf32>) outs(%[[QW]] : memref<2x4x3x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot causal ins(%[[QW]], %[[K]], %[[V]] : memref<2x4x3x16xf32>, memref<2x1x5x16xf32>, memref<2x1x5x8xf32>) outs(%[[C]] : memref<2x3x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QW]] : memref<2x4x3x16xf32>
// CHECK-NEXT: return
func.func @general_per_head(%q: memref<2x4x3x8xf32>, %k: memref<2x1x5x16xf32>,
                            %v: memref<2x1x5x8xf32>, %W: memref<4x16x8xf32>,
                            %c: memref<2x3x4x8xf32>) {
  attn.attention general align(softmax) causal
      ins(%q, %k, %v : memref<2x4x3x8xf32>, memref<2x1x5x16xf32>, memref<2x1x5x8xf32>)
      params(W = %W : memref<4x16x8xf32>) outs(%c : memref<2x3x4x8xf32>)
  return
}

//===----------------------------------------------------------------------===//
// biased_general: q' = W q + b, then dot
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @biased_general
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x4x?x8xf32>, %[[K:[^:]*]]: memref<?x1x?x16xf32>, %[[V:[^:]*]]: memref<?x1x?x8xf32>, %[[W:[^:]*]]: memref<16x8xf32>, %[[WH:[^:]*]]: memref<4x16x8xf32>, %[[B:[^:]*]]: memref<16xf32>, %[[BH:[^:]*]]: memref<4x16xf32>, %[[C:[^:]*]]: memref<?x?x4x8xf32>)
//
// Shared W and b: the heads of q' are the query's.
// CHECK:      %[[B0:.*]] = memref.dim %[[Q]], %{{.*}} : memref<?x4x?x8xf32>
// CHECK:      %[[N0:.*]] = memref.dim %[[Q]], %{{.*}} : memref<?x4x?x8xf32>
// CHECK-NEXT: %[[QW0:.*]] = memref.alloc(%[[B0]], %[[N0]]) {alignment = 64 : i64} : memref<?x4x?x16xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W]] : memref<?x4x?x8xf32>, memref<16x8xf32>) bias(%[[B]] : memref<16xf32>) outs(%[[QW0]] : memref<?x4x?x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot ins(%[[QW0]], %[[K]], %[[V]] : memref<?x4x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x8xf32>) outs(%[[C]] : memref<?x?x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QW0]] : memref<?x4x?x16xf32>
//
// Per-head W and b.
// CHECK:      %[[QW1:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x4x?x16xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[WH]] : memref<?x4x?x8xf32>, memref<4x16x8xf32>) bias(%[[BH]] : memref<4x16xf32>) outs(%[[QW1]] : memref<?x4x?x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot ins(%[[QW1]], %[[K]], %[[V]] : {{.*}}) outs(%[[C]] : memref<?x?x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QW1]] : memref<?x4x?x16xf32>
//
// Shared W, per-head b.
// CHECK:      %[[QW2:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x4x?x16xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W]] : memref<?x4x?x8xf32>, memref<16x8xf32>) bias(%[[BH]] : memref<4x16xf32>) outs(%[[QW2]] : memref<?x4x?x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot ins(%[[QW2]], %[[K]], %[[V]] : {{.*}}) outs(%[[C]] : memref<?x?x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QW2]] : memref<?x4x?x16xf32>
//
// Per-head W, shared b.
// CHECK:      %[[QW3:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x4x?x16xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[WH]] : memref<?x4x?x8xf32>, memref<4x16x8xf32>) bias(%[[B]] : memref<16xf32>) outs(%[[QW3]] : memref<?x4x?x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot ins(%[[QW3]], %[[K]], %[[V]] : {{.*}}) outs(%[[C]] : memref<?x?x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QW3]] : memref<?x4x?x16xf32>
// CHECK-NEXT: return
func.func @biased_general(%q: memref<?x4x?x8xf32>, %k: memref<?x1x?x16xf32>,
                          %v: memref<?x1x?x8xf32>, %W: memref<16x8xf32>,
                          %Wh: memref<4x16x8xf32>, %b: memref<16xf32>,
                          %bh: memref<4x16xf32>, %c: memref<?x?x4x8xf32>) {
  attn.attention biased_general align(softmax)
      ins(%q, %k, %v : memref<?x4x?x8xf32>, memref<?x1x?x16xf32>, memref<?x1x?x8xf32>)
      params(W = %W, b = %b : memref<16x8xf32>, memref<16xf32>) outs(%c : memref<?x?x4x8xf32>)
  attn.attention biased_general align(softmax)
      ins(%q, %k, %v : memref<?x4x?x8xf32>, memref<?x1x?x16xf32>, memref<?x1x?x8xf32>)
      params(W = %Wh, b = %bh : memref<4x16x8xf32>, memref<4x16xf32>) outs(%c : memref<?x?x4x8xf32>)
  attn.attention biased_general align(softmax)
      ins(%q, %k, %v : memref<?x4x?x8xf32>, memref<?x1x?x16xf32>, memref<?x1x?x8xf32>)
      params(W = %W, b = %bh : memref<16x8xf32>, memref<4x16xf32>) outs(%c : memref<?x?x4x8xf32>)
  attn.attention biased_general align(softmax)
      ins(%q, %k, %v : memref<?x4x?x8xf32>, memref<?x1x?x16xf32>, memref<?x1x?x8xf32>)
      params(W = %Wh, b = %b : memref<4x16x8xf32>, memref<16xf32>) outs(%c : memref<?x?x4x8xf32>)
  return
}

//===----------------------------------------------------------------------===//
// activated_general: q' = W q, then act(q'.k + b)
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @activated_general
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x3x8xf32>, %[[K:[^:]*]]: memref<2x1x5x16xf32>, %[[V:[^:]*]]: memref<2x1x5x8xf32>, %[[W:[^:]*]]: memref<4x16x8xf32>, %[[WS:[^:]*]]: memref<16x8xf32>, %[[B0:[^:]*]]: memref<f32>, %[[B1:[^:]*]]: memref<1xf32>, %[[L:[^:]*]]: memref<2xi32>, %[[C:[^:]*]]: memref<2x3x4x8xf32>)
//
// b of rank 0, per-head W.
// CHECK-NEXT: %[[QW0:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x3x16xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W]] : memref<2x4x3x8xf32>, memref<4x16x8xf32>) outs(%[[QW0]] : memref<2x4x3x16xf32>){{$}}
// CHECK-NEXT: %[[BIAS0:.*]] = memref.load %[[B0]][] : memref<f32>
// CHECK-NEXT: attn.online_attention dot act(sigmoid) ins(%[[QW0]], %[[K]], %[[V]] : memref<2x4x3x16xf32>, memref<2x1x5x16xf32>, memref<2x1x5x8xf32>) bias(%[[BIAS0]]) lengths(%[[L]] : memref<2xi32>) outs(%[[C]] : memref<2x3x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QW0]] : memref<2x4x3x16xf32>
//
// b of shape [1], shared W.
// CHECK-NEXT: %[[QW1:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x3x16xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[WS]] : memref<2x4x3x8xf32>, memref<16x8xf32>) outs(%[[QW1]] : memref<2x4x3x16xf32>){{$}}
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[BIAS1:.*]] = memref.load %[[B1]][%[[ZERO]]] : memref<1xf32>
// CHECK-NEXT: attn.online_attention dot act(tanh) causal ins(%[[QW1]], %[[K]], %[[V]] : {{.*}}) bias(%[[BIAS1]]) outs(%[[C]] : memref<2x3x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QW1]] : memref<2x4x3x16xf32>
// CHECK-NEXT: return
func.func @activated_general(%q: memref<2x4x3x8xf32>, %k: memref<2x1x5x16xf32>,
                             %v: memref<2x1x5x8xf32>, %W: memref<4x16x8xf32>,
                             %Ws: memref<16x8xf32>, %b0: memref<f32>,
                             %b1: memref<1xf32>, %len: memref<2xi32>,
                             %c: memref<2x3x4x8xf32>) {
  attn.attention activated_general act(sigmoid) align(softmax)
      ins(%q, %k, %v : memref<2x4x3x8xf32>, memref<2x1x5x16xf32>, memref<2x1x5x8xf32>)
      params(W = %W, b = %b0 : memref<4x16x8xf32>, memref<f32>) lengths(%len : memref<2xi32>)
      outs(%c : memref<2x3x4x8xf32>)
  attn.attention activated_general act(tanh) align(softmax) causal
      ins(%q, %k, %v : memref<2x4x3x8xf32>, memref<2x1x5x16xf32>, memref<2x1x5x8xf32>)
      params(W = %Ws, b = %b1 : memref<16x8xf32>, memref<1xf32>) outs(%c : memref<2x3x4x8xf32>)
  return
}

//===----------------------------------------------------------------------===//
// additive: q' = W1 q + b, k' = W2 k, then sum_d w_d act(q'_d + k'_d)
//===----------------------------------------------------------------------===//

// Bahdanau: shared parameters, one query, weights requested.
// CHECK-LABEL: func @additive_shared
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x1x32xf32>, %[[K:[^:]*]]: memref<?x1x?x64xf32>, %[[V:[^:]*]]: memref<?x1x?x64xf32>, %[[W1:[^:]*]]: memref<48x32xf32>, %[[W2:[^:]*]]: memref<48x64xf32>, %[[B:[^:]*]]: memref<48xf32>, %[[W:[^:]*]]: memref<48xf32>, %[[C:[^:]*]]: memref<?x1x1x64xf32>, %[[A:[^:]*]]: memref<?x1x1x?xf32>)
// CHECK:      %[[QB:.*]] = memref.dim %[[Q]], %{{.*}} : memref<?x1x1x32xf32>
// CHECK-NEXT: %[[QP:.*]] = memref.alloc(%[[QB]]) {alignment = 64 : i64} : memref<?x1x1x48xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W1]] : memref<?x1x1x32xf32>, memref<48x32xf32>) bias(%[[B]] : memref<48xf32>) outs(%[[QP]] : memref<?x1x1x48xf32>){{$}}
// CHECK:      %[[KB:.*]] = memref.dim %[[K]], %{{.*}} : memref<?x1x?x64xf32>
// CHECK:      %[[KN:.*]] = memref.dim %[[K]], %{{.*}} : memref<?x1x?x64xf32>
// CHECK-NEXT: %[[KP:.*]] = memref.alloc(%[[KB]], %[[KN]]) {alignment = 64 : i64} : memref<?x1x?x48xf32>
// CHECK-NEXT: attn.linear ins(%[[K]], %[[W2]] : memref<?x1x?x64xf32>, memref<48x64xf32>) outs(%[[KP]] : memref<?x1x?x48xf32>){{$}}
// CHECK-NEXT: attn.online_attention additive act(tanh) ins(%[[QP]], %[[KP]], %[[V]] : memref<?x1x1x48xf32>, memref<?x1x?x48xf32>, memref<?x1x?x64xf32>) score_weights(%[[W]] : memref<48xf32>) outs(%[[C]] : memref<?x1x1x64xf32>) weights(%[[A]] : memref<?x1x1x?xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QP]] : memref<?x1x1x48xf32>
// CHECK-NEXT: memref.dealloc %[[KP]] : memref<?x1x?x48xf32>
// CHECK-NEXT: return
func.func @additive_shared(
    %q: memref<?x1x1x32xf32>, %k: memref<?x1x?x64xf32>, %v: memref<?x1x?x64xf32>,
    %W1: memref<48x32xf32>, %W2: memref<48x64xf32>, %b: memref<48xf32>,
    %w: memref<48xf32>, %c: memref<?x1x1x64xf32>, %a: memref<?x1x1x?xf32>) {
  attn.attention additive act(tanh) align(softmax)
      ins(%q, %k, %v : memref<?x1x1x32xf32>, memref<?x1x?x64xf32>, memref<?x1x?x64xf32>)
      params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<48x32xf32>, memref<48x64xf32>, memref<48xf32>, memref<48xf32>)
      outs(%c : memref<?x1x1x64xf32>) weights(%a : memref<?x1x1x?xf32>)
  return
}

// Per-head parameters with as many key heads as query heads; masks kept.
// CHECK-LABEL: func @additive_per_head
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x3x16xf32>, %[[K:[^:]*]]: memref<2x4x5x12xf32>, %[[V:[^:]*]]: memref<2x4x5x8xf32>, %[[W1:[^:]*]]: memref<4x24x16xf32>, %[[W2:[^:]*]]: memref<4x24x12xf32>, %[[B:[^:]*]]: memref<4x24xf32>, %[[W:[^:]*]]: memref<4x24xf32>, %[[L:[^:]*]]: memref<2xi32>, %[[C:[^:]*]]: memref<2x3x4x8xf32>)
// CHECK-NEXT: %[[QP:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x3x24xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W1]] : memref<2x4x3x16xf32>, memref<4x24x16xf32>) bias(%[[B]] : memref<4x24xf32>) outs(%[[QP]] : memref<2x4x3x24xf32>){{$}}
// CHECK-NEXT: %[[KP:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x5x24xf32>
// CHECK-NEXT: attn.linear ins(%[[K]], %[[W2]] : memref<2x4x5x12xf32>, memref<4x24x12xf32>) outs(%[[KP]] : memref<2x4x5x24xf32>){{$}}
// CHECK-NEXT: attn.online_attention additive act(relu) causal ins(%[[QP]], %[[KP]], %[[V]] : memref<2x4x3x24xf32>, memref<2x4x5x24xf32>, memref<2x4x5x8xf32>) score_weights(%[[W]] : memref<4x24xf32>) lengths(%[[L]] : memref<2xi32>) outs(%[[C]] : memref<2x3x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QP]] : memref<2x4x3x24xf32>
// CHECK-NEXT: memref.dealloc %[[KP]] : memref<2x4x5x24xf32>
// CHECK-NEXT: return
func.func @additive_per_head(
    %q: memref<2x4x3x16xf32>, %k: memref<2x4x5x12xf32>, %v: memref<2x4x5x8xf32>,
    %W1: memref<4x24x16xf32>, %W2: memref<4x24x12xf32>, %b: memref<4x24xf32>,
    %w: memref<4x24xf32>, %len: memref<2xi32>, %c: memref<2x3x4x8xf32>) {
  attn.attention additive act(relu) align(softmax) causal
      ins(%q, %k, %v : memref<2x4x3x16xf32>, memref<2x4x5x12xf32>, memref<2x4x5x8xf32>)
      params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<4x24x16xf32>, memref<4x24x12xf32>, memref<4x24xf32>, memref<4x24xf32>)
      lengths(%len : memref<2xi32>) outs(%c : memref<2x3x4x8xf32>)
  return
}

// Per-head W1 and b, shared W2 and w, keys shared by the heads
// (multi-query): k' keeps the keys' single head.
// CHECK-LABEL: func @additive_multi_query_shared_w2
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x3x16xf32>, %[[K:[^:]*]]: memref<2x1x5x12xf32>, %[[V:[^:]*]]: memref<2x1x5x8xf32>, %[[W1:[^:]*]]: memref<4x24x16xf32>, %[[W2:[^:]*]]: memref<24x12xf32>, %[[B:[^:]*]]: memref<4x24xf32>, %[[W:[^:]*]]: memref<24xf32>, %[[C:[^:]*]]: memref<2x3x4x8xf32>)
// CHECK-NEXT: %[[QP:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x3x24xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W1]] : memref<2x4x3x16xf32>, memref<4x24x16xf32>) bias(%[[B]] : memref<4x24xf32>) outs(%[[QP]] : memref<2x4x3x24xf32>){{$}}
// CHECK-NEXT: %[[KP:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x1x5x24xf32>
// CHECK-NEXT: attn.linear ins(%[[K]], %[[W2]] : memref<2x1x5x12xf32>, memref<24x12xf32>) outs(%[[KP]] : memref<2x1x5x24xf32>){{$}}
// CHECK-NEXT: attn.online_attention additive act(tanh) ins(%[[QP]], %[[KP]], %[[V]] : memref<2x4x3x24xf32>, memref<2x1x5x24xf32>, memref<2x1x5x8xf32>) score_weights(%[[W]] : memref<24xf32>) outs(%[[C]] : memref<2x3x4x8xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QP]]
// CHECK-NEXT: memref.dealloc %[[KP]]
// CHECK-NEXT: return
func.func @additive_multi_query_shared_w2(
    %q: memref<2x4x3x16xf32>, %k: memref<2x1x5x12xf32>, %v: memref<2x1x5x8xf32>,
    %W1: memref<4x24x16xf32>, %W2: memref<24x12xf32>, %b: memref<4x24xf32>,
    %w: memref<24xf32>, %c: memref<2x3x4x8xf32>) {
  attn.attention additive act(tanh) align(softmax)
      ins(%q, %k, %v : memref<2x4x3x16xf32>, memref<2x1x5x12xf32>, memref<2x1x5x8xf32>)
      params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<4x24x16xf32>, memref<24x12xf32>, memref<4x24xf32>, memref<24xf32>)
      outs(%c : memref<2x3x4x8xf32>)
  return
}

// Per-head W2 with keys shared by the heads (multi-query): what
// `heads h { keys K = Wk X  score e = additive(Q, K; W1, W2, b, w) }` with
// a shared Wk and a per-head W2 [h, d_w, d_k] produces (docs/language.md
// allows both). k' = W2[h] k has one head per query head, so the result
// must still be a valid attn.online_attention (values have 1 head).
// CHECK-LABEL: func @additive_multi_query_per_head_w2
// CHECK:      attn.online_attention additive act(tanh) ins(
// CHECK-SAME: score_weights(%{{.*}} : memref<24xf32>) outs(%{{.*}} : memref<2x3x4x8xf32>)
func.func @additive_multi_query_per_head_w2(
    %q: memref<2x4x3x16xf32>, %k: memref<2x1x5x12xf32>, %v: memref<2x1x5x8xf32>,
    %W1: memref<24x16xf32>, %W2: memref<4x24x12xf32>, %b: memref<24xf32>,
    %w: memref<24xf32>, %c: memref<2x3x4x8xf32>) {
  attn.attention additive act(tanh) align(softmax)
      ins(%q, %k, %v : memref<2x4x3x16xf32>, memref<2x1x5x12xf32>, memref<2x1x5x8xf32>)
      params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<24x16xf32>, memref<4x24x12xf32>, memref<24xf32>, memref<24xf32>)
      outs(%c : memref<2x3x4x8xf32>)
  return
}

// Other ops are left alone.
// CHECK-LABEL: func @untouched
// CHECK-NEXT: attn.online_attention cosine
// CHECK-NEXT: attn.softmax
// CHECK-NEXT: return
func.func @untouched(%q: memref<?x1x?x8xf32>, %c: memref<?x?x1x8xf32>, %y: memref<?x10xf32>) {
  attn.online_attention cosine
      ins(%q, %q, %q : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      outs(%c : memref<?x?x1x8xf32>)
  attn.softmax ins(%y : memref<?x10xf32>) outs(%y : memref<?x10xf32>)
  return
}
