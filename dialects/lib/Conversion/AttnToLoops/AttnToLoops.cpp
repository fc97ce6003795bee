//===- AttnToLoops.cpp - attn.online_attention -> fused loops -------------===//
//
// Lowers attn.online_attention to one scf loop nest per (batch, head,
// query) that streams over tiles of keys with a running maximum and sum
// (online softmax, as in FlashAttention): scores of one tile go to a
// tile-size buffer, the [Dv] accumulator is rescaled when the maximum grows,
// and the Nq x Nk score matrix never exists. Masks shrink the key range:
// `causal` ends it at i + Nk - Nq + 1, `lengths` at lengths[b]. When the
// weights are requested, a second loop over the keys recomputes each score
// and writes exp(s - m) / l. attn.softmax (output model) becomes a
// three-pass loop over each row.
//
//===----------------------------------------------------------------------===//

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

namespace {

constexpr int64_t kMaxTileSize = 4096;
/// Largest D or Dv kept in vector registers (256 floats = 16 zmm).
constexpr int64_t kMaxVectorSize = 256;

/// Small arithmetic helpers over an ImplicitLocOpBuilder.
struct Emitter {
  ImplicitLocOpBuilder &b;

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(v); }
  Value f32(double v) {
    return b.create<arith::ConstantOp>(b.getF32FloatAttr(float(v)));
  }
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  Value dim(Value memref, int64_t d) {
    return b.createOrFold<memref::DimOp>(memref, d);
  }
  Value minIdx(Value x, Value y) { return b.create<arith::MinSIOp>(x, y); }
  Value maxIdx(Value x, Value y) { return b.create<arith::MaxSIOp>(x, y); }
  // Reductions may be reassociated and multiply-adds contracted: this is
  // what lets LLVM vectorize the dot products and fuse them into FMAs.
  arith::FastMathFlagsAttr fastMath() {
    return arith::FastMathFlagsAttr::get(b.getContext(),
                                         arith::FastMathFlags::reassoc |
                                             arith::FastMathFlags::contract);
  }
  Value add(Value x, Value y) {
    return b.create<arith::AddFOp>(x, y, fastMath());
  }
  Value mul(Value x, Value y) {
    return b.create<arith::MulFOp>(x, y, fastMath());
  }
  Value sub(Value x, Value y) {
    return b.create<arith::SubFOp>(x, y, fastMath());
  }
  Value exp(Value x) { return b.create<math::ExpOp>(x); }
  Value load(Value m, ValueRange idx) {
    return b.create<memref::LoadOp>(m, idx);
  }
  void store(Value v, Value m, ValueRange idx) {
    b.create<memref::StoreOp>(v, m, idx);
  }
  /// `size == 1 ? 0 : i`: the index into a dimension that may broadcast.
  Value broadcastIndex(Value memref, int64_t d, Value i) {
    auto type = cast<MemRefType>(memref.getType());
    if (type.getDimSize(d) == 1)
      return index(0);
    if (!type.isDynamicDim(d))
      return i;
    Value isOne = b.create<arith::CmpIOp>(arith::CmpIPredicate::eq,
                                          dim(memref, d), index(1));
    return b.create<arith::SelectOp>(isOne, index(0), i);
  }

