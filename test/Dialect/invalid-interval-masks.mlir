// RUN: attn-opt %s -split-input-file -verify-diagnostics
//
// The verifier rules of the interval masks (verifyIntervalMasks in
// lib/Dialect/Attn/IR/AttnOps.cpp).

func.func @offset_without_causal(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.attention' op causal_offset requires causal}}
  attn.attention dot align(softmax) causal_offset(2)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @window_zero(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.online_attention' op window must be positive, got 0}}
  attn.online_attention dot window(0)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @prefix_without_causal(%q: memref<?x1x?x16xf32>, %p: memref<?xi32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.attention' op a prefix mask requires causal}}
  attn.attention dot align(softmax)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      prefix(%p : memref<?xi32>) outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @prefix_and_window(%q: memref<?x1x?x16xf32>, %p: memref<?xi32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.online_attention' op a prefix mask and a window do not combine}}
  attn.online_attention dot causal window(4)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      prefix(%p : memref<?xi32>) outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @prefix_batch(%q: memref<2x1x?x16xf32>, %p: memref<3xi32>, %c: memref<2x?x1x16xf32>) {
  // expected-error @+1 {{batch mismatch: 'prefix' dim 0 is 3 but 'context' dim 0 is 2}}
  attn.attention dot align(softmax) causal
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      prefix(%p : memref<3xi32>) outs(%c : memref<2x?x1x16xf32>)
  return
}

// -----

func.func @prefix_type(%q: memref<?x1x?x16xf32>, %p: memref<?xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{operand #3 must be tensor or memref of rank 1 of 32-bit signless integer}}
  attn.attention dot align(softmax) causal
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      prefix(%p : memref<?xf32>) outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @tile_prefix_without_causal(%q: memref<?x1x?x16xf32>, %i: index, %m: vector<4xf32>, %acc: vector<4x16xf32>) {
  // expected-error @+1 {{'attn.online_softmax_update' op a prefix mask requires causal}}
  %m1, %l1, %acc1 = attn.online_softmax_update dot key_tile(64)
      query(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      keys(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      values(%q[%i, %i] : memref<?x1x?x16xf32>)
      key_end(%i) prefix_end(%i)
      state(%m, %m, %acc : vector<4xf32>, vector<4xf32>, vector<4x16xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x16xf32>
  return
}

// -----

func.func @lse_queries(%q: memref<?x1x5x16xf32>, %c: memref<?x5x1x16xf32>, %z: memref<?x1x4xf32>) {
  // expected-error @+1 {{query count mismatch: 'lse' dim 2 is 4 but 'query' dim 2 is 5}}
  attn.online_attention dot
      ins(%q, %q, %q : memref<?x1x5x16xf32>, memref<?x1x5x16xf32>, memref<?x1x5x16xf32>)
      outs(%c : memref<?x5x1x16xf32>) lse(%z : memref<?x1x4xf32>)
  return
}

// -----

func.func @lse_heads(%q: memref<?x2x?x16xf32>, %c: memref<?x?x2x16xf32>, %z: memref<?x3x?xf32>) {
  // expected-error @+1 {{head count mismatch: 'lse' dim 1 is 3 but 'query' dim 1 is 2}}
  attn.attention dot align(softmax)
      ins(%q, %q, %q : memref<?x2x?x16xf32>, memref<?x2x?x16xf32>, memref<?x2x?x16xf32>)
      outs(%c : memref<?x?x2x16xf32>) lse(%z : memref<?x3x?xf32>)
  return
}

// -----

// The loop bounds add the masks' distances to a query index: at most 2^62.
func.func @causal_offset_too_large(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.attention' op causal_offset must be within +-2^62 (the loop bounds add it to a query index), got 9223372036854775807}}
  attn.attention dot align(softmax) causal causal_offset(9223372036854775807)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @window_too_large(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.online_attention' op window must be within +-2^62 (the loop bounds add it to a query index), got 4611686018427387905}}
  attn.online_attention dot window(4611686018427387905)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @band_too_large(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.attention' op band_lower must be within +-2^62 (the loop bounds add it to a query index), got -9223372036854775808}}
  attn.attention dot align(softmax) band_lower(-9223372036854775808)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}
