// RUN: attn-opt %s -split-input-file -verify-diagnostics
//
// The verifier rules of the alignments: the log-sum-exp is the softmax's;
// hard has a seed in [0, 2^32) (and the tile update the batch to key it).

func.func @lse_sigmoid(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %z: memref<?x1x?xf32>) {
  // expected-error @+1 {{'attn.attention' op lse needs align(softmax), not align(sigmoid)}}
  attn.attention dot align(sigmoid)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) lse(%z : memref<?x1x?xf32>)
  return
}

// -----

func.func @lse_argmax(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %z: memref<?x1x?xf32>) {
  // expected-error @+1 {{'attn.online_attention' op lse needs align(softmax), not align(argmax)}}
  attn.online_attention dot align(argmax)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) lse(%z : memref<?x1x?xf32>)
  return
}

// -----

func.func @unknown_align(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'align' [softmax, sigmoid, argmax, hard, sparsemax, entmax15]}}
  attn.online_attention dot align(alphamax)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @hard_without_seed(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.attention' op align(hard) needs a seed}}
  attn.attention dot align(hard)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @seed_without_hard(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.online_attention' op a seed needs align(hard)}}
  attn.online_attention dot align(argmax) seed(3)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @seed_range(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{'attn.online_attention' op the seed must be in [0, 2^32), got -1}}
  attn.online_attention dot align(hard) seed(-1)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @hard_without_batch(%q: memref<2x4x?x8xf32>, %v: memref<2x4x?x4xf32>, %b: index, %e: index,
                              %m: vector<4xf32>, %acc: vector<4x4xf32>) {
  // expected-error @+1 {{'attn.online_softmax_update' op sample_batch goes with align(hard), a score_mod, a mask_mod, a weight_mod or scores_out, and only with them}}
  %m1, %l1, %a1 = attn.online_softmax_update dot align(hard) seed(1) key_tile(16)
      query(%q[%b, %b, %b] : memref<2x4x?x8xf32>)
      keys(%q[%b, %b, %b] : memref<2x4x?x8xf32>)
      values(%v[%b, %b] : memref<2x4x?x4xf32>)
      key_end(%e)
      state(%m, %m, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
  return
}

// -----

// The update writes its scores out (for the weights pass) only for a
// softmax, whose weights are those scores normalized.
func.func @scores_out_with_sigmoid(%q: memref<2x4x?x8xf32>, %v: memref<2x4x?x4xf32>,
                                   %w: memref<2x4x?x?xf32>, %b: index, %e: index,
                                   %m: vector<4xf32>, %acc: vector<4x4xf32>) {
  // expected-error @+1 {{'attn.online_softmax_update' op scores_out goes with the softmax}}
  %m1, %l1, %a1 = attn.online_softmax_update dot align(sigmoid) key_tile(16)
      query(%q[%b, %b, %b] : memref<2x4x?x8xf32>)
      keys(%q[%b, %b, %b] : memref<2x4x?x8xf32>)
      values(%v[%b, %b] : memref<2x4x?x4xf32>)
      key_end(%e) sample_batch(%b) scores_out(%w : memref<2x4x?x?xf32>)
      state(%m, %m, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
  return
}

// -----

func.func @scores_out_of_other_heads(%q: memref<2x4x?x8xf32>, %v: memref<2x4x?x4xf32>,
                                     %w: memref<2x3x?x?xf32>, %b: index, %e: index,
                                     %m: vector<4xf32>, %acc: vector<4x4xf32>) {
  // expected-error @+1 {{head count mismatch}}
  %m1, %l1, %a1 = attn.online_softmax_update dot key_tile(16)
      query(%q[%b, %b, %b] : memref<2x4x?x8xf32>)
      keys(%q[%b, %b, %b] : memref<2x4x?x8xf32>)
      values(%v[%b, %b] : memref<2x4x?x4xf32>)
      key_end(%e) sample_batch(%b) scores_out(%w : memref<2x3x?x?xf32>)
      state(%m, %m, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
  return
}

// -----

func.func @scores_stored_with_sigmoid(%q: memref<2x4x?x8xf32>, %w: memref<2x4x?x?xf32>,
                                      %b: index, %e: index, %m: vector<4xf32>) {
  // expected-error @+1 {{'attn.tile_weights' op scores_stored goes with the softmax}}
  attn.tile_weights dot align(sigmoid) scores_stored
      query(%q[%b, %b, %b] : memref<2x4x?x8xf32>)
      keys(%q[%b, %b] : memref<2x4x?x8xf32>)
      key_end(%e)
      state(%m, %m : vector<4xf32>, vector<4xf32>)
      outs(%w[%b] : memref<2x4x?x?xf32>)
  return
}
