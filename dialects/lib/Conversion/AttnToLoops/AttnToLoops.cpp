//===- AttnToLoops.cpp - attn.online_attention -> fused loops -------------===//
//
// Lowers attn.online_attention to one scf loop nest per (batch, head,
// query) that streams over tiles of keys with a running maximum and sum
// (online softmax, as in FlashAttention): scores of one tile go to a
// tile-size buffer, the [Dv] accumulator is rescaled when the maximum grows,
// and the Nq x Nk score matrix never exists. Masks shrink the key range:
// `causal` ends it at i + Nk - Nq + 1, `lengths` at lengths[b]. When the
// weights are requested, a second loop over the keys recomputes each score
// and writes exp(s - m) / l. With static D and Dv the query, w and the
// accumulator are vectors in registers. A dot score without a weights
// output goes to the blocked kernel of BlockedDot.cpp instead. attn.softmax
// (output model) becomes a three-pass loop over each row.
//
//===----------------------------------------------------------------------===//

#include "../LoopEmitter.h"

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTOLOOPS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

constexpr int64_t kMaxTileSize = 4096;

/// Everything the score of one (query, key) pair needs.
struct ScoreContext {
  OnlineAttentionOp op;
  Value q, k;      // memrefs [B, H, N, D]
  Value bq, h, i;  // query indices
  Value bk, hk;    // key indices (the key row is passed per call)
  Value d;         // D
  Value wRow;      // additive: index of the row of w, or null (rank 1)
  Value queryNorm; // cosine: |q|
  // Vectorized form (D static and small): q_i and w in registers.
  VectorType vecType; // vector<D x f32>, or null for the scalar loops
  Value queryVec, wVec;
};

/// score(q_i, k_j) with q_i, w and k_j as vector<D> values.
Value emitVectorScore(Emitter &e, const ScoreContext &s, Value j) {
  OnlineAttentionOp op = s.op;
  ImplicitLocOpBuilder &b = e.b;
  Value zero = e.index(0);
  Value key = e.vload(s.vecType, s.k, {s.bk, s.hk, j, zero});
  switch (op.getCombine()) {
  case ScoreCombine::dot: {
    Value dot = e.reduceAdd(e.mul(s.queryVec, key));
    if (Value scale = op.getScale())
      dot = e.mul(dot, scale);
    if (Value bias = op.getBias())
      dot = e.add(dot, bias);
    return buildActivation(b, b.getLoc(), op.getAct(), dot);
  }
  case ScoreCombine::additive: {
    Value hidden =
        buildActivation(b, b.getLoc(), op.getAct(), e.add(s.queryVec, key));
    return e.reduceAdd(e.mul(s.wVec, hidden));
  }
  case ScoreCombine::cosine: {
    Value dot = e.reduceAdd(e.mul(s.queryVec, key));
    Value keyNorm = b.create<math::SqrtOp>(e.reduceAdd(e.mul(key, key)));
    Value denom = e.mul(s.queryNorm, keyNorm);
    Value positive =
        b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, denom, e.f32(0));
    Value safeDenom = b.create<arith::SelectOp>(positive, denom, e.f32(1));
    return b.create<arith::SelectOp>(
        positive, b.create<arith::DivFOp>(dot, safeDenom), e.f32(0));
  }
  }
  llvm_unreachable("unknown score combine");
}

