//===- Passes.h - Transformations of the attn dialect -----------*- C++ -*-===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attn {

struct TargetDescription;

/// What the tiling of attn.online_attention may be told besides the target.
struct AttentionTilingOptions {
  /// Keys per key tile; 0 takes the target's.
  int64_t keyTile = 0;
  /// Carry the running state as vectors (in registers) when D and Dv allow.
  bool vectorize = true;
  /// Query tiles per query group (-attn-tile-attention's
  /// `query-tiles-per-group`); 0 takes the target's.
  int64_t queryTilesPerGroup = 0;
  /// Split the keys when the parallel iterations are few
  /// (-attn-tile-attention's `split-keys`).
  bool splitKeys = true;
  /// With a dynamic n_q, also emit the tiled form for n_q = 1 (tiles of one
  /// query: the single-query kernel) under an scf.if
  /// (-attn-tile-attention's `single-query-copy`).
  bool singleQueryCopy = true;
  /// The kernels take bf16 products on the AMX tile unit: whole tiles get
  /// query tiles of `amxQueryTile` rows (-attn-tile-attention's
  /// `amx-tiles`).
  bool amxTiles = false;
};

/// Emits an error on `op` and fails when `options` are out of range for
/// `target` (the passes that tile check their options with it).
LogicalResult checkTilingOptions(Operation *op,
                                 const TargetDescription &target,
                                 const AttentionTilingOptions &options);

/// attn.online_attention -> its tiled form (see -attn-tile-attention).
void populateTileAttentionPatterns(RewritePatternSet &patterns,
                                   const TargetDescription &target,
                                   const AttentionTilingOptions &options);

/// The tiled form of the sparse alignments (sparsemax, entmax15): a key
/// loop storing the rows of scores, then attn.tile_sparse_align
/// (TileSparseAttention.cpp). Part of populateTileAttentionPatterns.
void populateTileSparseAttentionPatterns(
    RewritePatternSet &patterns, const TargetDescription &target,
    const AttentionTilingOptions &options);

/// attn.attention -> attn.linear + attn.online_attention (see
/// -attn-decompose-scores).
void populateDecomposeScoresPatterns(RewritePatternSet &patterns);

#define GEN_PASS_DECL
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_H
