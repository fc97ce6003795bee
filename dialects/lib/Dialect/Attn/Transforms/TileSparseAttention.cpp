//===- TileSparseAttention.cpp - Sparse alignments -> their tiled form ----===//
//
// Rewrites an attn.online_attention with align(sparsemax) or
// align(entmax15) into the tiled form of the sparse alignments. These need
// the whole row of scores (a threshold over the row), so they have no
// online form; their key loop instead stores the scores:
//
//   scf.parallel (b, h, query tile i0) {
//     %scores = memref.alloc(Nk) : memref<QTxNkxf32>   // per iteration
//     scf.for key tiles j0 (the mask bounds of the softmax's key loop) {
//       attn.tile_scores ... outs(%scores)      // s[r, j0 + j], visible keys
//     }
//     attn.tile_sparse_align sparsemax|entmax15 scores(%scores)
//         values(...) outs(%c[...]) weights(%a)  // threshold, p v, weights
//     memref.dealloc %scores
//   }
//
// The scratch is QT x Nk floats per parallel iteration (QT = the target's
// query tile). The key loop's bounds are those of TileAttention.cpp (key
// tiles masked for the whole query tile are never visited).
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Target/TargetDescription.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

struct TileSparseAttention : public OpRewritePattern<OnlineAttentionOp> {
  TileSparseAttention(MLIRContext *context, const TargetDescription &target,
                      const AttentionTilingOptions &options)
      // Above TileOnlineAttention, which would build an online update.
      : OpRewritePattern(context, /*benefit=*/2), target(target),
        options(options) {}

  LogicalResult matchAndRewrite(OnlineAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!isSparseAlign(op.getAlign()))
      return rewriter.notifyMatchFailure(op, "not a sparse alignment");
    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value q = op.getQuery(), k = op.getKeys(), v = op.getValues();
    Value context = op.getOutput();
    Value batch = e.dim(context, 0), hq = e.dim(q, 1), nq = e.dim(q, 2),
          nk = e.dim(k, 2);
    Value keyGroup = headGroupSize(e, hq, e.dim(k, 1)),
          valueGroup = headGroupSize(e, hq, e.dim(v, 1));
    int64_t queryTile = target.queryTile;
    int64_t keyTile = target.keyTileFor(options.keyTile);
    Value zero = e.index(0), one = e.index(1);
    Value queryStep = e.index(queryTile), keyStep = e.index(keyTile);

    auto parallel = b.create<scf::ParallelOp>(ValueRange{zero, zero, zero},
                                              ValueRange{batch, hq, nq},
                                              ValueRange{one, one, queryStep});
    b.setInsertionPoint(parallel.getBody()->getTerminator());
    Value bIdx = parallel.getInductionVars()[0],
          h = parallel.getInductionVars()[1],
          i0 = parallel.getInductionVars()[2];
    Value bq = e.broadcastIndex(q, 0, bIdx), bk = e.broadcastIndex(k, 0, bIdx),
          bv = e.broadcastIndex(v, 0, bIdx);
    Value hk = b.create<arith::DivUIOp>(h, keyGroup),
          hv = b.create<arith::DivUIOp>(h, valueGroup);
    // The masks as bounds, as for the online softmax (TileAttention.cpp).
    TileKeyLoop keys =
        tileKeyLoop(e, op, bIdx, h, i0, queryTile, keyStep, nq, nk);
    Value visible = keys.visible, prefixEnd = keys.prefixEnd;
    Value tileKeyBegin = keys.begin, tileKeyEnd = keys.end;

    // The rows of scores of the query tile: QT x Nk floats, per iteration.
    auto rowsType =
        MemRefType::get({queryTile, ShapedType::kDynamic}, b.getF32Type());
    Value scores = b.create<memref::AllocOp>(rowsType, ValueRange{nk});
    auto keyLoop = b.create<scf::ForOp>(tileKeyBegin, tileKeyEnd, keyStep);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(keyLoop.getBody()->getTerminator());
      b.create<TileScoresOp>(q, bq, h, i0, k, bk, hk, keyLoop.getInductionVar(),
                             op.getScoreWeights(), op.getScale(), op.getBias(),
                             visible, prefixEnd, op.getModSizes(),
                             op.getModTables(),
                             op.getScoreModAttr() || op.getMaskModAttr()
                                 ? bIdx
                                 : Value(),
                             scores, op.getCombine(), op.getAct(),
                             op.getCausal(), keyTile, op.getCausalOffsetAttr(),
                             op.getWindowAttr(), op.getScoreModAttr(),
                             op.getMaskModAttr(), /*weight_mod=*/nullptr,
                             op.getBandLowerAttr(), op.getBandUpperAttr());
    }
    b.create<TileSparseAlignOp>(scores, v, bv, hv, visible, prefixEnd, context,
                                bIdx, i0, h, op.getWeights(), op.getAlign(),
                                op.getCausal(), op.getCausalOffsetAttr(),
                                op.getWindowAttr(), op.getBandLowerAttr(),
                                op.getBandUpperAttr());
    b.create<memref::DeallocOp>(scores);
    rewriter.eraseOp(op);
    return success();
  }

  const TargetDescription &target;
  AttentionTilingOptions options;
};

} // namespace

void mlir::attn::populateTileSparseAttentionPatterns(
    RewritePatternSet &patterns, const TargetDescription &target,
    const AttentionTilingOptions &options) {
  patterns.add<TileSparseAttention>(patterns.getContext(), target, options);
}