/// score(q_i, k_j) for the op's combine, before masking.
Value emitScore(Emitter &e, const ScoreContext &s, Value j) {
  if (s.vecType)
    return emitVectorScore(e, s, j);
  OnlineAttentionOp op = s.op;
  ImplicitLocOpBuilder &b = e.b;
  Activation act = op.getAct();
  switch (op.getCombine()) {
  case ScoreCombine::dot: {
    Value dot =
        e.loop(e.index(0), s.d, {e.f32(0)}, [&](Value c, ValueRange acc) {
           Value qc = e.load(s.q, {s.bq, s.h, s.i, c});
           Value kc = e.load(s.k, {s.bk, s.hk, j, c});
           return SmallVector<Value>{e.add(acc[0], e.mul(qc, kc))};
         }).getResult(0);
    if (Value scale = op.getScale())
      dot = e.mul(dot, scale);
    if (Value bias = op.getBias())
      dot = e.add(dot, bias);
    return buildActivation(b, b.getLoc(), act, dot);
  }
  case ScoreCombine::additive: {
    Value w = op.getScoreWeights();
    return e
        .loop(e.index(0), s.d, {e.f32(0)},
              [&](Value c, ValueRange acc) {
                Value qc = e.load(s.q, {s.bq, s.h, s.i, c});
                Value kc = e.load(s.k, {s.bk, s.hk, j, c});
                Value hidden =
                    buildActivation(b, b.getLoc(), act, e.add(qc, kc));
                Value wc = s.wRow ? e.load(w, {s.wRow, c}) : e.load(w, {c});
                return SmallVector<Value>{e.add(acc[0], e.mul(wc, hidden))};
              })
        .getResult(0);
  }
  case ScoreCombine::cosine: {
    auto sums = e.loop(
        e.index(0), s.d, {e.f32(0), e.f32(0)}, [&](Value c, ValueRange acc) {
          Value qc = e.load(s.q, {s.bq, s.h, s.i, c});
          Value kc = e.load(s.k, {s.bk, s.hk, j, c});
          return SmallVector<Value>{e.add(acc[0], e.mul(qc, kc)),
                                    e.add(acc[1], e.mul(kc, kc))};
        });
    Value keyNorm = b.create<math::SqrtOp>(sums.getResult(1));
    Value denom = e.mul(s.queryNorm, keyNorm);
    Value positive =
        b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, denom, e.f32(0));
    // Divide by 1 where the result is discarded, so no inf/NaN is formed.
    Value safeDenom = b.create<arith::SelectOp>(positive, denom, e.f32(1));
    Value cosine = b.create<arith::DivFOp>(sums.getResult(0), safeDenom);
    return b.create<arith::SelectOp>(positive, cosine, e.f32(0));
  }
  }
  llvm_unreachable("unknown score combine");
}