  /// for iv in [lb, ub) step `step`: body(iv, iterArgs) -> yielded values.
  /// The body builds with this same builder, whose insertion point is moved
  /// into the loop for the duration of the call.
  scf::ForOp loop(Value lb, Value ub, Value step, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = b.create<scf::ForOp>(lb, ub, step, init);
    OpBuilder::InsertionGuard guard(b);
    Block *block = forOp.getBody();
    if (block->mightHaveTerminator())
      b.setInsertionPoint(block->getTerminator());
    else
      b.setInsertionPointToEnd(block);
    SmallVector<Value> results =
        body(forOp.getInductionVar(), forOp.getRegionIterArgs());
    if (!init.empty())
      b.create<scf::YieldOp>(results);
    return forOp;
  }
  scf::ForOp loop(Value lb, Value ub, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return loop(lb, ub, index(1), init, body);
  }
  /// cond ? thenValue() : elseValue(), each built only in its branch.
  Value ifElse(Value cond, function_ref<Value()> thenValue,
               function_ref<Value()> elseValue) {
    auto ifOp = b.create<scf::IfOp>(TypeRange{b.getF32Type()}, cond,
                                    /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    b.create<scf::YieldOp>(thenValue());
    b.setInsertionPointToStart(ifOp.elseBlock());
    b.create<scf::YieldOp>(elseValue());
    return ifOp.getResult(0);
  }
  Value splat(VectorType type, Value scalar) {
    return b.create<vector::BroadcastOp>(type, scalar);
  }
  Value vload(VectorType type, Value m, ValueRange idx) {
    return b.create<vector::LoadOp>(type, m, idx);
  }
  /// sum(x) with reassociation allowed.
  Value reduceAdd(Value x) {
    return b.create<vector::ReductionOp>(vector::CombiningKind::ADD, x,
                                         arith::FastMathFlags::reassoc |
                                             arith::FastMathFlags::contract);
  }

  /// for iv in [0, ub): body(iv) with no loop-carried values.
  void forEach(Value ub, function_ref<void(Value)> body) {
    loop(index(0), ub, {}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>{};
    });
  }
};

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

/// The size of dimension 3 of `value` if it is static, between 1 and
/// kMaxVectorSize, and contiguous (identity layout).
std::optional<int64_t> vectorizableSize(Value value) {
  auto type = cast<MemRefType>(value.getType());
  int64_t size = type.getDimSize(type.getRank() - 1);
  if (!type.getLayout().isIdentity() || ShapedType::isDynamic(size) ||
      size < 1 || size > kMaxVectorSize)
    return std::nullopt;
  return size;
}

/// Queries processed together by the blocked dot-product kernel.
constexpr int64_t kQueryBlock = 4;
/// Keys per vector in the blocked kernel (one zmm of f32).
constexpr int64_t kKeyLanes = 16;

/// Whether the blocked kernel applies: a dot score, no weights output, and
/// static, small, contiguous D and Dv.
bool canUseBlockedDot(OnlineAttentionOp op) {
  return op.getCombine() == ScoreCombine::dot && !op.getWeights() &&
         vectorizableSize(op.getQuery()) && vectorizableSize(op.getKeys()) &&
         vectorizableSize(op.getValues()) && vectorizableSize(op.getOutput());
}

