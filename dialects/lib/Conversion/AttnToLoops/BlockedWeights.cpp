//===- BlockedWeights.cpp - The weights output on key panels --------------===//
//
// Lowers attn.tile_weights (the second pass of a model that returns its
// attention weights) with a dot or cosine score and the softmax the blocked
// way: the keys packed into panels of `vectorLanes` transposed keys before
// the parallel loop (BlockedPanels.h, as for the update), then for each
// step of panels the query tile's scores as lane-wide FMAs, and
//
//   weights[b, h, i_r, j..j+lanes) = exp(s_rj - m_r) / l_r   (0 if masked)
//
// with the inline exp, stored as whole vectors (a masked store past the
// last key). With `scores_stored` the key loop's update already wrote the
// scores into the weights: they are read there, 16 keys at a time, and
// normalized in place, with no keys packed and no products. The generic
// lowering (TileKernels.cpp) recomputes each score with a horizontal
// reduction and a scalar exp.
//
// The scores are computed as the update kernel computes them (the same
// panel dot products, each summed over d in the same order, then the same
// scaling), so they match the maximum m the update found.
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "attn/Conversion/AttnToLoops/AttnToLoops.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Target/TargetDescription.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

struct BlockedTileWeights : public OpRewritePattern<TileWeightsOp> {
  BlockedTileWeights(MLIRContext *context, const TargetDescription &target,
                     bool bf16Dots)
      : OpRewritePattern(context, /*benefit=*/2), target(target),
        bf16Dots(bf16Dots) {}

  /// Softmax weights without modifier functions, of the vectorized tiled
  /// form (a vector state, as the blocked update needs), static D within
  /// the vector registers and weight rows with unit stride (vector stores);
  /// then either stored scores without keys (any score: only the
  /// normalization is left), or a dot or cosine score with keys that exist
  /// before the parallel loop (where they are packed) and f32 products
  /// (with bf16 dot products the update rounds its operands; the generic
  /// loops keep their scores then).
  LogicalResult match(TileWeightsOp op) const override {
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    Value keys = op.getKeys();
    bool normalizes =
        op.getAlign() == AlignKind::softmax &&
        isa<VectorType>(op.getMax().getType()) && !op.getScoreModAttr() &&
        !op.getMaskModAttr() && !op.getWeightModAttr() &&
        vectorizableSize(op.getQuery(), target.maxVectorElements) &&
        isLastMemrefDimUnitStride(
            cast<MemRefType>(op.getWeights().getType())) &&
        parallel;
    if (!keys)
      return success(normalizes);
    return success(
        normalizes &&
        (op.getCombine() == ScoreCombine::dot ||
         op.getCombine() == ScoreCombine::cosine) &&
        !bf16Dots && vectorizableSize(keys, target.maxVectorElements) &&
        !parallel.getRegion().isAncestor(keys.getParentRegion()));
  }

