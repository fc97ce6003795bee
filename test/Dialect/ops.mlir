// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s
//
// Round trip of every op of the attn dialect and every variant of their
// syntax: optional operands (bias, params by name, lengths, weights,
// score_weights, scale, bias), optional attributes (act, causal), per-head
// and shared parameters, static and dynamic shapes, memrefs and tensors.

//===----------------------------------------------------------------------===//
// attn.linear: the four layouts of AttnOps.td, with and without bias
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @linear_3d_shared
// CHECK-SAME: (%[[X:.*]]: memref<?x?x8xf32>, %[[W:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4xf32>, %[[Y:.*]]: memref<?x?x4xf32>)
// CHECK-NEXT: attn.linear ins(%[[X]], %[[W]] : memref<?x?x8xf32>, memref<4x8xf32>) outs(%[[Y]] : memref<?x?x4xf32>){{$}}
// CHECK-NEXT: attn.linear ins(%[[X]], %[[W]] : memref<?x?x8xf32>, memref<4x8xf32>) bias(%[[B]] : memref<4xf32>) outs(%[[Y]] : memref<?x?x4xf32>){{$}}
func.func @linear_3d_shared(%x: memref<?x?x8xf32>, %w: memref<4x8xf32>,
                            %b: memref<4xf32>, %y: memref<?x?x4xf32>) {
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>)
      outs(%y : memref<?x?x4xf32>)
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>)
      bias(%b : memref<4xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// CHECK-LABEL: func @linear_3d_per_head
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<?x?x64xf32>, memref<4x16x64xf32>) outs(%{{.*}} : memref<?x4x?x16xf32>){{$}}
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<?x?x64xf32>, memref<4x16x64xf32>) bias(%{{.*}} : memref<4x16xf32>) outs(%{{.*}} : memref<?x4x?x16xf32>){{$}}
func.func @linear_3d_per_head(%x: memref<?x?x64xf32>, %w: memref<4x16x64xf32>,
                              %b: memref<4x16xf32>, %y: memref<?x4x?x16xf32>) {
  attn.linear ins(%x, %w : memref<?x?x64xf32>, memref<4x16x64xf32>)
      outs(%y : memref<?x4x?x16xf32>)
  attn.linear ins(%x, %w : memref<?x?x64xf32>, memref<4x16x64xf32>)
      bias(%b : memref<4x16xf32>) outs(%y : memref<?x4x?x16xf32>)
  return
}

// CHECK-LABEL: func @linear_4d_shared
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<2x4x5x16xf32>, memref<32x16xf32>) outs(%{{.*}} : memref<2x4x5x32xf32>){{$}}
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<2x1x5x16xf32>, memref<32x16xf32>) bias(%{{.*}} : memref<32xf32>) outs(%{{.*}} : memref<2x4x5x32xf32>){{$}}
func.func @linear_4d_shared(%x: memref<2x4x5x16xf32>, %x1: memref<2x1x5x16xf32>,
                            %w: memref<32x16xf32>, %b: memref<32xf32>,
                            %y: memref<2x4x5x32xf32>) {
  attn.linear ins(%x, %w : memref<2x4x5x16xf32>, memref<32x16xf32>)
      outs(%y : memref<2x4x5x32xf32>)
  // A single input head is broadcast over the output's heads.
  attn.linear ins(%x1, %w : memref<2x1x5x16xf32>, memref<32x16xf32>)
      bias(%b : memref<32xf32>) outs(%y : memref<2x4x5x32xf32>)
  return
}

// CHECK-LABEL: func @linear_4d_per_head
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<?x?x?x?xf32>, memref<?x?x?xf32>) outs(%{{.*}} : memref<?x?x?x?xf32>){{$}}
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<?x?x?x?xf32>, memref<?x?x?xf32>) bias(%{{.*}} : memref<?x?xf32>) outs(%{{.*}} : memref<?x?x?x?xf32>){{$}}
func.func @linear_4d_per_head(%x: memref<?x?x?x?xf32>, %w: memref<?x?x?xf32>,
                              %b: memref<?x?xf32>, %y: memref<?x?x?x?xf32>) {
  attn.linear ins(%x, %w : memref<?x?x?x?xf32>, memref<?x?x?xf32>)
      outs(%y : memref<?x?x?x?xf32>)
  attn.linear ins(%x, %w : memref<?x?x?x?xf32>, memref<?x?x?xf32>)
      bias(%b : memref<?x?xf32>) outs(%y : memref<?x?x?x?xf32>)
  return
}

