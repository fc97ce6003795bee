// RUN: attn-opt %s | FileCheck %s
// RUN: attn-opt %s | attn-opt | FileCheck %s
//
// The sparse alignments round-trip: align(sparsemax) / align(entmax15) on
// attn.attention and attn.online_attention, and their tiled form's ops
// attn.tile_scores and attn.tile_sparse_align.

// CHECK-LABEL: func @sparse
// CHECK: attn.attention scaled_dot align(sparsemax) causal ins(
// CHECK-SAME: weights(
// CHECK: attn.online_attention dot align(entmax15) window(3) ins(
// CHECK: attn.tile_scores dot causal causal_offset(-1) key_tile(64) query(%{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x1x?x16xf32>) keys(%{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x1x?x16xf32>) scale(%{{.*}}) key_end(%{{.*}}) outs(%{{.*}} : memref<4x?xf32>)
// CHECK: attn.tile_sparse_align entmax15 window(5) scores(%{{.*}} : memref<4x?xf32>) values(%{{.*}}[%{{.*}}, %{{.*}}] : memref<?x1x?x16xf32>) key_end(%{{.*}}) outs(%{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x?x1x16xf32>) weights(%{{.*}} : memref<?x1x?x?xf32>)
// CHECK: attn.tile_sparse_align sparsemax causal scores(
// CHECK-SAME: prefix_end(
func.func @sparse(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %w: memref<?x1x?x?xf32>,
                  %s: memref<4x?xf32>, %i: index, %scale: f32) {
  attn.attention scaled_dot align(sparsemax) causal
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) weights(%w : memref<?x1x?x?xf32>)
  attn.online_attention dot align(entmax15) window(3)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  attn.tile_scores dot causal causal_offset(-1) key_tile(64)
      query(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      keys(%q[%i, %i, %i] : memref<?x1x?x16xf32>)
      scale(%scale) key_end(%i) outs(%s : memref<4x?xf32>)
  attn.tile_sparse_align entmax15 window(5) scores(%s : memref<4x?xf32>)
      values(%q[%i, %i] : memref<?x1x?x16xf32>) key_end(%i)
      outs(%c[%i, %i, %i] : memref<?x?x1x16xf32>) weights(%w : memref<?x1x?x?xf32>)
  attn.tile_sparse_align sparsemax causal scores(%s : memref<4x?xf32>)
      values(%q[%i, %i] : memref<?x1x?x16xf32>) key_end(%i) prefix_end(%i)
      outs(%c[%i, %i, %i] : memref<?x?x1x16xf32>)
  return
}
