// RUN: attn-opt %s -split-input-file -verify-diagnostics
//
// The verifier rules of the sparse alignments: no log-sum-exp, no online
// form (the update and weights ops refuse them), attn.tile_sparse_align
// takes only them, and the row buffer is [QT, Nk] with a static QT.

func.func @lse_sparsemax(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %z: memref<?x1x?xf32>) {
  // expected-error @+1 {{'attn.attention' op lse needs align(softmax), not align(sparsemax)}}
  attn.attention dot align(sparsemax)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) lse(%z : memref<?x1x?xf32>)
  return
}

// -----

func.func @online_update(%q: memref<2x1x?x8xf32>, %v: memref<2x1x?x4xf32>, %i: index,
                         %m: memref<4xf32>, %acc: memref<4x4xf32>) {
  // expected-error @+1 {{'attn.online_softmax_update' op align(entmax15) has no online form (attn.tile_sparse_align)}}
  attn.online_softmax_update dot align(entmax15) key_tile(64)
      query(%q[%i, %i, %i] : memref<2x1x?x8xf32>) keys(%q[%i, %i, %i] : memref<2x1x?x8xf32>)
      values(%v[%i, %i] : memref<2x1x?x4xf32>) key_end(%i)
      state(%m, %m, %acc : memref<4xf32>, memref<4xf32>, memref<4x4xf32>)
  return
}

// -----

func.func @sparse_align_softmax(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %s: memref<4x?xf32>, %i: index) {
  // expected-error @+1 {{'attn.tile_sparse_align' op takes align(sparsemax) or align(entmax15), not align(softmax)}}
  attn.tile_sparse_align softmax scores(%s : memref<4x?xf32>)
      values(%q[%i, %i] : memref<?x1x?x16xf32>) key_end(%i)
      outs(%c[%i, %i, %i] : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @dynamic_rows(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %s: memref<?x?xf32>, %i: index) {
  // expected-error @+1 {{'attn.tile_sparse_align' op the query tile size must be static and positive}}
  attn.tile_sparse_align sparsemax scores(%s : memref<?x?xf32>)
      values(%q[%i, %i] : memref<?x1x?x16xf32>) key_end(%i)
      outs(%c[%i, %i, %i] : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @key_count(%q: memref<1x1x8x16xf32>, %s: memref<4x9xf32>, %i: index) {
  // expected-error @+1 {{'attn.tile_scores' op key count mismatch: 'keys' dim 2 is 8 but 'scores' dim 1 is 9}}
  attn.tile_scores dot key_tile(64)
      query(%q[%i, %i, %i] : memref<1x1x8x16xf32>) keys(%q[%i, %i, %i] : memref<1x1x8x16xf32>)
      key_end(%i) outs(%s : memref<4x9xf32>)
  return
}