// The bias is per head or shared independently of the weight.
// CHECK-LABEL: func @linear_mixed_bias
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<?x?x64xf32>, memref<4x16x64xf32>) bias(%{{.*}} : memref<16xf32>) outs(%{{.*}} : memref<?x4x?x16xf32>){{$}}
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<?x4x?x64xf32>, memref<16x64xf32>) bias(%{{.*}} : memref<4x16xf32>) outs(%{{.*}} : memref<?x4x?x16xf32>){{$}}
// CHECK: attn.linear ins(%{{.*}}, %{{.*}} : memref<?x1x?x64xf32>, memref<16x64xf32>) bias(%{{.*}} : memref<4x16xf32>) outs(%{{.*}} : memref<?x4x?x16xf32>){{$}}
func.func @linear_mixed_bias(%x3: memref<?x?x64xf32>, %x4: memref<?x4x?x64xf32>,
                             %x1: memref<?x1x?x64xf32>, %wh: memref<4x16x64xf32>,
                             %w: memref<16x64xf32>, %b: memref<16xf32>,
                             %bh: memref<4x16xf32>, %y: memref<?x4x?x16xf32>) {
  attn.linear ins(%x3, %wh : memref<?x?x64xf32>, memref<4x16x64xf32>)
      bias(%b : memref<16xf32>) outs(%y : memref<?x4x?x16xf32>)
  attn.linear ins(%x4, %w : memref<?x4x?x64xf32>, memref<16x64xf32>)
      bias(%bh : memref<4x16xf32>) outs(%y : memref<?x4x?x16xf32>)
  attn.linear ins(%x1, %w : memref<?x1x?x64xf32>, memref<16x64xf32>)
      bias(%bh : memref<4x16xf32>) outs(%y : memref<?x4x?x16xf32>)
  return
}

//===----------------------------------------------------------------------===//
// attn.attention
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @attention_no_params
// CHECK-SAME: (%[[Q:.*]]: memref<?x4x?x16xf32>, %[[K:.*]]: memref<?x4x?x16xf32>, %[[V:.*]]: memref<?x4x?x32xf32>, %[[C:.*]]: memref<?x?x4x32xf32>)
// CHECK-NEXT: attn.attention dot align(softmax) ins(%[[Q]], %[[K]], %[[V]] : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x32xf32>) outs(%[[C]] : memref<?x?x4x32xf32>){{$}}
// CHECK-NEXT: attn.attention scaled_dot align(softmax) ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) outs(%[[C]] : memref<?x?x4x32xf32>){{$}}
// CHECK-NEXT: attn.attention cosine align(softmax) ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) outs(%[[C]] : memref<?x?x4x32xf32>){{$}}
// CHECK-NEXT: attn.attention neg_sq_euclidean align(softmax) ins(%[[Q]], %[[K]], %[[V]] : {{.*}}) outs(%[[C]] : memref<?x?x4x32xf32>){{$}}
func.func @attention_no_params(%q: memref<?x4x?x16xf32>, %k: memref<?x4x?x16xf32>,
                               %v: memref<?x4x?x32xf32>, %c: memref<?x?x4x32xf32>) {
  attn.attention dot align(softmax)
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x32xf32>)
      outs(%c : memref<?x?x4x32xf32>)
  attn.attention scaled_dot align(softmax)
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x32xf32>)
      outs(%c : memref<?x?x4x32xf32>)
  attn.attention cosine align(softmax)
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x32xf32>)
      outs(%c : memref<?x?x4x32xf32>)
  attn.attention neg_sq_euclidean align(softmax)
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x32xf32>)
      outs(%c : memref<?x?x4x32xf32>)
  return
}

// The default activation (identity) is not printed; an explicit
// act(identity) parses and prints as the default.
// CHECK-LABEL: func @attention_default_act
// CHECK-NEXT: attn.attention dot align(softmax) ins(
// CHECK-NOT: act(
// CHECK: return
func.func @attention_default_act(%q: memref<1x1x3x8xf32>, %k: memref<1x1x5x8xf32>,
                                 %v: memref<1x1x5x8xf32>, %c: memref<1x3x1x8xf32>) {
  attn.attention dot act(identity) align(softmax)
      ins(%q, %k, %v : memref<1x1x3x8xf32>, memref<1x1x5x8xf32>, memref<1x1x5x8xf32>)
      outs(%c : memref<1x3x1x8xf32>)
  return
}

