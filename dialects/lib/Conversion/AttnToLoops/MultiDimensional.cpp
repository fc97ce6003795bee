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
// When Dw and Dv are static, at most the target's maxVectorElements, and the
// rows contiguous, the state is three vector<Dv> values carried by the key
// loop and t a vector<Dw>: s = sum_c t_c W_d^T[c] (W_d transposed once into
// a [Dw, Dv] buffer before the parallel loop), and the update is lane-wise.
// Otherwise the state is buffers updated by scalar loops.
// The op has no tiled form (-attn-tile-attention leaves it alone); this
// pattern runs in the tiling stage of -convert-attn-to-loops.
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

/// A buffer of `size` f32 (static when the size is).
Value allocVector(Emitter &e, Value size) {
  return allocF32Buffer(e.b, e.b.getLoc(), {getAsOpFoldResult(size)});
}

struct LowerMultiDimensional : public OpRewritePattern<OnlineAttentionOp> {
  LowerMultiDimensional(MLIRContext *context, const TargetDescription &target)
      : OpRewritePattern(context), target(target) {}

  /// Dw and Dv of the vector form, if it applies.
  std::optional<std::pair<int64_t, int64_t>>
  vectorSizes(OnlineAttentionOp op) const {
    int64_t limit = target.maxVectorElements;
    std::optional<int64_t> dw = vectorizableSize(op.getQuery(), limit),
                           dv = vectorizableSize(op.getValues(), limit);
    if (!dw || !dv || vectorizableSize(op.getKeys(), limit) != dw ||
        vectorizableSize(op.getScoreWeights(), limit) != dw ||
        vectorizableSize(op.getOutput(), limit) != dv)
      return std::nullopt;
    return std::pair{*dw, *dv};
  }

  /// The key loop and the context with the state in vectors.
  void emitVectorForm(Emitter &e, OnlineAttentionOp op, Value wdT,
                      ValueRange at, Value begin, Value end, int64_t dwSize,
                      int64_t dvSize) const {
    ImplicitLocOpBuilder &b = e.b;
    Value bq = at[0], bk = at[1], bv = at[2], hk = at[3], hv = at[4],
          bIdx = at[5], h = at[6], i = at[7];
    auto hiddenType = VectorType::get({dwSize}, b.getF32Type());
    auto rowType = VectorType::get({dvSize}, b.getF32Type());
    Value zero = e.index(0);
    Value query = e.vload(hiddenType, op.getQuery(), {bq, h, i, zero});
    Value negInf = e.splat(rowType, e.negInf()), zeros =
                                                     e.splat(rowType, e.f32(0)),
          ones = e.splat(rowType, e.f32(1));
    auto keyLoop = e.loop(
        begin, end, {negInf, zeros, zeros}, [&](Value key, ValueRange state) {
          Value k = e.vload(hiddenType, op.getKeys(), {bk, hk, key, zero});
          Value t =
              buildActivation(b, b.getLoc(), op.getAct(), e.add(query, k));
          // s = W_d t = sum_c t_c W_d^T[c], lane f the score of feature f.
          Value s = zeros;
          for (int64_t c = 0; c < dwSize; ++c) {
            Value tc = b.create<vector::ExtractOp>(t, ArrayRef<int64_t>{c});
            Value column = e.vload(rowType, wdT, {e.index(c), zero});
            s = b.create<vector::FMAOp>(column, e.splat(rowType, tc), s);
          }
          Value m = state[0], l = state[1], acc = state[2];
          Value mNew = b.create<arith::MaximumFOp>(m, s);
          Value none =
              b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, mNew, negInf);
          Value alpha = b.create<arith::SelectOp>(none, ones,
                                                  e.expWeight(e.sub(m, mNew)));
          Value p = b.create<arith::SelectOp>(none, zeros,
                                              e.expWeight(e.sub(s, mNew)));
          Value v = e.vload(rowType, op.getValues(), {bv, hv, key, zero});
          return SmallVector<Value>{mNew, e.add(e.mul(l, alpha), p),
                                    e.add(e.mul(acc, alpha), e.mul(p, v))};
        });
    // c = acc / l, 0 where l = 0 (no key seen).
    Value l = keyLoop.getResult(1), acc = keyLoop.getResult(2);
    Value seen = b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, l, zeros);
    Value safe = b.create<arith::SelectOp>(seen, l, ones);
    Value c = b.create<arith::SelectOp>(
        seen, b.create<arith::DivFOp>(acc, safe), zeros);
    b.create<vector::StoreOp>(c, op.getOutput(),
                              ValueRange{bIdx, i, h, zero});
  }

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
    std::optional<std::pair<int64_t, int64_t>> sizes = vectorSizes(op);
    // The vector form reads W_d by columns: W_d^T [Dw, Dv], once per op.
    Value wdT;
    if (sizes) {
      wdT = allocF32Buffer(b, b.getLoc(),
                           {b.getIndexAttr(sizes->first),
                            b.getIndexAttr(sizes->second)});
      e.forEach(dv, [&](Value f) {
        e.forEach(dw, [&](Value c) {
          e.store(e.load(wd, {f, c}), wdT, {c, f});
        });
      });
    }

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
    if (sizes) {
      emitVectorForm(e, op, wdT, {bq, bk, bv, hk, hv, bIdx, h, i}, begin, end,
                     sizes->first, sizes->second);
      b.setInsertionPointAfter(parallel);
      b.create<memref::DeallocOp>(wdT);
      rewriter.eraseOp(op);
      return success();
    }

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
                                                e.expWeight(e.sub(mOld, mNew)));
        Value p = b.create<arith::SelectOp>(none, e.f32(0),
                                            e.expWeight(e.sub(s, mNew)));
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

  const TargetDescription &target;
};

} // namespace

void mlir::attn::populateMultiDimensionalPatterns(
    RewritePatternSet &patterns, const TargetDescription &target) {
  patterns.add<LowerMultiDimensional>(patterns.getContext(), target);
}
