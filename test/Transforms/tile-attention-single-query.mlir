// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 query-tiles-per-group=4" | FileCheck %s
// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 single-query-copy=false query-tiles-per-group=4" | FileCheck %s --check-prefix=NOCOPY
//
// The single-query copy (-attn-tile-attention, a dot or cosine softmax with
// a vector state): a dynamic n_q may be 1 at run time (a decoder's step
// with a model made for any number of queries). The tiled form is then
// emitted twice under `scf.if %nq != 1`: the form for many queries (tiles
// of 8 queries, groups of at most 4 tiles per iteration) in the
// then-branch, and the form with tiles of one query (no groups) in the
// else-branch, whose update the single-query kernel lowers (keys read in
// place). A static n_q gets one form, its own size.

// CHECK-LABEL: func @dynamic
// CHECK:      %[[NQ:.*]] = memref.dim %{{.*}}, %c2 : memref<1x8x?x64xf32>
// CHECK:      %[[MANY:.*]] = arith.cmpi ne, %[[NQ]], %c1
// CHECK-NEXT: scf.if %[[MANY]] {
// CHECK:        %[[T1:.*]] = arith.addi %[[NQ]], %c7
// CHECK-NEXT:   %[[T:.*]] = arith.divui %[[T1]], %c8
// CHECK:        %[[GROUPS:.*]] = arith.minsi %{{.*}}, %[[T]]
// CHECK:        scf.parallel ({{.*}}) = ({{.*}}) to (%c1, %c8, %[[GROUPS]], %{{.*}}) step (%c1, %c1, %c1, %c1)
// CHECK:          memref.alloc() : memref<4x8xf32>
// CHECK:          attn.online_softmax_update dot key_tile(128) {{.*}} state({{.*}} : vector<8xf32>, vector<8xf32>, vector<8x64xf32>)
// The else-branch (after the first form's merge of its key splits).
// CHECK:        scf.parallel ({{.*}}) = ({{.*}}) to (%c1, %c8, %[[NQ]], %{{.*}}) step (%c1, %c1, %c1, %c1)
// CHECK-NOT:      memref<4x8xf32>
// CHECK:          attn.online_softmax_update dot key_tile(128) {{.*}} state({{.*}} : vector<1xf32>, vector<1xf32>, vector<1x64xf32>)
// CHECK:          attn.tile_finalize
// CHECK:        memref.dealloc %{{.*}} : memref<?x?x?x?x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return

// NOCOPY-LABEL: func @dynamic
// NOCOPY-NOT:   arith.cmpi ne
// NOCOPY-NOT:   vector<1xf32>
// NOCOPY:       return
func.func @dynamic(%q: memref<1x8x?x64xf32>, %k: memref<1x8x?x64xf32>,
                   %v: memref<1x8x?x64xf32>, %s: f32,
                   %c: memref<1x?x8x64xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x8x?x64xf32>, memref<1x8x?x64xf32>, memref<1x8x?x64xf32>)
      scale(%s) outs(%c : memref<1x?x8x64xf32>)
  return
}

// A static n_q of 1: the single-query form only.
// CHECK-LABEL: func @static_one
// CHECK-NOT:    scf.if
// CHECK:        scf.parallel ({{.*}}) = ({{.*}}) to (%c1, %c8, %c1, %{{.*}}) step (%c1, %c1, %c1, %c1)
// CHECK:          attn.online_softmax_update {{.*}} state({{.*}} : vector<1xf32>, vector<1xf32>, vector<1x64xf32>)
func.func @static_one(%q: memref<1x8x1x64xf32>, %k: memref<1x8x?x64xf32>,
                      %v: memref<1x8x?x64xf32>, %s: f32,
                      %c: memref<1x1x8x64xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x8x1x64xf32>, memref<1x8x?x64xf32>, memref<1x8x?x64xf32>)
      scale(%s) outs(%c : memref<1x1x8x64xf32>)
  return
}

// A static n_q of 12: tiles of 8, groups of at most 2 (one per head: 8
// heads fill up to 8 threads), no copy.
// CHECK-LABEL: func @static_twelve
// CHECK-NOT:    vector<1xf32>
// CHECK:        %[[GROUPS:.*]] = arith.minsi %{{.*}}, %c2
// CHECK:        scf.parallel ({{.*}}) = ({{.*}}) to (%c1, %c8, %[[GROUPS]], %{{.*}}) step (%c1, %c1, %c1, %c1)
// CHECK:          memref.alloc() : memref<2x8xf32>
// CHECK-NOT:    vector<1xf32>
// CHECK:        return
func.func @static_twelve(%q: memref<1x8x12x64xf32>, %k: memref<1x8x?x64xf32>,
                         %v: memref<1x8x?x64xf32>, %s: f32,
                         %c: memref<1x12x8x64xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x8x12x64xf32>, memref<1x8x?x64xf32>, memref<1x8x?x64xf32>)
      scale(%s) outs(%c : memref<1x12x8x64xf32>)
  return
}

// Self-attention: n_k is n_q by construction (the same memref, or allocs of
// the same size value), so n_q = 1 means one key, nothing to pack: no copy.
// CHECK-LABEL: func @self_attention
// CHECK-NOT:    arith.cmpi ne
// CHECK-NOT:    vector<1xf32>
// CHECK:        return
func.func @self_attention(%x: memref<1x8x?x64xf32>, %s: f32,
                          %c: memref<1x?x8x64xf32>) {
  attn.online_attention dot
      ins(%x, %x, %x : memref<1x8x?x64xf32>, memref<1x8x?x64xf32>, memref<1x8x?x64xf32>)
      scale(%s) outs(%c : memref<1x?x8x64xf32>)
  return
}

// CHECK-LABEL: func @projected_self_attention
// CHECK-NOT:    arith.cmpi ne
// CHECK-NOT:    vector<1xf32>
// CHECK:        return
func.func @projected_self_attention(%n: index, %s: f32,
                                    %c: memref<1x?x8x64xf32>) {
  %q = memref.alloc(%n) : memref<1x8x?x64xf32>
  %k = memref.alloc(%n) : memref<1x8x?x64xf32>
  %v = memref.alloc(%n) : memref<1x8x?x64xf32>
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x8x?x64xf32>, memref<1x8x?x64xf32>, memref<1x8x?x64xf32>)
      scale(%s) outs(%c : memref<1x?x8x64xf32>)
  memref.dealloc %q : memref<1x8x?x64xf32>
  memref.dealloc %k : memref<1x8x?x64xf32>
  memref.dealloc %v : memref<1x8x?x64xf32>
  return
}