  void rewrite(TileWeightsOp op, PatternRewriter &rewriter) const override {
    int64_t lanes = target.vectorLanes;
    int64_t queryTile = cast<ShapedType>(op.getMax().getType()).getDimSize(0);
    Value q = op.getQuery(), k = op.getKeys();
    int64_t d = cast<MemRefType>(q.getType()).getDimSize(3);
    // The update's step for its default key tile: the same register block.
    int64_t step = panelsPerStep(target, queryTile, target.keyTile);
    bool cosine = op.getCombine() == ScoreCombine::cosine;
    bool stored = op.getScoresStored();
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    Value packed;
    if (!stored)
      packed = packKeyPanels(rewriter, parallel, k, rewriter.getF32Type(),
                             lanes, step - 1, cosine);

    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Type f32 = b.getF32Type();
    auto lanesType = VectorType::get({lanes}, f32);
    auto laneIndexType = VectorType::get({lanes}, b.getIndexType());
    Value zero = e.index(0), lanesIdx = e.index(lanes);
    Value nq = e.dim(q, 2), nk = e.dim(op.getWeights(), 3);
    Value bq = op.getQueryBatch(), h = op.getHead();
    Value weights = op.getWeights(), batch = op.getBatch();
    Value iota = b.create<vector::StepOp>(laneIndexType);
    Value zeroLanes = e.splat(lanesType, e.f32(0));

    // Per row: the query (clamped as in the update), its visible keys
    // [begin, end), m (0 while nothing was seen: every key is then masked)
    // and 1 / l (0 when l = 0).
    Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, e.index(1)), zero);
    KeyInterval mask = KeyInterval::of(op, op.getPrefixEnd());
    SmallVector<Value> rows, begins, ends, maxima, inverseSums,
        inverseQueryNorms;
    for (int64_t r = 0; r < queryTile; ++r) {
      Value i = e.minIdx(
          b.create<arith::AddIOp>(op.getFirstQuery(), e.index(r)), lastQuery);
      auto [begin, end] = visibleKeyRange(e, mask, op.getKeyEnd(), i, nq, nk);
      rows.push_back(i);
      begins.push_back(begin);
      ends.push_back(end);
      Value m = rowStateAt(e, op.getMax(), r);
      Value empty =
          b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, m, e.negInf());
      maxima.push_back(
          e.splat(lanesType, b.create<arith::SelectOp>(empty, e.f32(0), m)));
      inverseSums.push_back(
          e.splat(lanesType, inverseOrZero(e, rowStateAt(e, op.getSum(), r))));
      if (cosine && !stored)
        inverseQueryNorms.push_back(
            e.splat(lanesType, inverseNorm(e, q, {bq, h, i}, d)));
    }

    // The lanes of keys [first, first + lanes) that exist (none past the
    // last one); compared in index, as vector.create_mask would truncate
    // the count to i32.
    auto keyLanes = [&](Value first) {
      Value keyIdx = b.create<arith::AddIOp>(
          b.create<vector::BroadcastOp>(laneIndexType, first), iota);
      Value inRange = b.create<arith::CmpIOp>(
          arith::CmpIPredicate::slt, keyIdx,
          b.create<vector::BroadcastOp>(laneIndexType, nk));
      return std::make_pair(keyIdx, inRange);
    };
    // a = exp(s - m) / l where row r sees the key, else 0.
    auto weightsOf = [&](int64_t r, Value s, Value keyIdx) {
      Value a = e.mul(expNonPositive(e, lanesType, e.sub(s, maxima[r])),
                      inverseSums[r]);
      Value visible = visibleLanes(
          e, keyIdx, mask.hasBegin() ? begins[r] : Value(), ends[r]);
      return b.create<arith::SelectOp>(visible, a, zeroLanes);
    };

    if (stored) {
      // The update wrote the scores of the keys each row sees: all rows'
      // scores of a vector of keys are read before any is overwritten (the
      // rows past the last query are copies of it).
      Value negInfLanes = e.splat(lanesType, e.negInf());
      e.loop(zero, nk, lanesIdx, {}, [&](Value first, ValueRange) {
        auto [keyIdx, inRange] = keyLanes(first);
        SmallVector<Value> scores;
        for (int64_t r = 0; r < queryTile; ++r)
          scores.push_back(b.create<vector::MaskedLoadOp>(
              lanesType, weights, ValueRange{batch, h, rows[r], first},
              inRange, negInfLanes));
        for (int64_t r = 0; r < queryTile; ++r)
          b.create<vector::MaskedStoreOp>(
              weights, ValueRange{batch, h, rows[r], first}, inRange,
              weightsOf(r, scores[r], keyIdx));
        return SmallVector<Value>{};
      });
      rewriter.eraseOp(op);
      return;
    }

    PanelScores panelScores{
        q, Value(), bq,  h, rows, packed, op.getKeyBatch(), op.getKeyHead(),
        d, lanes,   step};
    e.loop(zero, nk, e.index(lanes * step), {}, [&](Value jv, ValueRange) {
      Value panel = b.create<arith::DivUIOp>(jv, lanesIdx);
      SmallVector<Value> dots = panelDots(e, panelScores, panel);
      for (int64_t p = 0; p < step; ++p) {
        Value first = b.create<arith::AddIOp>(jv, e.index(p * lanes));
        auto [keyIdx, inRange] = keyLanes(first);
        for (int64_t r = 0; r < queryTile; ++r) {
          Value s = finishPanelScore(e, dots[r * step + p],
                                     cosine ? inverseQueryNorms[r] : Value(),
                                     op.getScale(), op.getBias(), op.getAct());
          b.create<vector::MaskedStoreOp>(
              weights, ValueRange{batch, h, rows[r], first}, inRange,
              weightsOf(r, s, keyIdx));
        }
      }
      return SmallVector<Value>{};
    });
    rewriter.eraseOp(op);
  }

  const TargetDescription &target;
  bool bf16Dots;
};

} // namespace

void mlir::attn::populateBlockedWeightsPatterns(RewritePatternSet &patterns,
                                                const TargetDescription &target,
                                                bool bf16Dots) {
  patterns.add<BlockedTileWeights>(patterns.getContext(), target, bf16Dots);
}