// Bahdanau: shared additive parameters, weights output.
// CHECK-LABEL: func @attention_additive_shared
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x1x32xf32>, %[[K:[^:]*]]: memref<?x1x?x64xf32>, %[[V:[^:]*]]: memref<?x1x?x64xf32>, %[[W1:[^:]*]]: memref<48x32xf32>, %[[W2:[^:]*]]: memref<48x64xf32>, %[[B:[^:]*]]: memref<48xf32>, %[[W:[^:]*]]: memref<48xf32>, %[[C:[^:]*]]: memref<?x1x1x64xf32>, %[[A:[^:]*]]: memref<?x1x1x?xf32>)
// CHECK-NEXT: attn.attention additive act(tanh) align(softmax) ins(%[[Q]], %[[K]], %[[V]] : memref<?x1x1x32xf32>, memref<?x1x?x64xf32>, memref<?x1x?x64xf32>) params(W1 = %[[W1]], W2 = %[[W2]], b = %[[B]], w = %[[W]] : memref<48x32xf32>, memref<48x64xf32>, memref<48xf32>, memref<48xf32>) outs(%[[C]] : memref<?x1x1x64xf32>) weights(%[[A]] : memref<?x1x1x?xf32>){{$}}
func.func @attention_additive_shared(
    %q: memref<?x1x1x32xf32>, %k: memref<?x1x?x64xf32>, %v: memref<?x1x?x64xf32>,
    %W1: memref<48x32xf32>, %W2: memref<48x64xf32>, %b: memref<48xf32>,
    %w: memref<48xf32>, %c: memref<?x1x1x64xf32>, %a: memref<?x1x1x?xf32>) {
  attn.attention additive act(tanh) align(softmax)
      ins(%q, %k, %v : memref<?x1x1x32xf32>, memref<?x1x?x64xf32>, memref<?x1x?x64xf32>)
      params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<48x32xf32>, memref<48x64xf32>, memref<48xf32>, memref<48xf32>)
      outs(%c : memref<?x1x1x64xf32>) weights(%a : memref<?x1x1x?xf32>)
  return
}

// Per-head additive parameters, keys shared by all heads (multi-query),
// every mask and every optional operand.
// CHECK-LABEL: func @attention_additive_per_head
// CHECK-SAME: %[[L:[^:]*]]: memref<?xi32>, %[[C:[^:]*]]: memref<?x?x4x8xf32>, %[[A:[^:]*]]: memref<?x4x?x?xf32>)
// CHECK-NEXT: attn.attention additive act(relu) align(softmax) causal ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<?x4x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x8xf32>) params(W1 = %{{.*}}, W2 = %{{.*}}, b = %{{.*}}, w = %{{.*}} : memref<4x24x16xf32>, memref<4x24x16xf32>, memref<4x24xf32>, memref<4x24xf32>) lengths(%[[L]] : memref<?xi32>) outs(%[[C]] : memref<?x?x4x8xf32>) weights(%[[A]] : memref<?x4x?x?xf32>){{$}}
func.func @attention_additive_per_head(
    %q: memref<?x4x?x16xf32>, %k: memref<?x1x?x16xf32>, %v: memref<?x1x?x8xf32>,
    %W1: memref<4x24x16xf32>, %W2: memref<4x24x16xf32>, %b: memref<4x24xf32>,
    %w: memref<4x24xf32>, %len: memref<?xi32>, %c: memref<?x?x4x8xf32>,
    %a: memref<?x4x?x?xf32>) {
  attn.attention additive act(relu) align(softmax) causal
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x8xf32>)
      params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<4x24x16xf32>, memref<4x24x16xf32>, memref<4x24xf32>, memref<4x24xf32>)
      lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x4x8xf32>) weights(%a : memref<?x4x?x?xf32>)
  return
}

