//===- BlockedDot.cpp - The blocked dot-product kernel --------------------===//
//
// Lowers attn.online_softmax_update with a dot score and a vector state the
// FlashAttention way: the keys are packed once, before the parallel loop of
// the tiled form, into panels of `vectorLanes` transposed keys
// ([B, Hk, ceil(Nk / lanes), D, lanes]), so that the scores of the whole
// query tile against one panel are lane-wide FMAs (q_r[d] broadcast times a
// panel row) with no horizontal reduction, and each value row is loaded once
// for the query tile and added to its QT accumulators (vectors in
// registers). Masks are a lane-wise select to -inf.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToLoops/AttnToLoops.h"
#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Target/TargetDescription.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

struct BlockedDotUpdate : public OpRewritePattern<OnlineSoftmaxUpdateOp> {
  BlockedDotUpdate(MLIRContext *context, const TargetDescription &target)
      : OpRewritePattern(context, /*benefit=*/2), target(target) {}

  /// The kernel needs a softmax alignment (sigmoid, argmax and hard take
  /// the generic kernel), no expression modifiers (score_mod, mask_mod:
  /// the generic kernel calls them per key; interval bands are fine), a dot
  /// score, registers for q, the state and the
  /// value rows, key tiles of whole panels, and keys that exist before the
  /// parallel loop (where they are packed).
  LogicalResult match(OnlineSoftmaxUpdateOp op) const override {
    int64_t limit = target.maxVectorElements;
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    return success(
        op.getCombine() == ScoreCombine::dot &&
        op.getAlign() == AlignKind::softmax && op.hasValueState() &&
        !op.getScoreModAttr() && !op.getMaskModAttr() &&
        !op.getWeightModAttr() &&
        vectorizableSize(op.getQuery(), limit) &&
        vectorizableSize(op.getKeys(), limit) &&
        vectorizableSize(op.getValues(), limit) &&
        op.getKeyTile() % target.vectorLanes == 0 && parallel &&
        !parallel.getRegion().isAncestor(op.getKeys().getParentRegion()));
  }

