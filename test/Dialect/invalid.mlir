// RUN: attn-opt %s -split-input-file -verify-diagnostics
//
// One case per error of the verifiers in lib/Dialect/Attn/IR/AttnOps.cpp,
// then the errors of the type constraints of AttnOps.td and of the parser.

//===----------------------------------------------------------------------===//
// attn.linear
//===----------------------------------------------------------------------===//

func.func @linear_output_rank(%x: memref<?x?x8xf32>, %w: memref<4x4x8xf32>, %y: memref<?x?x4xf32>) {
  // expected-error @+1 {{'attn.linear' op expects an output of rank 4 for an input of rank 3 and a weight of rank 3, got 3}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x4x8xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// -----

func.func @linear_output_rank_4d_input(%x: memref<?x2x?x8xf32>, %w: memref<4x8xf32>, %y: memref<?x?x4xf32>) {
  // expected-error @+1 {{expects an output of rank 4 for an input of rank 4 and a weight of rank 2, got 3}}
  attn.linear ins(%x, %w : memref<?x2x?x8xf32>, memref<4x8xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// -----

func.func @linear_output_rank_3d(%x: memref<?x?x8xf32>, %w: memref<4x8xf32>, %y: memref<?x1x?x4xf32>) {
  // expected-error @+1 {{expects an output of rank 3 for an input of rank 3 and a weight of rank 2, got 4}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>) outs(%y : memref<?x1x?x4xf32>)
  return
}

// -----

func.func @linear_input_size(%x: memref<?x?x8xf32>, %w: memref<4x7xf32>, %y: memref<?x?x4xf32>) {
  // expected-error @+1 {{input size mismatch: 'input' dim 2 is 8 but 'weight' dim 1 is 7}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x7xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// -----

func.func @linear_output_size(%x: memref<?x?x8xf32>, %w: memref<2x4x8xf32>, %y: memref<?x2x?x5xf32>) {
  // expected-error @+1 {{output size mismatch: 'weight' dim 1 is 4 but 'output' dim 3 is 5}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<2x4x8xf32>) outs(%y : memref<?x2x?x5xf32>)
  return
}

// -----

func.func @linear_batch(%x: memref<2x?x8xf32>, %w: memref<4x8xf32>, %y: memref<3x?x4xf32>) {
  // expected-error @+1 {{batch mismatch: 'input' dim 0 is 2 but 'output' dim 0 is 3}}
  attn.linear ins(%x, %w : memref<2x?x8xf32>, memref<4x8xf32>) outs(%y : memref<3x?x4xf32>)
  return
}

// -----

func.func @linear_rows(%x: memref<?x2x5x8xf32>, %w: memref<4x8xf32>, %y: memref<?x2x6x4xf32>) {
  // expected-error @+1 {{row count mismatch: 'input' dim 2 is 5 but 'output' dim 2 is 6}}
  attn.linear ins(%x, %w : memref<?x2x5x8xf32>, memref<4x8xf32>) outs(%y : memref<?x2x6x4xf32>)
  return
}

// -----

// Input heads must be 1 (broadcast) or the output's heads.
func.func @linear_input_heads(%x: memref<?x2x?x8xf32>, %w: memref<4x8xf32>, %y: memref<?x3x?x4xf32>) {
  // expected-error @+1 {{head count mismatch: 'output' dim 1 is 3 but 'input' dim 1 is 2}}
  attn.linear ins(%x, %w : memref<?x2x?x8xf32>, memref<4x8xf32>) outs(%y : memref<?x3x?x4xf32>)
  return
}

// -----

func.func @linear_weight_heads(%x: memref<?x?x8xf32>, %w: memref<2x4x8xf32>, %y: memref<?x3x?x4xf32>) {
  // expected-error @+1 {{head count mismatch: 'output' dim 1 is 3 but 'weight' dim 0 is 2}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<2x4x8xf32>) outs(%y : memref<?x3x?x4xf32>)
  return
}

// -----

// A per-head bias [H, O] needs the head dimension of a 4-d output.
func.func @linear_bias_per_head_3d(%x: memref<?x?x8xf32>, %w: memref<4x8xf32>, %b: memref<1x4xf32>, %y: memref<?x?x4xf32>) {
  // expected-error @+1 {{a per-head bias needs an output with a head dimension}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>) bias(%b : memref<1x4xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// -----

func.func @linear_bias_size(%x: memref<?x?x8xf32>, %w: memref<4x8xf32>, %b: memref<5xf32>, %y: memref<?x?x4xf32>) {
  // expected-error @+1 {{bias size mismatch: 'bias' dim 0 is 5 but 'output' dim 2 is 4}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>) bias(%b : memref<5xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// -----

func.func @linear_bias_heads(%x: memref<?x?x8xf32>, %w: memref<2x4x8xf32>, %b: memref<3x4xf32>, %y: memref<?x2x?x4xf32>) {
  // expected-error @+1 {{head count mismatch: 'output' dim 1 is 2 but 'bias' dim 0 is 3}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<2x4x8xf32>) bias(%b : memref<3x4xf32>) outs(%y : memref<?x2x?x4xf32>)
  return
}

// -----

// A per-head bias with a shared weight: its heads are the output's.
func.func @linear_bias_heads_shared_weight(%x: memref<?x4x?x8xf32>, %w: memref<4x8xf32>, %b: memref<2x4xf32>, %y: memref<?x4x?x4xf32>) {
  // expected-error @+1 {{head count mismatch: 'output' dim 1 is 4 but 'bias' dim 0 is 2}}
  attn.linear ins(%x, %w : memref<?x4x?x8xf32>, memref<4x8xf32>) bias(%b : memref<2x4xf32>) outs(%y : memref<?x4x?x4xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: layout
//===----------------------------------------------------------------------===//

func.func @attention_query_batch(%q: memref<2x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<4x3x1x8xf32>) {
  // expected-error @+1 {{'attn.attention' op batch mismatch: 'query' dim 0 is 2 but 'context' dim 0 is 4}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<2x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<4x3x1x8xf32>)
  return
}

// -----

func.func @attention_keys_batch(%q: memref<1x1x3x8xf32>, %k: memref<3x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<4x3x1x8xf32>) {
  // expected-error @+1 {{batch mismatch: 'keys' dim 0 is 3 but 'context' dim 0 is 4}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<1x1x3x8xf32>, memref<3x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<4x3x1x8xf32>)
  return
}

// -----

func.func @attention_values_batch(%q: memref<?x1x3x8xf32>, %k: memref<1x1x5x8xf32>, %v: memref<2x1x5x8xf32>, %c: memref<4x3x1x8xf32>) {
  // expected-error @+1 {{batch mismatch: 'values' dim 0 is 2 but 'context' dim 0 is 4}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<1x1x5x8xf32>, memref<2x1x5x8xf32>) outs(%c : memref<4x3x1x8xf32>)
  return
}

// -----

// Keys and values may have fewer heads than the query, each a divisor.
func.func @attention_value_heads(%q: memref<?x4x3x8xf32>, %k: memref<?x2x5x8xf32>, %v: memref<?x3x5x8xf32>, %c: memref<?x3x4x8xf32>) {
  // expected-error @+1 {{query heads (4) must be a multiple of value heads (3)}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x4x3x8xf32>, memref<?x2x5x8xf32>, memref<?x3x5x8xf32>) outs(%c : memref<?x3x4x8xf32>)
  return
}

// -----

func.func @attention_kv_rows(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x6x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{key count mismatch: 'keys' dim 2 is 5 but 'values' dim 2 is 6}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x6x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_query_count(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x4x1x8xf32>) {
  // expected-error @+1 {{query count mismatch: 'query' dim 2 is 3 but 'context' dim 1 is 4}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x4x1x8xf32>)
  return
}

// -----

// The context is [B, Nq, Hq, Dv], not [B, Hq, Nq, Dv].
func.func @attention_context_heads(%q: memref<?x2x3x8xf32>, %k: memref<?x2x5x8xf32>, %v: memref<?x2x5x8xf32>, %c: memref<?x?x3x8xf32>) {
  // expected-error @+1 {{head count mismatch: 'query' dim 1 is 2 but 'context' dim 2 is 3}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x2x3x8xf32>, memref<?x2x5x8xf32>, memref<?x2x5x8xf32>) outs(%c : memref<?x?x3x8xf32>)
  return
}

// -----

func.func @attention_value_size(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x16xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{value size mismatch: 'values' dim 3 is 16 but 'context' dim 3 is 8}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x16xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_head_divisibility(%q: memref<?x4x3x8xf32>, %k: memref<?x3x5x8xf32>, %v: memref<?x3x5x8xf32>, %c: memref<?x3x4x8xf32>) {
  // expected-error @+1 {{query heads (4) must be a multiple of key heads (3)}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x4x3x8xf32>, memref<?x3x5x8xf32>, memref<?x3x5x8xf32>) outs(%c : memref<?x3x4x8xf32>)
  return
}

// -----

func.func @attention_zero_key_heads(%q: memref<?x4x3x8xf32>, %k: memref<?x0x5x8xf32>, %v: memref<?x0x5x8xf32>, %c: memref<?x3x4x8xf32>) {
  // expected-error @+1 {{query heads (4) must be a multiple of key heads (0)}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x4x3x8xf32>, memref<?x0x5x8xf32>, memref<?x0x5x8xf32>) outs(%c : memref<?x3x4x8xf32>)
  return
}

// -----

func.func @attention_weights_batch(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<2x3x1x8xf32>, %a: memref<1x1x3x5xf32>) {
  // A batch of 1 broadcasts in the inputs, not in the weights.
  // expected-error @+1 {{batch mismatch: 'context' dim 0 is 2 but 'weights' dim 0 is 1}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<2x3x1x8xf32>) weights(%a : memref<1x1x3x5xf32>)
  return
}

// -----

func.func @attention_weights_heads(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>, %a: memref<?x2x3x5xf32>) {
  // expected-error @+1 {{head count mismatch: 'query' dim 1 is 1 but 'weights' dim 1 is 2}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>) weights(%a : memref<?x2x3x5xf32>)
  return
}

// -----

func.func @attention_weights_queries(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>, %a: memref<?x1x5x3xf32>) {
  // expected-error @+1 {{query count mismatch: 'query' dim 2 is 3 but 'weights' dim 2 is 5}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>) weights(%a : memref<?x1x5x3xf32>)
  return
}

// -----

func.func @attention_weights_keys(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>, %a: memref<?x1x3x6xf32>) {
  // expected-error @+1 {{key count mismatch: 'keys' dim 2 is 5 but 'weights' dim 3 is 6}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>) weights(%a : memref<?x1x3x6xf32>)
  return
}

// -----

func.func @attention_lengths(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %l: memref<3xi32>, %c: memref<2x3x1x8xf32>) {
  // expected-error @+1 {{batch mismatch: 'context' dim 0 is 2 but 'lengths' dim 0 is 3}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) lengths(%l : memref<3xi32>) outs(%c : memref<2x3x1x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention: score function
//===----------------------------------------------------------------------===//

func.func @attention_act_on_dot(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score 'dot' takes no activation}}
  attn.attention dot act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_act_on_general(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score 'general' takes no activation}}
  attn.attention general act(relu) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W = %W : memref<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_act_on_cosine(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score 'cosine' takes no activation}}
  attn.attention cosine act(sigmoid) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_dot_params(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %c: memref<?x3x1x8xf32>) {
  // Parameter names and their order come from the score-function table
  // (ScoreFunctions.cpp); the parser reports each mistake where it is.
  // expected-error @+1 {{score 'dot' takes no parameters}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W = %W : memref<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_scaled_dot_params(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %s: memref<f32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score 'scaled_dot' takes no parameters}}
  attn.attention scaled_dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(s = %s : memref<f32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_cosine_params(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score 'cosine' takes no parameters}}
  attn.attention cosine align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W = %W, W = %W : memref<8x8xf32>, memref<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_general_params(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{missing parameter 'W' of score 'general' (expected params(W), in this order)}}
  attn.attention general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_biased_general_params(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{missing parameter 'b' of score 'biased_general' (expected params(W, b), in this order)}}
  attn.attention biased_general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W = %W : memref<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_activated_general_params(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %b: memref<f32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{duplicate parameter 'b'}}
  attn.attention activated_general act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W = %W, b = %b, b = %b : memref<8x8xf32>, memref<f32>, memref<f32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_additive_params(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<6x8xf32>, %b: memref<6xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{missing parameter 'w' of score 'additive' (expected params(W1, W2, b, w), in this order)}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W1 = %W, W2 = %W, b = %b : memref<6x8xf32>, memref<6x8xf32>, memref<6xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_param_unknown_name(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score 'general' has no parameter 'Wq' (expected W)}}
  attn.attention general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(Wq = %W : memref<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_param_order(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %b: memref<8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{parameter 'b' of score 'biased_general' out of order: expected 'W' before it (params(W, b), in this order)}}
  attn.attention biased_general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(b = %b, W = %W : memref<8xf32>, memref<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_param_additive_order(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W1: memref<6x8xf32>, %W2: memref<6x8xf32>, %b: memref<6xf32>, %w: memref<6xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{parameter 'w' of score 'additive' out of order: expected 'b' before it (params(W1, W2, b, w), in this order)}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W1 = %W1, W2 = %W2, w = %w, b = %b : memref<6x8xf32>, memref<6x8xf32>, memref<6xf32>, memref<6xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_param_positional(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{expected a parameter name of score 'general' (W), as in 'NAME = %value'}}
  attn.attention general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(%W : memref<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_param_types(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %b: memref<8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{2 parameters but 1 types}}
  attn.attention biased_general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W = %W, b = %b : memref<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

// An op built (or written generically) with the wrong number of parameters
// is still refused by the verifier, which names the expected ones.
func.func @attention_param_count(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score 'biased_general' expects 2 parameters (W, b), got 1}}
  "attn.attention"(%q, %k, %v, %W, %c) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0>, score = 4 : i32}> : (memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>, memref<8x8xf32>, memref<?x3x1x8xf32>) -> ()
  return
}

// -----

func.func @attention_dot_sizes(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{query and key sizes differ: 'query' dim 3 is 8 but 'keys' dim 3 is 16}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_scaled_dot_sizes(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x4xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{query and key sizes differ: 'query' dim 3 is 8 but 'keys' dim 3 is 4}}
  attn.attention scaled_dot align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x4xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_neg_sq_euclidean_sizes(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x4xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{query and key sizes differ: 'query' dim 3 is 8 but 'keys' dim 3 is 4}}
  attn.attention neg_sq_euclidean align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x4xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_neg_sq_euclidean_act(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score 'neg_sq_euclidean' takes no activation}}
  attn.attention neg_sq_euclidean act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_neg_sq_euclidean_scale(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %s: f32, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{scale and bias apply to the dot combine only}}
  attn.online_attention neg_sq_euclidean ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) scale(%s) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_cosine_sizes(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x4xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{query and key sizes differ: 'query' dim 3 is 8 but 'keys' dim 3 is 4}}
  attn.attention cosine align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x4xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_param_rank(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W: memref<128xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter 'W' must have rank 2 (shared) or 3 (per head), got 1}}
  attn.attention general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W = %W : memref<128xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_param_shape(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W: memref<8x16xf32>, %c: memref<?x3x1x8xf32>) {
  // W is [Dk, Dq], not [Dq, Dk].
  // expected-error @+1 {{score parameter shape mismatch: 'W' dim 0 is 8 but 'keys' dim 3 is 16}}
  attn.attention general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W = %W : memref<8x16xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_param_shape_per_head(%q: memref<?x2x3x8xf32>, %k: memref<?x2x5x16xf32>, %v: memref<?x2x5x8xf32>, %W: memref<2x16x4xf32>, %c: memref<?x3x2x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'W' dim 2 is 4 but 'query' dim 3 is 8}}
  attn.attention general align(softmax) ins(%q, %k, %v : memref<?x2x3x8xf32>, memref<?x2x5x16xf32>, memref<?x2x5x8xf32>) params(W = %W : memref<2x16x4xf32>) outs(%c : memref<?x3x2x8xf32>)
  return
}

// -----

func.func @attention_param_heads(%q: memref<?x2x3x8xf32>, %k: memref<?x2x5x16xf32>, %v: memref<?x2x5x8xf32>, %W: memref<4x16x8xf32>, %c: memref<?x3x2x8xf32>) {
  // expected-error @+1 {{head count mismatch: 'W' dim 0 is 4 but 'query' dim 1 is 2}}
  attn.attention general align(softmax) ins(%q, %k, %v : memref<?x2x3x8xf32>, memref<?x2x5x16xf32>, memref<?x2x5x8xf32>) params(W = %W : memref<4x16x8xf32>) outs(%c : memref<?x3x2x8xf32>)
  return
}

// -----

func.func @attention_biased_general_bias_shape(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W: memref<16x8xf32>, %b: memref<8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'b' dim 0 is 8 but 'keys' dim 3 is 16}}
  attn.attention biased_general align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W = %W, b = %b : memref<16x8xf32>, memref<8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_activated_general_vector_b(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W: memref<16x8xf32>, %b: memref<16xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter 'b' of activated_general must be a scalar (rank 0 or [1])}}
  attn.attention activated_general act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W = %W, b = %b : memref<16x8xf32>, memref<16xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_activated_general_rank2_b(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W: memref<16x8xf32>, %b: memref<1x1xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter 'b' of activated_general must be a scalar (rank 0 or [1])}}
  attn.attention activated_general act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W = %W, b = %b : memref<16x8xf32>, memref<1x1xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_activated_general_w(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W: memref<16x16xf32>, %b: memref<f32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'W' dim 1 is 16 but 'query' dim 3 is 8}}
  attn.attention activated_general act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W = %W, b = %b : memref<16x16xf32>, memref<f32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_additive_w1_rank(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W1: memref<6xf32>, %W2: memref<6x16xf32>, %b: memref<6xf32>, %w: memref<6xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter 'W1' must have rank 2 (shared) or 3 (per head), got 1}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<6xf32>, memref<6x16xf32>, memref<6xf32>, memref<6xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_additive_w1_shape(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W1: memref<6x16xf32>, %W2: memref<6x16xf32>, %b: memref<6xf32>, %w: memref<6xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'W1' dim 1 is 16 but 'query' dim 3 is 8}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<6x16xf32>, memref<6x16xf32>, memref<6xf32>, memref<6xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

// W2's rows must be as many as W1's (the hidden size Dw).
func.func @attention_additive_w2_hidden(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W1: memref<6x8xf32>, %W2: memref<7x16xf32>, %b: memref<6xf32>, %w: memref<6xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'W2' dim 0 is 7 but 'W1' dim 0 is 6}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<6x8xf32>, memref<7x16xf32>, memref<6xf32>, memref<6xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_additive_w2_keys(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W1: memref<6x8xf32>, %W2: memref<6x8xf32>, %b: memref<6xf32>, %w: memref<6xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'W2' dim 1 is 8 but 'keys' dim 3 is 16}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<6x8xf32>, memref<6x8xf32>, memref<6xf32>, memref<6xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

// The hidden size of a per-head W1 is its dim 1.
func.func @attention_additive_b_per_head_w1(%q: memref<?x2x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W1: memref<2x6x8xf32>, %W2: memref<6x16xf32>, %b: memref<2x5xf32>, %w: memref<6xf32>, %c: memref<?x3x2x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'b' dim 1 is 5 but 'W1' dim 1 is 6}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x2x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<2x6x8xf32>, memref<6x16xf32>, memref<2x5xf32>, memref<6xf32>) outs(%c : memref<?x3x2x8xf32>)
  return
}

// -----

func.func @attention_additive_w_shape(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W1: memref<6x8xf32>, %W2: memref<6x16xf32>, %b: memref<6xf32>, %w: memref<3xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'w' dim 0 is 3 but 'W1' dim 0 is 6}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<6x8xf32>, memref<6x16xf32>, memref<6xf32>, memref<3xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_additive_w_heads(%q: memref<?x2x3x8xf32>, %k: memref<?x1x5x16xf32>, %v: memref<?x1x5x8xf32>, %W1: memref<6x8xf32>, %W2: memref<6x16xf32>, %b: memref<6xf32>, %w: memref<3x6xf32>, %c: memref<?x3x2x8xf32>) {
  // expected-error @+1 {{head count mismatch: 'w' dim 0 is 3 but 'query' dim 1 is 2}}
  attn.attention additive act(tanh) align(softmax) ins(%q, %k, %v : memref<?x2x3x8xf32>, memref<?x1x5x16xf32>, memref<?x1x5x8xf32>) params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<6x8xf32>, memref<6x16xf32>, memref<6xf32>, memref<3x6xf32>) outs(%c : memref<?x3x2x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.online_attention
//===----------------------------------------------------------------------===//

func.func @online_layout(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x6x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{'attn.online_attention' op key count mismatch: 'keys' dim 2 is 5 but 'values' dim 2 is 6}}
  attn.online_attention dot ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x6x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_weights(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>, %a: memref<?x1x3x4xf32>) {
  // expected-error @+1 {{key count mismatch: 'keys' dim 2 is 5 but 'weights' dim 3 is 4}}
  attn.online_attention dot ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>) weights(%a : memref<?x1x3x4xf32>)
  return
}

// -----

func.func @online_sizes(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x4xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{query and key sizes differ: 'query' dim 3 is 8 but 'keys' dim 3 is 4}}
  attn.online_attention dot ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x4xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_scale_on_cosine(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %s: f32, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{scale and bias apply to the dot combine only}}
  attn.online_attention cosine ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) scale(%s) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_bias_on_additive(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %w: memref<8xf32>, %s: f32, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{scale and bias apply to the dot combine only}}
  attn.online_attention additive act(tanh) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) score_weights(%w : memref<8xf32>) bias(%s) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_act_on_cosine(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{the cosine combine takes no activation}}
  attn.online_attention cosine act(tanh) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_additive_without_weights(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score_weights are required by, and only by, the additive combine}}
  attn.online_attention additive act(tanh) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_dot_with_weights(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %w: memref<8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score_weights are required by, and only by, the additive combine}}
  attn.online_attention dot ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) score_weights(%w : memref<8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_score_weights_size(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %w: memref<6xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{score parameter shape mismatch: 'score_weights' dim 0 is 6 but 'query' dim 3 is 8}}
  attn.online_attention additive act(tanh) ins(%q, %k, %v : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) score_weights(%w : memref<6xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @online_score_weights_heads(%q: memref<?x2x3x8xf32>, %k: memref<?x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %w: memref<4x8xf32>, %c: memref<?x3x2x8xf32>) {
  // expected-error @+1 {{head count mismatch: 'score_weights' dim 0 is 4 but 'query' dim 1 is 2}}
  attn.online_attention additive act(tanh) ins(%q, %k, %v : memref<?x2x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) score_weights(%w : memref<4x8xf32>) outs(%c : memref<?x3x2x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Output model
//===----------------------------------------------------------------------===//

func.func @activation_rank(%x: memref<?x10xf32>, %y: memref<?x1x10xf32>) {
  // expected-error @+1 {{'attn.activation' op input and output ranks differ (2 vs 3)}}
  attn.activation tanh ins(%x : memref<?x10xf32>) outs(%y : memref<?x1x10xf32>)
  return
}

// -----

func.func @activation_shape(%x: memref<?x10xf32>, %y: memref<?x11xf32>) {
  // expected-error @+1 {{'attn.activation' op shape mismatch: 'input' dim 1 is 10 but 'output' dim 1 is 11}}
  attn.activation relu ins(%x : memref<?x10xf32>) outs(%y : memref<?x11xf32>)
  return
}

// -----

func.func @softmax_rank(%x: memref<10xf32>, %y: memref<1x10xf32>) {
  // expected-error @+1 {{'attn.softmax' op input and output ranks differ (1 vs 2)}}
  attn.softmax ins(%x : memref<10xf32>) outs(%y : memref<1x10xf32>)
  return
}

// -----

func.func @softmax_shape(%x: memref<2x?x10xf32>, %y: memref<3x?x10xf32>) {
  // expected-error @+1 {{'attn.softmax' op shape mismatch: 'input' dim 0 is 2 but 'output' dim 0 is 3}}
  attn.softmax ins(%x : memref<2x?x10xf32>) outs(%y : memref<3x?x10xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Type constraints (AttnOps.td)
//===----------------------------------------------------------------------===//

func.func @linear_input_rank(%x: memref<?x8xf32>, %w: memref<4x8xf32>, %y: memref<?x?x4xf32>) {
  // expected-error @+1 {{'attn.linear' op operand #0 must be tensor or memref of rank 3/4 of floating-point, but got 'memref<?x8xf32>'}}
  attn.linear ins(%x, %w : memref<?x8xf32>, memref<4x8xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// -----

func.func @linear_weight_rank(%x: memref<?x?x8xf32>, %w: memref<1x2x4x8xf32>, %y: memref<?x?x4xf32>) {
  // expected-error @+1 {{'attn.linear' op operand #1 must be tensor or memref of rank 2/3 of floating-point, but got 'memref<1x2x4x8xf32>'}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<1x2x4x8xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// -----

func.func @linear_i32_input(%x: memref<?x?x8xi32>, %w: memref<4x8xf32>, %y: memref<?x?x4xf32>) {
  // expected-error @+1 {{'attn.linear' op operand #0 must be tensor or memref of rank 3/4 of floating-point, but got 'memref<?x?x8xi32>'}}
  attn.linear ins(%x, %w : memref<?x?x8xi32>, memref<4x8xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

// -----

func.func @attention_query_rank(%q: memref<?x3x8xf32>, %k: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{'attn.attention' op operand #0 must be tensor or memref of rank 4 of floating-point, but got 'memref<?x3x8xf32>'}}
  attn.attention dot align(softmax) ins(%q, %k, %k : memref<?x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_tensor_without_result(%q: tensor<2x1x3x8xf32>, %k: tensor<2x1x5x8xf32>, %c: tensor<2x3x1x8xf32>) {
  // expected-error @+1 {{'attn.attention' op on tensors has one result per init (1), got 0}}
  attn.attention dot align(softmax) ins(%q, %k, %k : tensor<2x1x3x8xf32>, tensor<2x1x5x8xf32>, tensor<2x1x5x8xf32>) outs(%c : tensor<2x3x1x8xf32>)
  return
}

// -----

func.func @linear_tensor_result_type(%x: tensor<2x3x8xf32>, %w: tensor<4x8xf32>, %y: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'attn.linear' op result type 'tensor<2x3x4xf16>' differs from its init's type 'tensor<2x3x4xf32>'}}
  %r = attn.linear ins(%x, %w : tensor<2x3x8xf32>, tensor<4x8xf32>) outs(%y : tensor<2x3x4xf32>) -> tensor<2x3x4xf16>
  return
}

// -----

func.func @attention_f32_lengths(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %l: memref<?xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{'attn.attention' op operand #3 must be tensor or memref of rank 1 of 32-bit signless integer, but got 'memref<?xf32>'}}
  attn.attention dot align(softmax) ins(%q, %k, %k : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) lengths(%l : memref<?xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_i64_lengths(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %l: memref<?xi64>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{'attn.attention' op operand #3 must be tensor or memref of rank 1 of 32-bit signless integer, but got 'memref<?xi64>'}}
  attn.attention dot align(softmax) ins(%q, %k, %k : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) lengths(%l : memref<?xi64>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_i32_param(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %W: memref<8x8xi32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{'attn.attention' op operand #3 must be variadic of tensor or memref of floats, but got 'memref<8x8xi32>'}}
  attn.attention general align(softmax) ins(%q, %k, %k : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W = %W : memref<8x8xi32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_tensor_param(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %W: tensor<8x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mixes tensor and memref operands}}
  attn.attention general align(softmax) ins(%q, %k, %k : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) params(W = %W : tensor<8x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @attention_weights_rank(%q: memref<?x1x3x8xf32>, %k: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>, %a: memref<?x3x5xf32>) {
  // expected-error @+1 {{'attn.attention' op operand #4 must be tensor or memref of rank 4 of floating-point, but got 'memref<?x3x5xf32>'}}
  attn.attention dot align(softmax) ins(%q, %k, %k : memref<?x1x3x8xf32>, memref<?x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>) weights(%a : memref<?x3x5xf32>)
  return
}

// -----

func.func @online_score_weights_rank(%q: memref<?x4x?x16xf32>, %c: memref<?x?x4x16xf32>, %w: memref<2x4x16xf32>) {
  // expected-error @+1 {{'attn.online_attention' op operand #3 must be 1D/2D memref of 32-bit float values, but got 'memref<2x4x16xf32>'}}
  attn.online_attention additive ins(%q, %q, %q : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x16xf32>) score_weights(%w : memref<2x4x16xf32>) outs(%c : memref<?x?x4x16xf32>)
  return
}

// -----

// expected-note @+1 {{prior use here}}
func.func @online_i32_scale(%s: i32, %q: memref<?x4x?x16xf32>, %c: memref<?x?x4x16xf32>) {
  // expected-error @+1 {{use of value '%s' expects different type than prior uses: 'f32' vs 'i32'}}
  attn.online_attention dot ins(%q, %q, %q : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x16xf32>) scale(%s) outs(%c : memref<?x?x4x16xf32>)
  return
}

// -----

func.func @softmax_rank5(%x: memref<2x3x4x5x6xf32>) {
  // expected-error @+1 {{'attn.softmax' op operand #0 must be tensor or memref of rank 1/2/3/4 of floating-point, but got 'memref<2x3x4x5x6xf32>'}}
  attn.softmax ins(%x : memref<2x3x4x5x6xf32>) outs(%x : memref<2x3x4x5x6xf32>)
  return
}

// -----

func.func @softmax_rank0(%x: memref<f32>) {
  // expected-error @+1 {{'attn.softmax' op operand #0 must be tensor or memref of rank 1/2/3/4 of floating-point, but got 'memref<f32>'}}
  attn.softmax ins(%x : memref<f32>) outs(%x : memref<f32>)
  return
}

// -----

func.func @activation_memref_with_result(%x: memref<2xf32>, %y: memref<2xf32>) {
  // expected-error @+1 {{'attn.activation' op on memrefs has no results}}
  %r = attn.activation tanh ins(%x : memref<2xf32>) outs(%y : memref<2xf32>) -> tensor<2xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Parser: enum keywords
//===----------------------------------------------------------------------===//

func.func @unknown_score(%q: memref<?x1x3x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'score' [additive, dot, scaled_dot, general, biased_general, activated_general, cosine, multidim_additive, neg_sq_euclidean]}}
  attn.attention bilinear align(softmax) ins(%q, %q, %q : memref<?x1x3x8xf32>, memref<?x1x3x8xf32>, memref<?x1x3x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @unknown_act(%q: memref<?x1x3x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'act' [identity, tanh, relu, sigmoid]}}
  attn.attention additive act(gelu) align(softmax) ins(%q, %q, %q : memref<?x1x3x8xf32>, memref<?x1x3x8xf32>, memref<?x1x3x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @unknown_align(%q: memref<?x1x3x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'align' [softmax, sigmoid, argmax, hard, sparsemax, entmax15]}}
  attn.attention dot align(alphamax) ins(%q, %q, %q : memref<?x1x3x8xf32>, memref<?x1x3x8xf32>, memref<?x1x3x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

func.func @unknown_combine(%q: memref<?x1x3x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'combine' [dot, additive, cosine, multidim_additive, neg_sq_euclidean]}}
  attn.online_attention general ins(%q, %q, %q : memref<?x1x3x8xf32>, memref<?x1x3x8xf32>, memref<?x1x3x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Sizes that must agree, both static, compared only through a dynamic third
// size (the header of AttnOps.cpp: "every pair of dimensions that must agree
// when both are known"). The messages are matched loosely on purpose.
//===----------------------------------------------------------------------===//

// Neither batch is 1, so both must be the context's (dynamic) batch.
func.func @attention_query_keys_batch(%q: memref<2x1x3x8xf32>, %k: memref<3x1x5x8xf32>, %v: memref<?x1x5x8xf32>, %c: memref<?x3x1x8xf32>) {
  // expected-error @+1 {{batch mismatch}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<2x1x3x8xf32>, memref<3x1x5x8xf32>, memref<?x1x5x8xf32>) outs(%c : memref<?x3x1x8xf32>)
  return
}

// -----

// 4 rows of weights but 3 rows of context.
func.func @attention_weights_context_queries(%q: memref<1x1x?x8xf32>, %k: memref<1x1x5x8xf32>, %v: memref<1x1x5x8xf32>, %c: memref<1x3x1x8xf32>, %a: memref<1x1x4x5xf32>) {
  // expected-error @+1 {{query count mismatch}}
  attn.attention dot align(softmax) ins(%q, %k, %v : memref<1x1x?x8xf32>, memref<1x1x5x8xf32>, memref<1x1x5x8xf32>) outs(%c : memref<1x3x1x8xf32>) weights(%a : memref<1x1x4x5xf32>)
  return
}

// -----

// 6 columns of weights but 5 value rows.
func.func @attention_weights_values_keys(%q: memref<1x1x3x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x5x8xf32>, %c: memref<1x3x1x8xf32>, %a: memref<1x1x3x6xf32>) {
  // expected-error @+1 {{key count mismatch}}
  attn.online_attention dot ins(%q, %k, %v : memref<1x1x3x8xf32>, memref<1x1x?x8xf32>, memref<1x1x5x8xf32>) outs(%c : memref<1x3x1x8xf32>) weights(%a : memref<1x1x3x6xf32>)
  return
}

// -----

// A per-head weight of 2 heads and a per-head bias of 3 heads.
func.func @linear_bias_weight_heads(%x: memref<?x?x8xf32>, %w: memref<2x4x8xf32>, %b: memref<3x4xf32>, %y: memref<?x?x?x4xf32>) {
  // expected-error @+1 {{head count mismatch}}
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<2x4x8xf32>) bias(%b : memref<3x4xf32>) outs(%y : memref<?x?x?x4xf32>)
  return
}

// -----

// A per-head W2 projects the keys to the query heads; grouped keys
// (1 < Hk < Hq) have no such projection.
func.func @additive_grouped_query_per_head_w2(
    %q: memref<1x4x3x8xf32>, %k: memref<1x2x5x8xf32>, %v: memref<1x2x5x8xf32>,
    %W1: memref<4x6x8xf32>, %W2: memref<4x6x8xf32>, %b: memref<4x6xf32>,
    %w: memref<4x6xf32>, %c: memref<1x3x4x8xf32>) {
  // expected-error @+1 {{a per-head W2 needs keys with one head or as many as the query: 'keys' dim 1 is 2 but 'query' dim 1 is 4}}
  attn.attention additive act(tanh) align(softmax)
      ins(%q, %k, %v : memref<1x4x3x8xf32>, memref<1x2x5x8xf32>, memref<1x2x5x8xf32>)
      params(W1 = %W1, W2 = %W2, b = %b, w = %w : memref<4x6x8xf32>, memref<4x6x8xf32>, memref<4x6xf32>, memref<4x6xf32>)
      outs(%c : memref<1x3x4x8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Tile-level ops
//===----------------------------------------------------------------------===//

func.func @update_mixed_state(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %acc: memref<4x4xf32>, %i: index) {
  // expected-error @+1 {{the state must be all vectors or all memrefs}}
  attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, memref<4x4xf32>)
  return
}

// -----

// With key_row the keys are a tile's scratch: it holds a whole key tile.
func.func @update_key_row_short_scratch(%q: memref<1x1x?x8xf32>, %k: memref<1x1x32x8xf32>, %v: memref<1x1x?x4xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %acc: vector<4x4xf32>, %i: index) {
  // expected-error @+1 {{keys with key_row hold a whole key tile (64 rows), got 32}}
  %0:3 = attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x32x8xf32>) key_row(%i) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>) -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
  return
}

// -----

// attn.tile_weights recomputes the scores from the keys unless the update
// stored them.
func.func @weights_without_keys(%q: memref<1x1x3x8xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %a: memref<1x1x3x5xf32>, %i: index) {
  // expected-error @+1 {{the keys may be left out only with scores_stored}}
  attn.tile_weights dot query(%q[%i, %i, %i] : memref<1x1x3x8xf32>) key_end(%i) state(%m, %l : vector<4xf32>, vector<4xf32>) outs(%a[%i] : memref<1x1x3x5xf32>)
  return
}

// -----

func.func @update_max_sum_types(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: vector<4xf32>, %l: vector<2xf32>, %acc: vector<4x4xf32>, %i: index) {
  // expected-error @+1 {{max and sum must have the same type}}
  %0:3 = attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : vector<4xf32>, vector<2xf32>, vector<4x4xf32>) -> vector<4xf32>, vector<2xf32>, vector<4x4xf32>
  return
}

// -----

func.func @update_accumulator_rows(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %acc: vector<2x4xf32>, %i: index) {
  // expected-error @+1 {{accumulator has 2 rows for a query tile of 4}}
  %0:3 = attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<2x4xf32>) -> vector<4xf32>, vector<4xf32>, vector<2x4xf32>
  return
}

// -----

func.func @update_accumulator_width(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %acc: vector<4x8xf32>, %i: index) {
  // expected-error @+1 {{value size mismatch: accumulator dim 1 is 8 but 'values' dim 3 is 4}}
  %0:3 = attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x8xf32>) -> vector<4xf32>, vector<4xf32>, vector<4x8xf32>
  return
}

// -----

func.func @update_dynamic_query_tile(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: memref<?xf32>, %l: memref<?xf32>, %acc: memref<?x4xf32>, %i: index) {
  // expected-error @+1 {{the query tile size must be static and positive}}
  attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : memref<?xf32>, memref<?xf32>, memref<?x4xf32>)
  return
}

// -----

func.func @update_vector_state_results(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %acc: vector<4x4xf32>, %i: index) {
  // expected-error @+1 {{with a vector state, the results must be the new (max, sum, acc) of the state's types}}
  attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
  return
}

// -----

func.func @update_buffer_state_results(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: memref<4xf32>, %l: memref<4xf32>, %acc: memref<4x4xf32>, %i: index) {
  // expected-error @+1 {{a memref state is updated in place: no results}}
  %0 = attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : memref<4xf32>, memref<4xf32>, memref<4x4xf32>) -> vector<4xf32>
  return
}

// -----

func.func @update_key_tile(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: memref<4xf32>, %l: memref<4xf32>, %acc: memref<4x4xf32>, %i: index) {
  // expected-error @+1 {{attribute 'key_tile' failed to satisfy constraint}}
  attn.online_softmax_update dot key_tile(0) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : memref<4xf32>, memref<4xf32>, memref<4x4xf32>)
  return
}

// -----

func.func @update_score_weights(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>, %v: memref<1x1x?x4xf32>, %m: memref<4xf32>, %l: memref<4xf32>, %acc: memref<4x4xf32>, %i: index) {
  // expected-error @+1 {{score_weights are required by, and only by, the additive combine}}
  attn.online_softmax_update additive key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x?x8xf32>) values(%v[%i, %i] : memref<1x1x?x4xf32>) key_end(%i) state(%m, %l, %acc : memref<4xf32>, memref<4xf32>, memref<4x4xf32>)
  return
}

// -----

func.func @update_key_value_count(%q: memref<1x1x?x8xf32>, %k: memref<1x1x5x8xf32>, %v: memref<1x1x6x4xf32>, %m: memref<4xf32>, %l: memref<4xf32>, %acc: memref<4x4xf32>, %i: index) {
  // expected-error @+1 {{key count mismatch: 'keys' dim 2 is 5 but 'values' dim 2 is 6}}
  attn.online_softmax_update dot key_tile(64) query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i, %i] : memref<1x1x5x8xf32>) values(%v[%i, %i] : memref<1x1x6x4xf32>) key_end(%i) state(%m, %l, %acc : memref<4xf32>, memref<4xf32>, memref<4x4xf32>)
  return
}

// -----

func.func @finalize_context_width(%l: vector<4xf32>, %acc: vector<4x4xf32>, %c: memref<1x?x1x8xf32>, %i: index) {
  // expected-error @+1 {{value size mismatch: accumulator dim 1 is 4 but 'context' dim 3 is 8}}
  attn.tile_finalize ins(%l, %acc : vector<4xf32>, vector<4x4xf32>) outs(%c[%i, %i, %i] : memref<1x?x1x8xf32>)
  return
}

// -----

func.func @finalize_mixed_state(%l: vector<4xf32>, %acc: memref<4x4xf32>, %c: memref<1x?x1x4xf32>, %i: index) {
  // expected-error @+1 {{the state must be all vectors or all memrefs}}
  attn.tile_finalize ins(%l, %acc : vector<4xf32>, memref<4x4xf32>) outs(%c[%i, %i, %i] : memref<1x?x1x4xf32>)
  return
}

// -----

func.func @weights_key_count(%q: memref<1x1x?x8xf32>, %k: memref<1x1x5x8xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %a: memref<1x1x?x6xf32>, %i: index) {
  // expected-error @+1 {{key count mismatch: 'keys' dim 2 is 5 but 'weights' dim 3 is 6}}
  attn.tile_weights dot query(%q[%i, %i, %i] : memref<1x1x?x8xf32>) keys(%k[%i, %i] : memref<1x1x5x8xf32>) key_end(%i) state(%m, %l : vector<4xf32>, vector<4xf32>) outs(%a[%i] : memref<1x1x?x6xf32>)
  return
}

// -----

func.func @weights_query_count(%q: memref<1x1x3x8xf32>, %k: memref<1x1x5x8xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %a: memref<1x1x2x5xf32>, %i: index) {
  // expected-error @+1 {{query count mismatch: 'query' dim 2 is 3 but 'weights' dim 2 is 2}}
  attn.tile_weights dot query(%q[%i, %i, %i] : memref<1x1x3x8xf32>) keys(%k[%i, %i] : memref<1x1x5x8xf32>) key_end(%i) state(%m, %l : vector<4xf32>, vector<4xf32>) outs(%a[%i] : memref<1x1x2x5xf32>)
  return
}

// -----

func.func @weights_cosine_act(%q: memref<1x1x3x8xf32>, %k: memref<1x1x5x8xf32>, %m: vector<4xf32>, %l: vector<4xf32>, %a: memref<1x1x3x5xf32>, %i: index) {
  // expected-error @+1 {{the cosine combine takes no activation}}
  attn.tile_weights cosine act(tanh) query(%q[%i, %i, %i] : memref<1x1x3x8xf32>) keys(%k[%i, %i] : memref<1x1x5x8xf32>) key_end(%i) state(%m, %l : vector<4xf32>, vector<4xf32>) outs(%a[%i] : memref<1x1x3x5xf32>)
  return
}