void lowerOnlineAttention(OnlineAttentionOp op, int64_t tileSize,
                          bool allowVectors) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Emitter e{b};
  Value q = op.getQuery(), k = op.getKeys(), v = op.getValues();
  Value context = op.getOutput(), weights = op.getWeights();
  Value batch = e.dim(context, 0), hq = e.dim(q, 1), nq = e.dim(q, 2),
        d = e.dim(q, 3), hk = e.dim(k, 1), nk = e.dim(k, 2), dv = e.dim(v, 3);
  Value keyGroup = headGroupSize(e, hq, hk),
        valueGroup = headGroupSize(e, hq, e.dim(v, 1));
  Value tile = e.index(tileSize);
  Value zero = e.index(0);

  // With static, small D and Dv, q_i, w and the accumulator live in vector
  // registers (vector<D>, vector<Dv>); otherwise the loops are scalar and
  // the accumulator is a [Dv] buffer.
  Value w = op.getScoreWeights();
  std::optional<int64_t> dSize = vectorizableSize(q),
                         dkSize = vectorizableSize(k),
                         dvSize = vectorizableSize(v),
                         outSize = vectorizableSize(context);
  bool vectorized =
      allowVectors && dSize && dkSize && dvSize && outSize &&
      (!w || vectorizableSize(w)) &&
      (!weights ||
       cast<MemRefType>(weights.getType()).getLayout().isIdentity());
  VectorType dType, dvType;
  Value accBuffer;
  if (vectorized) {
    dType = VectorType::get({*dSize}, b.getF32Type());
    dvType = VectorType::get({*dvSize}, b.getF32Type());
  } else {
    auto accType = MemRefType::get({ShapedType::kDynamic}, b.getF32Type());
    accBuffer = b.create<memref::AllocOp>(accType, ValueRange{dv});
  }
  Value scores =
      b.create<memref::AllocaOp>(MemRefType::get({tileSize}, b.getF32Type()));

  e.forEach(batch, [&](Value bIdx) {
    ScoreContext s;
    s.op = op;
    s.q = q;
    s.k = k;
    s.d = d;
    s.vecType = dType;
    s.bq = e.broadcastIndex(q, 0, bIdx);
    s.bk = e.broadcastIndex(k, 0, bIdx);
    Value bv = e.broadcastIndex(v, 0, bIdx);
    Value visibleKeys = visibleKeyCount(e, op, bIdx, nk);
    e.forEach(hq, [&](Value h) {
      s.h = h;
      s.hk = b.create<arith::DivUIOp>(h, keyGroup);
      Value hv = b.create<arith::DivUIOp>(h, valueGroup);
      if (w && cast<MemRefType>(w.getType()).getRank() == 2)
        s.wRow = h;
      if (w && vectorized)
        s.wVec = s.wRow ? e.vload(dType, w, {s.wRow, zero})
                        : e.vload(dType, w, {zero});
      e.forEach(nq, [&](Value i) {
        s.i = i;
        // Keys [0, end) are visible to query i.
        Value end = visibleKeyEnd(e, op, visibleKeys, i, nq, nk);
        if (vectorized)
          s.queryVec = e.vload(dType, q, {s.bq, h, i, zero});
        if (op.getCombine() == ScoreCombine::cosine) {
          Value sq =
              vectorized
                  ? e.reduceAdd(e.mul(s.queryVec, s.queryVec))
                  : e.loop(zero, d, {e.f32(0)}, [&](Value c, ValueRange a) {
                       Value qc = e.load(q, {s.bq, h, i, c});
                       return SmallVector<Value>{e.add(a[0], e.mul(qc, qc))};
                     }).getResult(0);
          s.queryNorm = b.create<math::SqrtOp>(sq);
        }

        // The key loop carries (m, l) and, vectorized, the accumulator.
        if (!vectorized)
          e.forEach(dv, [&](Value c) { e.store(e.f32(0), accBuffer, {c}); });
        SmallVector<Value> init = {e.negInf(), e.f32(0)};
        if (vectorized)
          init.push_back(e.splat(dvType, e.f32(0)));

        auto keyLoop =
            e.loop(zero, end, tile, init, [&](Value j0, ValueRange state) {
              Value count = e.minIdx(tile, b.create<arith::SubIOp>(end, j0));
              // Pass 1: the tile's scores and their maximum (maxnumf: a
              // plain vmaxss; a NaN score still propagates through exp).
              Value tileMax =
                  e.loop(zero, count, {e.negInf()},
                         [&](Value jj, ValueRange m) {
                           Value score =
                               emitScore(e, s, b.create<arith::AddIOp>(j0, jj));
                           e.store(score, scores, {jj});
                           return SmallVector<Value>{
                               b.create<arith::MaxNumFOp>(m[0], score)};
                         })
                      .getResult(0);
              Value mOld = state[0];
              Value mNew = b.create<arith::MaximumFOp>(mOld, tileMax);
              // alpha rescales what was accumulated under the old maximum;
              // while the maximum is still -inf nothing was accumulated.
              Value stillEmpty = b.create<arith::CmpFOp>(
                  arith::CmpFPredicate::OEQ, mNew, e.negInf());
              Value alpha = b.create<arith::SelectOp>(stillEmpty, e.f32(1),
                                                      e.exp(e.sub(mOld, mNew)));
              // The accumulator is rescaled by alpha...
              Value acc;
              if (vectorized)
                acc = e.mul(state[2], e.splat(dvType, alpha));
              else
                e.forEach(dv, [&](Value c) {
                  e.store(e.mul(e.load(accBuffer, {c}), alpha), accBuffer, {c});
                });
              // Pass 2: the probabilities, in place of the scores (a loop
              // without memory dependences, so that exp vectorizes).
              Value tileSum =
                  e.loop(zero, count, {e.f32(0)},
                         [&](Value jj, ValueRange sum) {
                           Value p = e.exp(e.sub(e.load(scores, {jj}), mNew));
                           e.store(p, scores, {jj});
                           return SmallVector<Value>{e.add(sum[0], p)};
                         })
                      .getResult(0);
              // Pass 3: ... and gets the weighted values p_j v_j.
              if (vectorized) {
                acc = e.loop(zero, count, {acc}, [&](Value jj, ValueRange a) {
                         Value j = b.create<arith::AddIOp>(j0, jj);
                         Value p = e.splat(dvType, e.load(scores, {jj}));
                         Value value = e.vload(dvType, v, {bv, hv, j, zero});
                         return SmallVector<Value>{
                             b.create<vector::FMAOp>(p, value, a[0])};
                       }).getResult(0);
              } else {
                e.forEach(count, [&](Value jj) {
                  Value j = b.create<arith::AddIOp>(j0, jj);
                  Value p = e.load(scores, {jj});
                  e.forEach(dv, [&](Value c) {
                    Value vc = e.load(v, {bv, hv, j, c});
                    e.store(e.add(e.load(accBuffer, {c}), e.mul(p, vc)),
                            accBuffer, {c});
                  });
                });
              }
              SmallVector<Value> next = {
                  mNew, e.add(e.mul(state[1], alpha), tileSum)};
              if (vectorized)
                next.push_back(acc);
              return next;
            });
        Value m = keyLoop.getResult(0), l = keyLoop.getResult(1);

        // A query that sees no key gets c = 0 and zero weights.
        Value invL = inverseOrZero(e, l);
        if (vectorized) {
          Value c = e.mul(keyLoop.getResult(2), e.splat(dvType, invL));
          b.create<vector::StoreOp>(c, context, ValueRange{bIdx, i, h, zero});
        } else {
          e.forEach(dv, [&](Value c) {
            e.store(e.mul(e.load(accBuffer, {c}), invL), context,
                    {bIdx, i, h, c});
          });
        }
        if (!weights)
          return;
        e.forEach(nk, [&](Value j) {
          Value visible =
              b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, j, end);
          Value a = e.ifElse(
              visible,
              [&] { return e.mul(e.exp(e.sub(emitScore(e, s, j), m)), invL); },
              [&] { return e.f32(0); });
          e.store(a, weights, {bIdx, h, i, j});
        });
      });
    });
  });
  if (accBuffer)
    b.create<memref::DeallocOp>(accBuffer);
  op.erase();
}