// CHECK-LABEL: func @attention_general
// CHECK: attn.attention general align(softmax) ins({{.*}}) params(W = %{{.*}} : memref<16x8xf32>) outs(%{{.*}} : memref<1x?x1x16xf32>){{$}}
// CHECK: attn.attention general align(softmax) ins({{.*}}) params(W = %{{.*}} : memref<1x16x8xf32>) lengths(%{{.*}} : memref<1xi32>) outs(%{{.*}} : memref<1x?x1x16xf32>){{$}}
func.func @attention_general(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x16xf32>,
                             %v: memref<1x1x?x16xf32>, %W: memref<16x8xf32>,
                             %Wh: memref<1x16x8xf32>, %len: memref<1xi32>,
                             %c: memref<1x?x1x16xf32>) {
  attn.attention general align(softmax)
      ins(%q, %k, %v : memref<1x1x?x8xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
      params(W = %W : memref<16x8xf32>) outs(%c : memref<1x?x1x16xf32>)
  attn.attention general align(softmax)
      ins(%q, %k, %v : memref<1x1x?x8xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
      params(W = %Wh : memref<1x16x8xf32>) lengths(%len : memref<1xi32>)
      outs(%c : memref<1x?x1x16xf32>)
  return
}

// CHECK-LABEL: func @attention_biased_general
// CHECK: attn.attention biased_general align(softmax) causal ins({{.*}}) params(W = %{{.*}}, b = %{{.*}} : memref<16x8xf32>, memref<16xf32>) outs({{.*}}){{$}}
// CHECK: attn.attention biased_general align(softmax) ins({{.*}}) params(W = %{{.*}}, b = %{{.*}} : memref<2x16x8xf32>, memref<2x16xf32>) outs({{.*}}) weights(%{{.*}} : memref<3x2x5x7xf32>){{$}}
func.func @attention_biased_general(
    %q: memref<3x2x5x8xf32>, %k: memref<3x2x7x16xf32>, %v: memref<3x2x7x4xf32>,
    %W: memref<16x8xf32>, %b: memref<16xf32>, %Wh: memref<2x16x8xf32>,
    %bh: memref<2x16xf32>, %c: memref<3x5x2x4xf32>, %a: memref<3x2x5x7xf32>) {
  attn.attention biased_general align(softmax) causal
      ins(%q, %k, %v : memref<3x2x5x8xf32>, memref<3x2x7x16xf32>, memref<3x2x7x4xf32>)
      params(W = %W, b = %b : memref<16x8xf32>, memref<16xf32>) outs(%c : memref<3x5x2x4xf32>)
  attn.attention biased_general align(softmax)
      ins(%q, %k, %v : memref<3x2x5x8xf32>, memref<3x2x7x16xf32>, memref<3x2x7x4xf32>)
      params(W = %Wh, b = %bh : memref<2x16x8xf32>, memref<2x16xf32>) outs(%c : memref<3x5x2x4xf32>)
      weights(%a : memref<3x2x5x7xf32>)
  return
}

// Mixed per-head and shared score parameters.
// CHECK-LABEL: func @attention_mixed_params
// CHECK: attn.attention biased_general align(softmax) ins({{.*}}) params(W = %{{.*}}, b = %{{.*}} : memref<2x16x8xf32>, memref<16xf32>) outs({{.*}}){{$}}
// CHECK: attn.attention biased_general align(softmax) ins({{.*}}) params(W = %{{.*}}, b = %{{.*}} : memref<16x8xf32>, memref<2x16xf32>) outs({{.*}}){{$}}
// CHECK: attn.attention additive act(tanh) align(softmax) ins({{.*}}) params(W1 = %{{.*}}, W2 = %{{.*}}, b = %{{.*}}, w = %{{.*}} : memref<6x8xf32>, memref<2x6x16xf32>, memref<2x6xf32>, memref<6xf32>) outs({{.*}}){{$}}
func.func @attention_mixed_params(
    %q: memref<3x2x5x8xf32>, %k: memref<3x2x7x16xf32>, %v: memref<3x2x7x4xf32>,
    %W: memref<16x8xf32>, %b: memref<16xf32>, %Wh: memref<2x16x8xf32>,
    %bh: memref<2x16xf32>, %W1: memref<6x8xf32>, %W2h: memref<2x6x16xf32>,
    %b6h: memref<2x6xf32>, %w6: memref<6xf32>, %c: memref<3x5x2x4xf32>) {
  attn.attention biased_general align(softmax)
      ins(%q, %k, %v : memref<3x2x5x8xf32>, memref<3x2x7x16xf32>, memref<3x2x7x4xf32>)
      params(W = %Wh, b = %b : memref<2x16x8xf32>, memref<16xf32>) outs(%c : memref<3x5x2x4xf32>)
  attn.attention biased_general align(softmax)
      ins(%q, %k, %v : memref<3x2x5x8xf32>, memref<3x2x7x16xf32>, memref<3x2x7x4xf32>)
      params(W = %W, b = %bh : memref<16x8xf32>, memref<2x16xf32>) outs(%c : memref<3x5x2x4xf32>)
  attn.attention additive act(tanh) align(softmax)
      ins(%q, %k, %v : memref<3x2x5x8xf32>, memref<3x2x7x16xf32>, memref<3x2x7x4xf32>)
      params(W1 = %W1, W2 = %W2h, b = %b6h, w = %w6 : memref<6x8xf32>, memref<2x6x16xf32>, memref<2x6xf32>, memref<6xf32>)
      outs(%c : memref<3x5x2x4xf32>)
  return
}

// activated_general: b of rank 0 or [1]; a batch of 1 in the query, keys
// and values broadcast over the context's batch.
// CHECK-LABEL: func @attention_activated_general
// CHECK: attn.attention activated_general act(sigmoid) align(softmax) ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<1x1x2x8xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>) params(W = %{{.*}}, b = %{{.*}} : memref<16x8xf32>, memref<f32>) outs(%{{.*}} : memref<?x2x1x16xf32>){{$}}
// CHECK: attn.attention activated_general act(tanh) align(softmax) ins({{.*}}) params(W = %{{.*}}, b = %{{.*}} : memref<16x8xf32>, memref<1xf32>) outs({{.*}}){{$}}
func.func @attention_activated_general(
    %q: memref<1x1x2x8xf32>, %k: memref<1x1x?x16xf32>, %v: memref<1x1x?x16xf32>,
    %W: memref<16x8xf32>, %b0: memref<f32>, %b1: memref<1xf32>,
    %c: memref<?x2x1x16xf32>) {
  attn.attention activated_general act(sigmoid) align(softmax)
      ins(%q, %k, %v : memref<1x1x2x8xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
      params(W = %W, b = %b0 : memref<16x8xf32>, memref<f32>) outs(%c : memref<?x2x1x16xf32>)
  attn.attention activated_general act(tanh) align(softmax)
      ins(%q, %k, %v : memref<1x1x2x8xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
      params(W = %W, b = %b1 : memref<16x8xf32>, memref<1xf32>) outs(%c : memref<?x2x1x16xf32>)
  return
}

// On tensors (as MLIRGen emits it): the named params and the results.
// CHECK-LABEL: func @attention_tensors
// CHECK: %{{.*}}:2 = attn.attention biased_general align(softmax) ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x1x3x8xf32>, tensor<2x1x5x16xf32>, tensor<2x1x5x4xf32>) params(W = %{{.*}}, b = %{{.*}} : tensor<16x8xf32>, tensor<16xf32>) outs(%{{.*}} : tensor<2x3x1x4xf32>) weights(%{{.*}} : tensor<2x1x3x5xf32>) -> tensor<2x3x1x4xf32>, tensor<2x1x3x5xf32>{{$}}
func.func @attention_tensors(
    %q: tensor<2x1x3x8xf32>, %k: tensor<2x1x5x16xf32>, %v: tensor<2x1x5x4xf32>,
    %W: tensor<16x8xf32>, %b: tensor<16xf32>, %c: tensor<2x3x1x4xf32>,
    %a: tensor<2x1x3x5xf32>) -> (tensor<2x3x1x4xf32>, tensor<2x1x3x5xf32>) {
  %r:2 = attn.attention biased_general align(softmax)
      ins(%q, %k, %v : tensor<2x1x3x8xf32>, tensor<2x1x5x16xf32>, tensor<2x1x5x4xf32>)
      params(W = %W, b = %b : tensor<16x8xf32>, tensor<16xf32>)
      outs(%c : tensor<2x3x1x4xf32>) weights(%a : tensor<2x1x3x5xf32>)
      -> tensor<2x3x1x4xf32>, tensor<2x1x3x5xf32>
  return %r#0, %r#1 : tensor<2x3x1x4xf32>, tensor<2x1x3x5xf32>
}

// Grouped-query heads: keys and values with their own head counts, each a
// divisor of the query heads; no heads at all.
// CHECK-LABEL: func @attention_grouped_heads
// CHECK: attn.attention dot align(softmax) ins({{.*}} : memref<2x4x3x8xf32>, memref<2x2x5x8xf32>, memref<2x1x5x8xf32>) outs(%{{.*}} : memref<2x3x4x8xf32>){{$}}
// CHECK: attn.attention dot align(softmax) ins({{.*}} : memref<2x0x3x8xf32>, memref<2x0x5x8xf32>, memref<2x0x5x8xf32>) outs(%{{.*}} : memref<2x3x0x8xf32>){{$}}
func.func @attention_grouped_heads(
    %q: memref<2x4x3x8xf32>, %k: memref<2x2x5x8xf32>, %v: memref<2x1x5x8xf32>,
    %c: memref<2x3x4x8xf32>, %q0: memref<2x0x3x8xf32>, %k0: memref<2x0x5x8xf32>,
    %c0: memref<2x3x0x8xf32>) {
  attn.attention dot align(softmax)
      ins(%q, %k, %v : memref<2x4x3x8xf32>, memref<2x2x5x8xf32>, memref<2x1x5x8xf32>)
      outs(%c : memref<2x3x4x8xf32>)
  attn.attention dot align(softmax)
      ins(%q0, %k0, %k0 : memref<2x0x3x8xf32>, memref<2x0x5x8xf32>, memref<2x0x5x8xf32>)
      outs(%c0 : memref<2x3x0x8xf32>)
  return
}

// Fully dynamic shapes.
// CHECK-LABEL: func @attention_dynamic
// CHECK: attn.attention scaled_dot align(softmax) causal ins({{.*}} : memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>) lengths(%{{.*}} : memref<?xi32>) outs(%{{.*}} : memref<?x?x?x?xf32>) weights(%{{.*}} : memref<?x?x?x?xf32>){{$}}
func.func @attention_dynamic(%q: memref<?x?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                             %v: memref<?x?x?x?xf32>, %len: memref<?xi32>,
                             %c: memref<?x?x?x?xf32>, %a: memref<?x?x?x?xf32>) {
  attn.attention scaled_dot align(softmax) causal
      ins(%q, %k, %v : memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>)
      lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x?x?xf32>) weights(%a : memref<?x?x?x?xf32>)
  return
}

//===----------------------------------------------------------------------===//
// attn.online_attention
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @online_dot
// CHECK-SAME: %[[S:[^:]*]]: f32, %[[B:[^:]*]]: f32, %[[L:[^:]*]]: memref<?xi32>, %[[C:[^:]*]]: memref<?x?x4x16xf32>, %[[A:[^:]*]]: memref<?x4x?x?xf32>)
// CHECK-NEXT: attn.online_attention dot ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x16xf32>) outs(%[[C]] : memref<?x?x4x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot causal ins({{.*}}) scale(%[[S]]) outs(%[[C]] : memref<?x?x4x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot act(tanh) ins({{.*}}) bias(%[[B]]) outs(%[[C]] : memref<?x?x4x16xf32>){{$}}
// CHECK-NEXT: attn.online_attention dot act(sigmoid) causal ins({{.*}}) scale(%[[S]]) bias(%[[B]]) lengths(%[[L]] : memref<?xi32>) outs(%[[C]] : memref<?x?x4x16xf32>) weights(%[[A]] : memref<?x4x?x?xf32>){{$}}
func.func @online_dot(%q: memref<?x4x?x16xf32>, %k: memref<?x4x?x16xf32>,
                      %v: memref<?x4x?x16xf32>, %s: f32, %bias: f32,
                      %len: memref<?xi32>, %c: memref<?x?x4x16xf32>,
                      %a: memref<?x4x?x?xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x16xf32>)
      outs(%c : memref<?x?x4x16xf32>)
  attn.online_attention dot act(identity) causal
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x16xf32>)
      scale(%s) outs(%c : memref<?x?x4x16xf32>)
  attn.online_attention dot act(tanh)
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x16xf32>)
      bias(%bias) outs(%c : memref<?x?x4x16xf32>)
  attn.online_attention dot act(sigmoid) causal
      ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x16xf32>)
      scale(%s) bias(%bias) lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x4x16xf32>) weights(%a : memref<?x4x?x?xf32>)
  return
}