/// The dot-product score for blocks of kQueryBlock queries, FlashAttention
/// style: per (batch, head) the keys are transposed once into K^T (in
/// panels of 16 keys), so that the scores of a block of queries against 16
/// keys are 16-lane FMAs (q_r[d] broadcast times a row of K^T) with no
/// horizontal reduction; each value row is loaded once per block and added
/// to the block's kQueryBlock accumulators (vectors in registers). Queries
/// past the end of the last block are clamped to the last query: they
/// recompute and rewrite its (identical) row.
void lowerBlockedDot(OnlineAttentionOp op, int64_t tileSize) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Emitter e{b};
  Value q = op.getQuery(), k = op.getKeys(), v = op.getValues();
  Value context = op.getOutput();
  Value batch = e.dim(context, 0), hq = e.dim(q, 1), nq = e.dim(q, 2),
        hk = e.dim(k, 1), nk = e.dim(k, 2);
  int64_t d = *vectorizableSize(q), dv = *vectorizableSize(v);
  auto groupSize = [&](Value heads) {
    Value size = b.create<arith::DivUIOp>(hq, e.maxIdx(heads, e.index(1)));
    return e.maxIdx(size, e.index(1));
  };
  Value keyGroup = groupSize(hk), valueGroup = groupSize(e.dim(v, 1));
  Value zero = e.index(0), one = e.index(1);
  Type f32 = b.getF32Type();
  auto lanesType = VectorType::get({kKeyLanes}, f32);
  auto dvType = VectorType::get({dv}, f32);
  // The tile is a whole number of 16-key vectors.
  int64_t tile = (tileSize + kKeyLanes - 1) / kKeyLanes * kKeyLanes;
  Value tileSizeV = e.index(tile), lanes = e.index(kKeyLanes);

  // K^T in panels of 16 keys, [ceil(Nk / 16), D, 16]: the 16 keys of a
  // panel are contiguous for every d, so the scores of a panel stream
  // through memory (a plain [D, Nk] K^T would stride by Nk per d and thrash
  // the cache). The padding keys of the last panel stay 0.
  Value panels = b.create<arith::DivUIOp>(
      b.create<arith::AddIOp>(nk, e.index(kKeyLanes - 1)), lanes);
  Value nkPadded = b.create<arith::MulIOp>(panels, lanes);
  Value keysT = b.create<memref::AllocOp>(
      MemRefType::get({ShapedType::kDynamic, d, kKeyLanes}, f32),
      ValueRange{panels});
  auto panelIndex = [&](Value j, Value c) -> SmallVector<Value> {
    return {b.create<arith::DivUIOp>(j, lanes), c,
            b.create<arith::RemUIOp>(j, lanes)};
  };
  e.loop(nk, nkPadded, {}, [&](Value j, ValueRange) {
    e.forEach(e.index(d),
              [&](Value c) { e.store(e.f32(0), keysT, panelIndex(j, c)); });
    return SmallVector<Value>{};
  });
  Value scores =
      b.create<memref::AllocaOp>(MemRefType::get({kQueryBlock, tile}, f32));
  Value iota = b.create<arith::ConstantOp>(DenseElementsAttr::get(
      VectorType::get({kKeyLanes}, b.getIndexType()),
      llvm::to_vector(
          llvm::map_range(llvm::seq<int64_t>(0, kKeyLanes), [&](int64_t x) {
            return b.getIndexAttr(x).cast<Attribute>();
          }))));
  auto laneIndices = [&](Value first) {
    return b.create<arith::AddIOp>(
        b.create<vector::BroadcastOp>(
            VectorType::get({kKeyLanes}, b.getIndexType()), first),
        iota);
  };
  Value negInfLanes = e.splat(lanesType, e.negInf());

  e.forEach(batch, [&](Value bIdx) {
    Value bq = e.broadcastIndex(q, 0, bIdx), bk = e.broadcastIndex(k, 0, bIdx),
          bv = e.broadcastIndex(v, 0, bIdx);
    Value visibleKeys = nk;
    if (Value lengths = op.getLengths()) {
      Value len = b.create<arith::IndexCastOp>(b.getIndexType(),
                                               e.load(lengths, {bIdx}));
      visibleKeys = e.minIdx(e.maxIdx(len, zero), nk);
    }
    e.forEach(hq, [&](Value h) {
      Value kh = b.create<arith::DivUIOp>(h, keyGroup);
      Value vh = b.create<arith::DivUIOp>(h, valueGroup);
      e.forEach(nk, [&](Value j) {
        e.forEach(e.index(d), [&](Value c) {
          e.store(e.load(k, {bk, kh, j, c}), keysT, panelIndex(j, c));
        });
      });
      Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, one), zero);
      e.loop(zero, nq, e.index(kQueryBlock), {}, [&](Value i0, ValueRange) {
        // The block's queries and the keys [0, end_r) each sees.
        SmallVector<Value> rows, ends;
        Value endMax = zero;
        for (int64_t r = 0; r < kQueryBlock; ++r) {
          Value i =
              e.minIdx(b.create<arith::AddIOp>(i0, e.index(r)), lastQuery);
          Value end = visibleKeys;
          if (op.getCausal()) {
            Value last =
                b.create<arith::SubIOp>(b.create<arith::AddIOp>(i, one),
                                        b.create<arith::SubIOp>(nq, nk));
            end = e.maxIdx(e.minIdx(end, last), zero);
          }
          rows.push_back(i);
          ends.push_back(end);
          endMax = e.maxIdx(endMax, end);
        }
        // State per query r: m_r, l_r, acc_r.
        SmallVector<Value> init;
        for (int64_t r = 0; r < kQueryBlock; ++r)
          init.append({e.negInf(), e.f32(0), e.splat(dvType, e.f32(0))});
        auto keyLoop = e.loop(
            zero, endMax, tileSizeV, init, [&](Value j0, ValueRange state) {
              Value count =
                  e.minIdx(tileSizeV, b.create<arith::SubIOp>(endMax, j0));
              // Pass 1: S[r, jv..jv+16) = q_r . K^T[:, j0+jv..] (masked).
              e.loop(zero, count, lanes, {}, [&](Value jv, ValueRange) {
                Value first = b.create<arith::AddIOp>(j0, jv);
                Value panel = b.create<arith::DivUIOp>(first, lanes);
                SmallVector<Value> zeros(kQueryBlock,
                                         e.splat(lanesType, e.f32(0)));
                auto dots = e.loop(
                    zero, e.index(d), zeros, [&](Value c, ValueRange acc) {
                      Value kt = e.vload(lanesType, keysT, {panel, c, zero});
                      SmallVector<Value> next;
                      for (int64_t r = 0; r < kQueryBlock; ++r) {
                        Value qc =
                            e.splat(lanesType, e.load(q, {bq, h, rows[r], c}));
                        next.push_back(b.create<vector::FMAOp>(qc, kt, acc[r]));
                      }
                      return next;
                    });
                Value keyIdx = laneIndices(first);
                for (int64_t r = 0; r < kQueryBlock; ++r) {
                  Value sv = dots.getResult(r);
                  if (Value scale = op.getScale())
                    sv = e.mul(sv, e.splat(lanesType, scale));
                  if (Value bias = op.getBias())
                    sv = e.add(sv, e.splat(lanesType, bias));
                  sv = buildActivation(b, b.getLoc(), op.getAct(), sv);
                  Value visible = b.create<arith::CmpIOp>(
                      arith::CmpIPredicate::slt, keyIdx,
                      b.create<vector::BroadcastOp>(
                          VectorType::get({kKeyLanes}, b.getIndexType()),
                          ends[r]));
                  sv = b.create<arith::SelectOp>(visible, sv, negInfLanes);
                  b.create<vector::StoreOp>(sv, scores,
                                            ValueRange{e.index(r), jv});
                }
                return SmallVector<Value>{};
              });
              // Pass 2 per query: running max, probabilities, sums.
              SmallVector<Value> next, alphas;
              for (int64_t r = 0; r < kQueryBlock; ++r) {
                Value rIdx = e.index(r);
                Value tileMax =
                    e.loop(zero, count, lanes, {negInfLanes},
                           [&](Value jv, ValueRange m) {
                             Value sv = e.vload(lanesType, scores, {rIdx, jv});
                             return SmallVector<Value>{
                                 b.create<arith::MaxNumFOp>(m[0], sv)};
                           })
                        .getResult(0);
                Value mOld = state[3 * r];
                Value mNew = b.create<arith::MaxNumFOp>(
                    mOld, b.create<vector::ReductionOp>(
                              vector::CombiningKind::MAXNUMF, tileMax));
                Value stillEmpty = b.create<arith::CmpFOp>(
                    arith::CmpFPredicate::OEQ, mNew, e.negInf());
                // exp(-inf - m) = 0 for masked keys; while nothing is
                // visible m stays -inf and every p is exp(-inf - 0) = 0.
                Value safeMax =
                    b.create<arith::SelectOp>(stillEmpty, e.f32(0), mNew);
                Value alpha = b.create<arith::SelectOp>(
                    stillEmpty, e.f32(1), e.exp(e.sub(mOld, mNew)));
                Value sum =
                    e.loop(zero, count, lanes, {e.splat(lanesType, e.f32(0))},
                           [&](Value jv, ValueRange acc) {
                             Value sv = e.vload(lanesType, scores, {rIdx, jv});
                             Value p =
                                 e.exp(e.sub(sv, e.splat(lanesType, safeMax)));
                             b.create<vector::StoreOp>(p, scores,
                                                       ValueRange{rIdx, jv});
                             return SmallVector<Value>{e.add(acc[0], p)};
                           })
                        .getResult(0);
                next.append(
                    {mNew,
                     e.add(e.mul(state[3 * r + 1], alpha), e.reduceAdd(sum)),
                     e.mul(state[3 * r + 2], e.splat(dvType, alpha))});
              }
              // Pass 3: each value row once for the whole block.
              SmallVector<Value> accs;
              for (int64_t r = 0; r < kQueryBlock; ++r)
                accs.push_back(next[3 * r + 2]);
              auto summed =
                  e.loop(zero, count, accs, [&](Value jj, ValueRange acc) {
                    Value j = b.create<arith::AddIOp>(j0, jj);
                    Value value = e.vload(dvType, v, {bv, vh, j, zero});
                    SmallVector<Value> out;
                    for (int64_t r = 0; r < kQueryBlock; ++r) {
                      Value p =
                          e.splat(dvType, e.load(scores, {e.index(r), jj}));
                      out.push_back(b.create<vector::FMAOp>(p, value, acc[r]));
                    }
                    return out;
                  });
              for (int64_t r = 0; r < kQueryBlock; ++r)
                next[3 * r + 2] = summed.getResult(r);
              return next;
            });
        // c_r = acc_r / l_r, or 0 when query r saw no key.
        for (int64_t r = 0; r < kQueryBlock; ++r) {
          Value l = keyLoop.getResult(3 * r + 1);
          Value nonEmpty =
              b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, l, e.f32(0));
          Value invL = b.create<arith::SelectOp>(
              nonEmpty, b.create<arith::DivFOp>(e.f32(1), l), e.f32(0));
          Value c = e.mul(keyLoop.getResult(3 * r + 2), e.splat(dvType, invL));
          b.create<vector::StoreOp>(c, context,
                                    ValueRange{bIdx, rows[r], h, zero});
        }
        return SmallVector<Value>{};
      });
    });
  });
  b.create<memref::DeallocOp>(keysT);
  op.erase();
}