  /// Packs `keys` [B, Hk, Nk, D] into panels before `parallel`; the padding
  /// keys of each last panel are 0 (their scores are masked).
  Value packKeyPanels(PatternRewriter &rewriter, scf::ParallelOp parallel,
                      Value keys, int64_t d) const {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(parallel);
    ImplicitLocOpBuilder b(parallel.getLoc(), rewriter);
    Emitter e{b};
    int64_t lanes = target.vectorLanes;
    Value batch = e.dim(keys, 0), heads = e.dim(keys, 1), nk = e.dim(keys, 2);
    Value lanesIdx = e.index(lanes);
    Value panels = b.create<arith::DivUIOp>(
        b.create<arith::AddIOp>(nk, e.index(lanes - 1)), lanesIdx);
    Value padded = b.create<arith::MulIOp>(panels, lanesIdx);
    int64_t dyn = ShapedType::kDynamic;
    Value packed = b.create<memref::AllocOp>(
        MemRefType::get({dyn, dyn, dyn, d, lanes}, b.getF32Type()),
        ValueRange{batch, heads, panels});
    e.forEach(batch, [&](Value bIdx) {
      e.forEach(heads, [&](Value h) {
        e.loop(e.index(0), padded, {}, [&](Value j, ValueRange) {
          Value panel = b.create<arith::DivUIOp>(j, lanesIdx);
          Value lane = b.create<arith::RemUIOp>(j, lanesIdx);
          Value inside =
              b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, j, nk);
          // A padding key reads key 0 (any valid row) and stores 0.
          Value row = b.create<arith::SelectOp>(inside, j, e.index(0));
          e.forEach(e.index(d), [&](Value c) {
            Value x = b.create<arith::SelectOp>(
                inside, e.load(keys, {bIdx, h, row, c}), e.f32(0));
            e.store(x, packed, {bIdx, h, panel, c, lane});
          });
          return SmallVector<Value>{};
        });
      });
    });
    rewriter.setInsertionPointAfter(parallel);
    rewriter.create<memref::DeallocOp>(parallel.getLoc(), packed);
    return packed;
  }

  void rewrite(OnlineSoftmaxUpdateOp op,
               PatternRewriter &rewriter) const override {
    int64_t lanes = target.vectorLanes, keyTile = op.getKeyTile();
    int64_t queryTile = op.getQueryTileSize();
    Value q = op.getQuery(), k = op.getKeys(), v = op.getValues();
    int64_t d = cast<MemRefType>(q.getType()).getDimSize(3);
    int64_t dv = cast<MemRefType>(v.getType()).getDimSize(3);
    Type f32 = rewriter.getF32Type();
    Value packed =
        packKeyPanels(rewriter, op->getParentOfType<scf::ParallelOp>(), k, d);
    Value scores = allocateTileScratch(
        rewriter, op, MemRefType::get({queryTile, keyTile}, f32));

    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value zero = e.index(0);
    Value nq = e.dim(q, 2), nk = e.dim(k, 2);
    auto lanesType = VectorType::get({lanes}, f32);
    auto dvType = VectorType::get({dv}, f32);
    Value lanesIdx = e.index(lanes), tile = e.index(keyTile);
    Value bq = op.getQueryBatch(), h = op.getHead(), bk = op.getKeyBatch(),
          hk = op.getKeyHead(), bv = op.getValueBatch(), hv = op.getValueHead(),
          j0 = op.getFirstKey();
    // [0, 1, ..., lanes - 1]: the lane offsets of the keys of a panel.
    auto laneIndexType = VectorType::get({lanes}, b.getIndexType());
    Value iota = b.create<vector::StepOp>(laneIndexType);
    Value negInfLanes = e.splat(lanesType, e.negInf());

    // The tile's queries and the keys [0, end_r) each sees.
    Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, e.index(1)), zero);
    SmallVector<Value> rows, begins, ends;
    Value endMax = zero;
    KeyInterval mask = KeyInterval::of(op, op.getPrefixEnd());
    for (int64_t r = 0; r < queryTile; ++r) {
      Value i = e.minIdx(
          b.create<arith::AddIOp>(op.getFirstQuery(), e.index(r)), lastQuery);
      auto [begin, end] = visibleKeyRange(e, mask, op.getKeyEnd(), i, nq, nk);
      rows.push_back(i);
      begins.push_back(begin);
      ends.push_back(end);
      endMax = e.maxIdx(endMax, end);
    }
    Value count =
        e.maxIdx(e.minIdx(tile, b.create<arith::SubIOp>(endMax, j0)), zero);

    // Pass 1: S[r, jv..jv+lanes) = q_r . K^T[:, j0+jv..] (masked).
    e.loop(zero, count, lanesIdx, {}, [&](Value jv, ValueRange) {
      Value first = b.create<arith::AddIOp>(j0, jv);
      Value panel = b.create<arith::DivUIOp>(first, lanesIdx);
      SmallVector<Value> zeros(queryTile, e.splat(lanesType, e.f32(0)));
      auto dots = e.loop(zero, e.index(d), zeros, [&](Value c, ValueRange acc) {
        Value kt = e.vload(lanesType, packed, {bk, hk, panel, c, zero});
        SmallVector<Value> next;
        for (int64_t r = 0; r < queryTile; ++r) {
          Value qc = e.splat(lanesType, e.load(q, {bq, h, rows[r], c}));
          next.push_back(b.create<vector::FMAOp>(qc, kt, acc[r]));
        }
        return next;
      });
      Value keyIdx = b.create<arith::AddIOp>(
          b.create<vector::BroadcastOp>(laneIndexType, first), iota);
      for (int64_t r = 0; r < queryTile; ++r) {
        Value sv = dots.getResult(r);
        if (Value scale = op.getScale())
          sv = e.mul(sv, e.splat(lanesType, scale));
        if (Value bias = op.getBias())
          sv = e.add(sv, e.splat(lanesType, bias));
        sv = buildActivation(b, b.getLoc(), op.getAct(), sv);
        Value visible = b.create<arith::CmpIOp>(
            arith::CmpIPredicate::slt, keyIdx,
            b.create<vector::BroadcastOp>(laneIndexType, ends[r]));
        if (mask.hasBegin())
          visible = b.create<arith::AndIOp>(
              visible,
              b.create<arith::CmpIOp>(
                  arith::CmpIPredicate::sge, keyIdx,
                  b.create<vector::BroadcastOp>(laneIndexType, begins[r])));
        sv = b.create<arith::SelectOp>(visible, sv, negInfLanes);
        b.create<vector::StoreOp>(sv, scores, ValueRange{e.index(r), jv});
      }
      return SmallVector<Value>{};
    });

    // Pass 2 per query: running max, probabilities, sums.
    Value maxState = op.getMax(), sumState = op.getSum(),
          accState = op.getAcc();
    SmallVector<Value> accs;
    for (int64_t r = 0; r < queryTile; ++r) {
      Value rIdx = e.index(r);
      Value tileMax =
          e.loop(zero, count, lanesIdx, {negInfLanes},
                 [&](Value jv, ValueRange m) {
                   Value sv = e.vload(lanesType, scores, {rIdx, jv});
                   return SmallVector<Value>{
                       b.create<arith::MaxNumFOp>(m[0], sv)};
                 })
              .getResult(0);
      Value mOld = b.create<vector::ExtractOp>(maxState, ArrayRef<int64_t>{r});
      Value mNew = b.create<arith::MaxNumFOp>(
          mOld, b.create<vector::ReductionOp>(vector::CombiningKind::MAXNUMF,
                                              tileMax));
      Value stillEmpty =
          b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, mNew, e.negInf());
      // exp(-inf - m) = 0 for masked keys; while nothing is visible m stays
      // -inf and every p is exp(-inf - 0) = 0.
      Value safeMax = b.create<arith::SelectOp>(stillEmpty, e.f32(0), mNew);
      Value alpha = b.create<arith::SelectOp>(stillEmpty, e.f32(1),
                                              e.exp(e.sub(mOld, mNew)));
      Value sum =
          e.loop(zero, count, lanesIdx, {e.splat(lanesType, e.f32(0))},
                 [&](Value jv, ValueRange acc) {
                   Value sv = e.vload(lanesType, scores, {rIdx, jv});
                   Value p = e.exp(e.sub(sv, e.splat(lanesType, safeMax)));
                   b.create<vector::StoreOp>(p, scores, ValueRange{rIdx, jv});
                   return SmallVector<Value>{e.add(acc[0], p)};
                 })
              .getResult(0);
      Value lOld = b.create<vector::ExtractOp>(sumState, ArrayRef<int64_t>{r});
      Value lNew = e.add(e.mul(lOld, alpha), e.reduceAdd(sum));
      maxState = b.create<vector::InsertOp>(mNew, maxState, r);
      sumState = b.create<vector::InsertOp>(lNew, sumState, r);
      Value accRow =
          b.create<vector::ExtractOp>(accState, ArrayRef<int64_t>{r});
      accs.push_back(e.mul(accRow, e.splat(dvType, alpha)));
    }

    // Pass 3: each value row once for the whole query tile.
    auto summed = e.loop(zero, count, accs, [&](Value jj, ValueRange acc) {
      Value j = b.create<arith::AddIOp>(j0, jj);
      Value value = e.vload(dvType, v, {bv, hv, j, zero});
      SmallVector<Value> out;
      for (int64_t r = 0; r < queryTile; ++r) {
        Value p = e.splat(dvType, e.load(scores, {e.index(r), jj}));
        out.push_back(b.create<vector::FMAOp>(p, value, acc[r]));
      }
      return out;
    });
    for (int64_t r = 0; r < queryTile; ++r)
      accState = b.create<vector::InsertOp>(summed.getResult(r), accState, r);
    rewriter.replaceOp(op, ValueRange{maxState, sumState, accState});
  }

  const TargetDescription &target;
};

} // namespace

void mlir::attn::populateBlockedDotPatterns(RewritePatternSet &patterns,
                                            const TargetDescription &target) {
  patterns.add<BlockedDotUpdate>(patterns.getContext(), target);
}
