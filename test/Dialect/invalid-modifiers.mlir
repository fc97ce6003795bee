// RUN: attn-opt %s -split-input-file -verify-diagnostics
//
// The score_mod / mask_mod functions are checked against the op: they
// exist, take the indices, sizes and tables the op passes, and return f32
// (score) or i1 (mask).

func.func @missing(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{score_mod 'nope' does not name a func.func}}
  attn.online_attention dot score_mod(@nope)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func private @keep(%b: index, %h: index, %i: index) -> i1
func.func @arity(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{mask_mod 'keep' must take 4 arguments (b, h, i, l, 0 sizes, 0 tables), got 3}}
  attn.online_attention dot mask_mod(@keep)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func private @score(%e: f32, %b: index, %h: index, %i: index, %l: index) -> i1
func.func @result(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{score_mod 'score' must return one 'f32'}}
  attn.online_attention dot score_mod(@score)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func private @keep(%b: index, %h: index, %i: index, %l: index,
                        %t: memref<?xf32, strided<[?], offset: ?>>) -> i1
func.func @table(%q: memref<?x1x?x16xf32>, %t: memref<4xi32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{mask_mod argument #4 (table #0) must be a 1-d buffer of 'i32'}}
  attn.online_attention dot mask_mod(@keep)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      mod_tables(%t : memref<4xi32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func @orphan_tables(%q: memref<?x1x?x16xf32>, %t: memref<4xi32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{mod_sizes and mod_tables need a score_mod, a mask_mod or a weight_mod}}
  attn.online_attention dot
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      mod_tables(%t : memref<4xi32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}

// -----

func.func private @keep(%b: index, %h: index, %i: index, %l: index) -> i1
func.func @no_batch(%q: memref<?x1x?x16xf32>, %m: vector<4xf32>, %acc: vector<4x16xf32>, %i: index) {
  // expected-error @+1 {{sample_batch goes with align(hard), a score_mod, a mask_mod, a weight_mod or scores_out, and only with them}}
  %m1, %l1, %acc1 = attn.online_softmax_update dot mask_mod(@keep) key_tile(64)
      query(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      keys(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      values(%q[%i, %i] : memref<?x1x?x16xf32>)
      key_end(%i)
      state(%m, %m, %acc : vector<4xf32>, vector<4xf32>, vector<4x16xf32>)
      -> vector<4xf32>, vector<4xf32>, vector<4x16xf32>
  return
}