// CHECK-LABEL: func @online_additive
// CHECK-SAME: %[[W:[^:]*]]: memref<16xf32>, %[[WH:[^:]*]]: memref<4x16xf32>
// CHECK: attn.online_attention additive act(tanh) ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<2x4x3x16xf32>, memref<2x2x5x16xf32>, memref<2x2x5x8xf32>) score_weights(%[[W]] : memref<16xf32>) outs(%{{.*}} : memref<2x3x4x8xf32>){{$}}
// CHECK: attn.online_attention additive act(relu) causal ins({{.*}}) score_weights(%[[WH]] : memref<4x16xf32>) outs(%{{.*}} : memref<2x3x4x8xf32>) weights(%{{.*}} : memref<2x4x3x5xf32>){{$}}
func.func @online_additive(%q: memref<2x4x3x16xf32>, %k: memref<2x2x5x16xf32>,
                           %v: memref<2x2x5x8xf32>, %w: memref<16xf32>,
                           %wh: memref<4x16xf32>, %c: memref<2x3x4x8xf32>,
                           %a: memref<2x4x3x5xf32>) {
  attn.online_attention additive act(tanh)
      ins(%q, %k, %v : memref<2x4x3x16xf32>, memref<2x2x5x16xf32>, memref<2x2x5x8xf32>)
      score_weights(%w : memref<16xf32>) outs(%c : memref<2x3x4x8xf32>)
  attn.online_attention additive act(relu) causal
      ins(%q, %k, %v : memref<2x4x3x16xf32>, memref<2x2x5x16xf32>, memref<2x2x5x8xf32>)
      score_weights(%wh : memref<4x16xf32>) outs(%c : memref<2x3x4x8xf32>)
      weights(%a : memref<2x4x3x5xf32>)
  return
}

