// RUN: attn-opt %s -split-input-file -verify-diagnostics
//
// The verifier rules of multi-dimensional attention (multidim_additive):
// W_d is [Dv, Dw] (Dv that of the values, never per head), the weights and
// the log-sum-exp are not outputs, the alignment is the softmax, and the
// combine has no tiled form.

func.func @wd_not_dv(%q: memref<?x1x?x6xf32>, %v: memref<?x1x?x3xf32>,
                     %w1: memref<4x6xf32>, %b: memref<4xf32>,
                     %wd: memref<5x4xf32>, %c: memref<?x?x1x3xf32>) {
  // expected-error @+1 {{'attn.attention' op score parameter shape mismatch: 'Wd' dim 0 is 5 but 'values' dim 3 is 3}}
  attn.attention multidim_additive align(softmax)
      ins(%q, %q, %v : memref<?x1x?x6xf32>, memref<?x1x?x6xf32>, memref<?x1x?x3xf32>)
      params(W1 = %w1, W2 = %w1, b = %b, Wd = %wd
             : memref<4x6xf32>, memref<4x6xf32>, memref<4xf32>, memref<5x4xf32>)
      outs(%c : memref<?x?x1x3xf32>)
  return
}

// -----

func.func @wd_not_dw(%q: memref<?x1x?x6xf32>, %v: memref<?x1x?x3xf32>,
                     %w1: memref<4x6xf32>, %b: memref<4xf32>,
                     %wd: memref<3x6xf32>, %c: memref<?x?x1x3xf32>) {
  // expected-error @+1 {{'attn.attention' op score parameter shape mismatch: 'Wd' dim 1 is 6 but 'W1' dim 0 is 4}}
  attn.attention multidim_additive align(softmax)
      ins(%q, %q, %v : memref<?x1x?x6xf32>, memref<?x1x?x6xf32>, memref<?x1x?x3xf32>)
      params(W1 = %w1, W2 = %w1, b = %b, Wd = %wd
             : memref<4x6xf32>, memref<4x6xf32>, memref<4xf32>, memref<3x6xf32>)
      outs(%c : memref<?x?x1x3xf32>)
  return
}

// -----

func.func @wd_per_head(%q: memref<?x2x?x6xf32>, %v: memref<?x2x?x3xf32>,
                       %w1: memref<4x6xf32>, %b: memref<4xf32>,
                       %wd: memref<2x3x4xf32>, %c: memref<?x?x2x3xf32>) {
  // expected-error @+1 {{'attn.attention' op score parameter 'Wd' must have rank 2, got 3}}
  attn.attention multidim_additive align(softmax)
      ins(%q, %q, %v : memref<?x2x?x6xf32>, memref<?x2x?x6xf32>, memref<?x2x?x3xf32>)
      params(W1 = %w1, W2 = %w1, b = %b, Wd = %wd
             : memref<4x6xf32>, memref<4x6xf32>, memref<4xf32>, memref<2x3x4xf32>)
      outs(%c : memref<?x?x2x3xf32>)
  return
}

// -----

func.func @weights(%q: memref<?x1x?x6xf32>, %v: memref<?x1x?x3xf32>,
                   %w1: memref<4x6xf32>, %b: memref<4xf32>,
                   %wd: memref<3x4xf32>, %c: memref<?x?x1x3xf32>,
                   %a: memref<?x1x?x?xf32>) {
  // expected-error @+1 {{'attn.attention' op a multi-dimensional score has no weights output}}
  attn.attention multidim_additive align(softmax)
      ins(%q, %q, %v : memref<?x1x?x6xf32>, memref<?x1x?x6xf32>, memref<?x1x?x3xf32>)
      params(W1 = %w1, W2 = %w1, b = %b, Wd = %wd
             : memref<4x6xf32>, memref<4x6xf32>, memref<4xf32>, memref<3x4xf32>)
      outs(%c : memref<?x?x1x3xf32>) weights(%a : memref<?x1x?x?xf32>)
  return
}

// -----

