//===- BlockedDot.cpp - The blocked dot-product attention kernel ----------===//
//
// The form convert-attn-to-loops gives attn.online_attention with a dot
// score, static D and Dv and no weights output (see Passes.td): blocks of
// kQueryBlock queries against panels of 16 transposed keys.
//
//===----------------------------------------------------------------------===//

#include "../LoopEmitter.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {
/// Queries processed together by the blocked kernel.
constexpr int64_t kQueryBlock = 4;
/// Keys per vector in the blocked kernel (one zmm of f32).
constexpr int64_t kKeyLanes = 16;
} // namespace

bool mlir::attn::loops::canUseBlockedDot(OnlineAttentionOp op) {
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
void mlir::attn::loops::lowerBlockedDot(OnlineAttentionOp op,
                                        int64_t tileSize) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  Emitter e{b};
  Value q = op.getQuery(), k = op.getKeys(), v = op.getValues();
  Value context = op.getOutput();
  Value batch = e.dim(context, 0), hq = e.dim(q, 1), nq = e.dim(q, 2),
        hk = e.dim(k, 1), nk = e.dim(k, 2);
  int64_t d = *vectorizableSize(q), dv = *vectorizableSize(v);
  Value keyGroup = headGroupSize(e, hq, hk),
        valueGroup = headGroupSize(e, hq, e.dim(v, 1));
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
  // [0, 1, ..., 15]: the lane offsets of the keys of a panel.
  auto laneIndexType = VectorType::get({kKeyLanes}, b.getIndexType());
  Value iota = b.create<vector::StepOp>(laneIndexType);
  auto laneIndices = [&](Value first) {
    return b.create<arith::AddIOp>(
        b.create<vector::BroadcastOp>(laneIndexType, first), iota);
  };
  Value negInfLanes = e.splat(lanesType, e.negInf());

  e.forEach(batch, [&](Value bIdx) {
    Value bq = e.broadcastIndex(q, 0, bIdx), bk = e.broadcastIndex(k, 0, bIdx),
          bv = e.broadcastIndex(v, 0, bIdx);
    Value visibleKeys = visibleKeyCount(e, op, bIdx, nk);
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
          Value end = visibleKeyEnd(e, op, visibleKeys, i, nq, nk);
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
                      b.create<vector::BroadcastOp>(laneIndexType, ends[r]));
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
          Value c = e.mul(keyLoop.getResult(3 * r + 2),
                          e.splat(dvType, inverseOrZero(e, l)));
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