// CHECK-LABEL: func @online_cosine
// CHECK: attn.online_attention cosine causal ins({{.*}}) lengths(%{{.*}} : memref<?xi32>) outs(%{{.*}} : memref<?x?x1x8xf32>) weights(%{{.*}} : memref<?x1x?x?xf32>){{$}}
func.func @online_cosine(%q: memref<?x1x?x8xf32>, %k: memref<?x1x?x8xf32>,
                         %v: memref<?x1x?x8xf32>, %len: memref<?xi32>,
                         %c: memref<?x?x1x8xf32>, %a: memref<?x1x?x?xf32>) {
  attn.online_attention cosine causal
      ins(%q, %k, %v : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x1x8xf32>) weights(%a : memref<?x1x?x?xf32>)
  return
}

//===----------------------------------------------------------------------===//
// Output model: attn.activation and attn.softmax
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @output_model
// CHECK-SAME: (%[[Y:[^:]*]]: memref<?x10xf32>, %[[Z:[^:]*]]: memref<?x10xf32>, %[[S:[^:]*]]: memref<f32>, %[[T:[^:]*]]: memref<2x3x4x5xf32>)
// CHECK-NEXT: attn.activation identity ins(%[[Y]] : memref<?x10xf32>) outs(%[[Z]] : memref<?x10xf32>){{$}}
// CHECK-NEXT: attn.activation tanh ins(%[[Y]] : memref<?x10xf32>) outs(%[[Y]] : memref<?x10xf32>){{$}}
// CHECK-NEXT: attn.activation relu ins(%[[S]] : memref<f32>) outs(%[[S]] : memref<f32>){{$}}
// CHECK-NEXT: attn.activation sigmoid ins(%[[T]] : memref<2x3x4x5xf32>) outs(%[[T]] : memref<2x3x4x5xf32>){{$}}
// CHECK-NEXT: attn.softmax ins(%[[Y]] : memref<?x10xf32>) outs(%[[Z]] : memref<?x10xf32>){{$}}
// CHECK-NEXT: attn.softmax ins(%[[T]] : memref<2x3x4x5xf32>) outs(%[[T]] : memref<2x3x4x5xf32>){{$}}
func.func @output_model(%y: memref<?x10xf32>, %z: memref<?x10xf32>,
                        %s: memref<f32>, %t: memref<2x3x4x5xf32>) {
  attn.activation identity ins(%y : memref<?x10xf32>) outs(%z : memref<?x10xf32>)
  attn.activation tanh ins(%y : memref<?x10xf32>) outs(%y : memref<?x10xf32>)
  attn.activation relu ins(%s : memref<f32>) outs(%s : memref<f32>)
  attn.activation sigmoid ins(%t : memref<2x3x4x5xf32>) outs(%t : memref<2x3x4x5xf32>)
  attn.softmax ins(%y : memref<?x10xf32>) outs(%z : memref<?x10xf32>)
  attn.softmax ins(%t : memref<2x3x4x5xf32>) outs(%t : memref<2x3x4x5xf32>)
  return
}