func.func @lse(%q: memref<?x1x?x4xf32>, %v: memref<?x1x?x3xf32>,
               %wd: memref<3x4xf32>, %c: memref<?x?x1x3xf32>,
               %z: memref<?x1x?xf32>) {
  // expected-error @+1 {{'attn.online_attention' op a multi-dimensional score has no lse output}}
  attn.online_attention multidim_additive
      ins(%q, %q, %v : memref<?x1x?x4xf32>, memref<?x1x?x4xf32>, memref<?x1x?x3xf32>)
      score_weights(%wd : memref<3x4xf32>)
      outs(%c : memref<?x?x1x3xf32>) lse(%z : memref<?x1x?xf32>)
  return
}

// -----

func.func @argmax(%q: memref<?x1x?x4xf32>, %v: memref<?x1x?x3xf32>,
                  %wd: memref<3x4xf32>, %c: memref<?x?x1x3xf32>) {
  // expected-error @+1 {{'attn.online_attention' op a multi-dimensional score needs align(softmax), not align(argmax)}}
  attn.online_attention multidim_additive align(argmax)
      ins(%q, %q, %v : memref<?x1x?x4xf32>, memref<?x1x?x4xf32>, memref<?x1x?x3xf32>)
      score_weights(%wd : memref<3x4xf32>)
      outs(%c : memref<?x?x1x3xf32>)
  return
}

// -----

func.func @online_wd_not_dv(%q: memref<?x1x?x4xf32>, %v: memref<?x1x?x3xf32>,
                            %wd: memref<2x4xf32>, %c: memref<?x?x1x3xf32>) {
  // expected-error @+1 {{'attn.online_attention' op score parameter shape mismatch: 'score_weights' dim 0 is 2 but 'values' dim 3 is 3}}
  attn.online_attention multidim_additive
      ins(%q, %q, %v : memref<?x1x?x4xf32>, memref<?x1x?x4xf32>, memref<?x1x?x3xf32>)
      score_weights(%wd : memref<2x4xf32>)
      outs(%c : memref<?x?x1x3xf32>)
  return
}

// -----

func.func @online_wd_vector(%q: memref<?x1x?x4xf32>, %v: memref<?x1x?x3xf32>,
                            %wd: memref<4xf32>, %c: memref<?x?x1x3xf32>) {
  // expected-error @+1 {{'attn.online_attention' op score_weights of the multidim_additive combine must be [Dv, Dw], got rank 1}}
  attn.online_attention multidim_additive
      ins(%q, %q, %v : memref<?x1x?x4xf32>, memref<?x1x?x4xf32>, memref<?x1x?x3xf32>)
      score_weights(%wd : memref<4xf32>)
      outs(%c : memref<?x?x1x3xf32>)
  return
}

// -----

func.func @online_wd_not_dw(%q: memref<?x1x?x4xf32>, %v: memref<?x1x?x3xf32>,
                            %wd: memref<3x5xf32>, %c: memref<?x?x1x3xf32>) {
  // expected-error @+1 {{'attn.online_attention' op score parameter shape mismatch: 'score_weights' dim 1 is 5 but 'query' dim 3 is 4}}
  attn.online_attention multidim_additive
      ins(%q, %q, %v : memref<?x1x?x4xf32>, memref<?x1x?x4xf32>, memref<?x1x?x3xf32>)
      score_weights(%wd : memref<3x5xf32>)
      outs(%c : memref<?x?x1x3xf32>)
  return
}

// -----

func.func @tiled(%q: memref<2x1x?x4xf32>, %v: memref<2x1x?x3xf32>,
                 %wd: memref<3x4xf32>, %i: index, %m: memref<4xf32>,
                 %acc: memref<4x3xf32>) {
  // expected-error @+1 {{'attn.online_softmax_update' op the multidim_additive combine is lowered from attn.online_attention, never tiled}}
  attn.online_softmax_update multidim_additive key_tile(8)
      query(%q[%i, %i, %i] : memref<2x1x?x4xf32>)
      keys(%q[%i, %i, %i] : memref<2x1x?x4xf32>)
      values(%v[%i, %i] : memref<2x1x?x3xf32>)
      score_weights(%wd : memref<3x4xf32>)
      key_end(%i) state(%m, %m, %acc : memref<4xf32>, memref<4xf32>, memref<4x3xf32>)
  return
}