void lowerOnlineAttention(OnlineAttentionOp op, int64_t tileSize,
                          bool allowVectors) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Emitter e{b};
  Value q = op.getQuery(), k = op.getKeys(), v = op.getValues();
  Value context = op.getOutput(), weights = op.getWeights();
  Value batch = e.dim(context, 0), hq = e.dim(q, 1), nq = e.dim(q, 2),
        d = e.dim(q, 3), hk = e.dim(k, 1), nk = e.dim(k, 2), dv = e.dim(v, 3);
  // Query head h reads key head h / (Hq / Hk) and value head
  // h / (Hq / Hv); the divisions are guarded against empty head dimensions
  // (then no loop runs anyway).
  auto groupSize = [&](Value heads) {
    Value size = b.create<arith::DivUIOp>(hq, e.maxIdx(heads, e.index(1)));
    return e.maxIdx(size, e.index(1));
  };
  Value keyGroup = groupSize(hk), valueGroup = groupSize(e.dim(v, 1));
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
    Value visibleKeys = nk;
    if (Value lengths = op.getLengths()) {
      Value len = b.create<arith::IndexCastOp>(b.getIndexType(),
                                               e.load(lengths, {bIdx}));
      visibleKeys = e.minIdx(e.maxIdx(len, zero), nk);
    }
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
        Value end = visibleKeys;
        if (op.getCausal()) {
          Value last =
              b.create<arith::SubIOp>(b.create<arith::AddIOp>(i, e.index(1)),
                                      b.create<arith::SubIOp>(nq, nk));
          end = e.maxIdx(e.minIdx(end, last), zero);
        }
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
        Value nonEmpty =
            b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, l, e.f32(0));
        Value invL = b.create<arith::SelectOp>(
            nonEmpty, b.create<arith::DivFOp>(e.f32(1), l), e.f32(0));
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
      if (auto attention = dyn_cast<OnlineAttentionOp>(op))
        if (vectorize && canUseBlockedDot(attention))
          lowerBlockedDot(attention, tileSize);
        else
          lowerOnlineAttention(attention, tileSize, vectorize);
      else
        lowerSoftmax(cast<SoftmaxOp>(op));
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