// A discardable attribute survives the round trip in the attr-dict.
// CHECK-LABEL: func @attr_dict
// CHECK: attn.softmax ins(%{{.*}} : memref<7xf32>) outs(%{{.*}} : memref<7xf32>) {tag = "x"}
func.func @attr_dict(%y: memref<7xf32>) {
  attn.softmax ins(%y : memref<7xf32>) outs(%y : memref<7xf32>) {tag = "x"}
  return
}

//===----------------------------------------------------------------------===//
// The tile-level ops of the tiled form
//===----------------------------------------------------------------------===//

// A vector state is returned; a memref state is updated in place.
// CHECK-LABEL: func @online_softmax_update
// CHECK: %{{.*}}:3 = attn.online_softmax_update dot causal key_tile(64) query(%{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<2x4x?x8xf32>) keys(%{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<2x2x?x8xf32>) values(%{{.*}}[%{{.*}}, %{{.*}}] : memref<2x2x?x4xf32>) scale(%{{.*}}) key_end(%{{.*}}) state(%{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>, vector<4xf32>, vector<4x4xf32>) -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>{{$}}
// CHECK: attn.online_softmax_update additive act(tanh) key_tile(16) query({{.*}}) keys({{.*}}) values({{.*}}) score_weights(%{{.*}} : memref<4x8xf32>) key_end(%{{.*}}) state(%{{.*}}, %{{.*}}, %{{.*}} : memref<4xf32>, memref<4xf32>, memref<4x?xf32>){{$}}
// A tile's keys in a scratch of 16 rows (key_row), Nk the values'.
// CHECK: attn.online_softmax_update additive act(tanh) key_tile(16) query({{.*}}) keys(%{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<1x1x16x8xf32>) key_row(%{{.*}}) values({{.*}}) score_weights({{.*}}) key_end({{.*}}) state({{.*}}){{$}}
// CHECK: attn.tile_finalize ins(%{{.*}}, %{{.*}} : vector<4xf32>, vector<4x4xf32>) outs(%{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<2x?x4x4xf32>){{$}}
// CHECK: attn.tile_weights dot act(sigmoid) query({{.*}}) keys(%{{.*}}[%{{.*}}, %{{.*}}] : memref<2x2x?x8xf32>) bias(%{{.*}}) key_end(%{{.*}}) state(%{{.*}}, %{{.*}} : vector<4xf32>, vector<4xf32>) outs(%{{.*}}[%{{.*}}] : memref<2x4x?x?xf32>){{$}}
// Stored scores without keys.
// CHECK: attn.tile_weights additive act(tanh) scores_stored query({{.*}}) score_weights(%{{.*}} : memref<4x8xf32>) key_end(%{{.*}}) state({{.*}}) outs(%{{.*}}[%{{.*}}] : memref<2x4x?x?xf32>){{$}}
func.func @online_softmax_update(%q: memref<2x4x?x8xf32>, %k: memref<2x2x?x8xf32>,
                                 %v: memref<2x2x?x4xf32>, %vd: memref<2x2x?x?xf32>,
                                 %w: memref<4x8xf32>, %s: f32,
                                 %m: vector<4xf32>, %l: vector<4xf32>,
                                 %acc: vector<4x4xf32>, %mb: memref<4xf32>,
                                 %lb: memref<4xf32>, %accb: memref<4x?xf32>,
                                 %c: memref<2x?x4x4xf32>, %a: memref<2x4x?x?xf32>,
                                 %i: index, %ks: memref<1x1x16x8xf32>) {
  %m1, %l1, %acc1 = attn.online_softmax_update dot causal key_tile(64)
      query(%q[%i, %i, %i] : memref<2x4x?x8xf32>)
      keys(%k[%i, %i, %i] : memref<2x2x?x8xf32>)
      values(%v[%i, %i] : memref<2x2x?x4xf32>)
      scale(%s) key_end(%i)
      state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
  attn.online_softmax_update additive act(tanh) key_tile(16)
      query(%q[%i, %i, %i] : memref<2x4x?x8xf32>)
      keys(%k[%i, %i, %i] : memref<2x2x?x8xf32>)
      values(%vd[%i, %i] : memref<2x2x?x?xf32>)
      score_weights(%w : memref<4x8xf32>) key_end(%i)
      state(%mb, %lb, %accb : memref<4xf32>, memref<4xf32>, memref<4x?xf32>)
  attn.online_softmax_update additive act(tanh) key_tile(16)
      query(%q[%i, %i, %i] : memref<2x4x?x8xf32>)
      keys(%ks[%i, %i, %i] : memref<1x1x16x8xf32>) key_row(%i)
      values(%vd[%i, %i] : memref<2x2x?x?xf32>)
      score_weights(%w : memref<4x8xf32>) key_end(%i)
      state(%mb, %lb, %accb : memref<4xf32>, memref<4xf32>, memref<4x?xf32>)
  attn.tile_finalize ins(%l1, %acc1 : vector<4xf32>, vector<4x4xf32>)
      outs(%c[%i, %i, %i] : memref<2x?x4x4xf32>)
  attn.tile_weights dot act(sigmoid)
      query(%q[%i, %i, %i] : memref<2x4x?x8xf32>)
      keys(%k[%i, %i] : memref<2x2x?x8xf32>)
      bias(%s) key_end(%i) state(%m1, %l1 : vector<4xf32>, vector<4xf32>)
      outs(%a[%i] : memref<2x4x?x?xf32>)
  attn.tile_weights additive act(tanh) scores_stored
      query(%q[%i, %i, %i] : memref<2x4x?x8xf32>)
      score_weights(%w : memref<4x8xf32>) key_end(%i)
      state(%m1, %l1 : vector<4xf32>, vector<4xf32>)
      outs(%a[%i] : memref<2x4x?x?xf32>)
  return
}