/// Softmax over the last dimension: for each row, the maximum, the sum of
/// exp(x - max), then a division.
void lowerSoftmax(SoftmaxOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Emitter e{b};
  Value in = op.getInput(), out = op.getOutput();
  int64_t rank = cast<MemRefType>(in.getType()).getRank();
  Value cols = e.dim(in, rank - 1);

  std::function<void(SmallVector<Value>)> rows = [&](SmallVector<Value> idx) {
    if (int64_t(idx.size()) < rank - 1) {
      e.forEach(e.dim(in, idx.size()), [&](Value iv) {
        SmallVector<Value> next = idx;
        next.push_back(iv);
        rows(next);
      });
      return;
    }
    auto at = [&](Value j) {
      SmallVector<Value> full = idx;
      full.push_back(j);
      return full;
    };
    Value max =
        e.loop(e.index(0), cols, {e.negInf()}, [&](Value j, ValueRange m) {
           return SmallVector<Value>{
               b.create<arith::MaximumFOp>(m[0], e.load(in, at(j)))};
         }).getResult(0);
    Value sum =
        e.loop(e.index(0), cols, {e.f32(0)}, [&](Value j, ValueRange s) {
           Value p = e.exp(e.sub(e.load(in, at(j)), max));
           e.store(p, out, at(j));
           return SmallVector<Value>{e.add(s[0], p)};
         }).getResult(0);
    Value inv = b.create<arith::DivFOp>(e.f32(1), sum);
    e.forEach(cols, [&](Value j) {
      e.store(e.mul(e.load(out, at(j)), inv), out, at(j));
    });
  };
  rows({});
  op.erase();
}

struct ConvertAttnToLoopsPass
    : public attn::impl::ConvertAttnToLoopsBase<ConvertAttnToLoopsPass> {
  using ConvertAttnToLoopsBase::ConvertAttnToLoopsBase;

  void runOnOperation() override {
    // The tile's scores live on the stack: keep them well within it.
    if (tileSize < 1 || tileSize > kMaxTileSize) {
      getOperation().emitError()
          << "tile-size must be between 1 and " << kMaxTileSize;
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<OnlineAttentionOp, SoftmaxOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto attention = dyn_cast<OnlineAttentionOp>(op)) {
        if (vectorize && canUseBlockedDot(attention))
          lowerBlockedDot(attention, tileSize);
        else
          lowerOnlineAttention(attention, tileSize, vectorize);
      } else {
        lowerSoftmax(cast<SoftmaxOp>(op));
      }
    }
    // attn.attention must have been decomposed first.
    WalkResult leftover = getOperation().walk([](AttentionOp op) {
      op.emitError("attn.attention must be decomposed by "
                   "-attn-decompose-scores before -convert-attn-to-loops");
      return WalkResult::interrupt();
    });
    if (leftover.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
