//===- MultiDimensional.cpp - Multi-dimensional attention -> loops --------===//
//
// Rewrites attn.online_attention with the multidim_additive combine
// (multi-dimensional attention, survey eqs. 30-32: a score per key and value
// feature, e_l = W_d act(q' + k'_l) in R^{Dv}, where -attn-decompose-scores
// already made q' = W1 q + b and k' = W2 K) into fused scf loops:
//
//   scf.parallel (b, h, i) over (B, Hq, Nq) {
//     [begin, end) = the keys query i sees (lengths, causal, window, prefix)
//     t [Dw], m [Dv] = -inf, l [Dv] = 0, acc [Dv] = 0  (scratch of the query)
//     scf.for key in [begin, end) {
//       t = act(q'_i + k'_key)
//       for f < Dv: s = W_d[f] . t
//                   m' = max(m_f, s), alpha = exp(m_f - m'), p = exp(s - m')
//                   l_f = l_f alpha + p, acc_f = acc_f alpha + p v_key,f
//                   m_f = m'
//     }
//     context[b, i, h, f] = acc_f / l_f  (0 when the query saw no key)
//   }
//
// i.e. the online softmax of the tiled form run separately for each value
// feature (its own running maximum and sum), so the [Nq, Nk, Dv] scores
// and weights are never materialized: the memory is O(Dw + Dv) per query.
// The op has no tiled form (-attn-tile-attention leaves it alone); this
// pattern runs in the tiling stage of -convert-attn-to-loops.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToLoops/AttnToLoops.h"
#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// A buffer of `size` f32 (static when the size is).
Value allocVector(Emitter &e, Value size) {
  return allocF32Buffer(e.b, e.b.getLoc(), {getAsOpFoldResult(size)});
}

struct LowerMultiDimensional : public OpRewritePattern<OnlineAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OnlineAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (!getScoreCombineRules(op.getCombine()).perFeature)
      return failure();
    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value q = op.getQuery(), k = op.getKeys(), v = op.getValues(),
          wd = op.getScoreWeights(), context = op.getOutput();
    Value batch = e.dim(context, 0), hq = e.dim(q, 1), nq = e.dim(q, 2),
          nk = e.dim(k, 2), dw = e.dim(q, 3), dv = e.dim(v, 3);
    Value keyGroup = headGroupSize(e, hq, e.dim(k, 1)),
          valueGroup = headGroupSize(e, hq, e.dim(v, 1));
    Value zero = e.index(0), one = e.index(1);

    // One iteration per query: independent work (threads), its own scratch.
    auto parallel = b.create<scf::ParallelOp>(ValueRange{zero, zero, zero},
                                              ValueRange{batch, hq, nq},
                                              ValueRange{one, one, one});
    b.setInsertionPoint(parallel.getBody()->getTerminator());
    Value bIdx = parallel.getInductionVars()[0],
          h = parallel.getInductionVars()[1],
          i = parallel.getInductionVars()[2];
    Value bq = e.broadcastIndex(q, 0, bIdx), bk = e.broadcastIndex(k, 0, bIdx),
          bv = e.broadcastIndex(v, 0, bIdx);
    Value hk = b.create<arith::DivUIOp>(h, keyGroup),
          hv = b.create<arith::DivUIOp>(h, valueGroup);

    // The masks as the bounds of the key loop: query i sees [begin, end).
    Value visible = visibleKeyCount(e, op.getLengths(), bIdx, nk);
    Value prefixEnd =
        op.getPrefix() ? visibleKeyCount(e, op.getPrefix(), bIdx, nk) : Value();
    KeyInterval mask = KeyInterval::of(op, prefixEnd);
    auto [begin, end] = visibleKeyRange(e, mask, visible, i, nq, nk);
    if (!begin)
      begin = zero;

    // The per-feature state of the online softmax, and the hidden vector.
    Value hidden = allocVector(e, dw);
    Value max = allocVector(e, dv), sum = allocVector(e, dv),
          acc = allocVector(e, dv);
    e.forEach(dv, [&](Value f) {
      e.store(e.negInf(), max, {f});
      e.store(e.f32(0), sum, {f});
      e.store(e.f32(0), acc, {f});
    });

    e.loop(begin, end, {}, [&](Value key, ValueRange) {
      // t = act(q' + k'), once per key for all the features.
      e.forEach(dw, [&](Value c) {
        Value x = e.add(e.load(q, {bq, h, i, c}), e.load(k, {bk, hk, key, c}));
        e.store(buildActivation(b, b.getLoc(), op.getAct(), x), hidden, {c});
      });
      e.forEach(dv, [&](Value f) {
        Value s = e.loop(zero, dw, {e.f32(0)}, [&](Value c, ValueRange dot) {
                     Value term =
                         e.mul(e.load(wd, {f, c}), e.load(hidden, {c}));
                     return SmallVector<Value>{e.add(dot[0], term)};
                   }).getResult(0);
        Value mOld = e.load(max, {f});
        Value mNew = b.create<arith::MaximumFOp>(mOld, s);
        // While every score seen is -inf, nothing is accumulated (and
        // -inf - -inf must not make a NaN).
        Value none = b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, mNew,
                                             e.negInf());
        Value alpha = b.create<arith::SelectOp>(none, e.f32(1),
                                                e.exp(e.sub(mOld, mNew)));
        Value p =
            b.create<arith::SelectOp>(none, e.f32(0), e.exp(e.sub(s, mNew)));
        Value value = e.load(v, {bv, hv, key, f});
        e.store(e.add(e.mul(e.load(sum, {f}), alpha), p), sum, {f});
        e.store(e.add(e.mul(e.load(acc, {f}), alpha), e.mul(p, value)), acc,
                {f});
        e.store(mNew, max, {f});
      });
      return SmallVector<Value>{};
    });

    // c_f = acc_f / l_f, 0 for a query that saw no key.
    e.forEach(dv, [&](Value f) {
      Value c = e.mul(e.load(acc, {f}), inverseOrZero(e, e.load(sum, {f})));
      e.store(c, context, {bIdx, i, h, f});
    });
    for (Value buffer : {hidden, max, sum, acc})
      b.create<memref::DeallocOp>(buffer);
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void mlir::attn::populateMultiDimensionalPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMultiDimensional>(patterns.getContext());
}
