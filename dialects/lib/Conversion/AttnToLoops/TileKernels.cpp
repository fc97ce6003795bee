//===- TileKernels.cpp - Generic kernels of the tiled form ----------------===//
//
// Lowers the tile-level ops to loops one query at a time:
// attn.online_softmax_update becomes, for each query row of the tile, the
// scores of the key tile into a scratch buffer with their maximum, the
// rescaling of the row's sum and accumulator, the probabilities, and the
// weighted values; attn.tile_finalize divides each accumulator row by its
// sum; attn.tile_weights recomputes each score (the update writes its
// scores to `scores_out` when it has one). With a vector state, q, w
// and the accumulator rows are vectors (scores are vector products with a
// reduction, the weighted sum one FMA per key); with a buffer state the
// loops are scalar. Any combine, mask and size: the fallback for what the
// specialized kernels (BlockedDot.cpp) do not take.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToLoops/AttnToLoops.h"
#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Target/TargetDescription.h"

#include "TileScorer.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// Everything the score of one (query, key) pair needs.
struct ScoreContext {
  ScoreCombine combine;
  Activation act;
  Value scale, bias, w;
  Value q, k;      // memrefs [B, H, N, D]
  Value bq, h, i;  // query indices
  Value bk, hk;    // key indices (the key row is passed per call)
  Value keyShift;  // with key_row: key j is row j + keyShift of k; or null
  Value d;         // D
  Value wRow;      // additive: index of the row of w, or null (rank 1)
  Value queryNorm; // cosine: |q_i|
  // Vectorized form (D static and small): q_i and w in registers.
  VectorType vecType; // vector<D x f32>, or null for the scalar loops
  Value queryVec, wVec;
  // Expression modifiers: the functions, the batch entry they see and
  // their sizes and tables (cast to the functions' argument types).
  FlatSymbolRefAttr scoreMod, maskMod, weightMod;
  Value modBatch;
  SmallVector<Value> modOperands;
};

/// key_row - first_key for an update whose keys are its tile's rows of a
/// scratch buffer (key_row); null when key j is row j of the keys.
Value keyShiftOf(Emitter &e, OnlineSoftmaxUpdateOp op) {
  if (!op.getKeyRow())
    return Value();
  return e.b.create<arith::SubIOp>(op.getKeyRow(), op.getFirstKey());
}
Value keyShiftOf(Emitter &, TileWeightsOp) { return Value(); }
Value keyShiftOf(Emitter &, TileScoresOp) { return Value(); }

/// The batch entry the modifier functions see.
Value modifierBatch(OnlineSoftmaxUpdateOp op) { return op.getSampleBatch(); }
Value modifierBatch(TileWeightsOp op) { return op.getBatch(); }
Value modifierBatch(TileScoresOp op) { return op.getSampleBatch(); }

/// The score operands of a tile-level op, with q_i left to setQueryRow.
template <typename TileOp>
ScoreContext makeScoreContext(Emitter &e, TileOp op, bool vectorScores) {
  ScoreContext s;
  s.combine = op.getCombine();
  s.act = op.getAct();
  s.scale = op.getScale();
  s.bias = op.getBias();
  s.w = op.getScoreWeights();
  s.q = op.getQuery();
  s.k = op.getKeys();
  s.bq = op.getQueryBatch();
  s.h = op.getHead();
  s.bk = op.getKeyBatch();
  s.hk = op.getKeyHead();
  s.keyShift = keyShiftOf(e, op);
  s.d = e.dim(s.q, 3);
  if (s.w && cast<MemRefType>(s.w.getType()).getRank() == 2)
    s.wRow = s.h;
  s.scoreMod = op.getScoreModAttr();
  s.maskMod = op.getMaskModAttr();
  s.weightMod = op.getWeightModAttr();
  if (s.scoreMod || s.maskMod || s.weightMod) {
    s.modBatch = modifierBatch(op);
    s.modOperands =
        modifierOperands(e, op.getModSizes(), op.getModTables());
  }
  if (vectorScores) {
    auto qType = cast<MemRefType>(s.q.getType());
    s.vecType = VectorType::get({qType.getDimSize(3)}, e.b.getF32Type());
    Value zero = e.index(0);
    if (s.w)
      s.wVec = s.wRow ? e.vload(s.vecType, s.w, {s.wRow, zero})
                      : e.vload(s.vecType, s.w, {zero});
  }
  return s;
}

/// Points `s` at query row `i`: loads q_i (vectors) and |q_i| (cosine).
void setQueryRow(Emitter &e, ScoreContext &s, Value i) {
  s.i = i;
  Value zero = e.index(0);
  if (s.vecType)
    s.queryVec = e.vload(s.vecType, s.q, {s.bq, s.h, i, zero});
  if (!getScoreCombineRules(s.combine).dividesByNorms)
    return;
  Value squares =
      s.vecType ? e.reduceAdd(e.mul(s.queryVec, s.queryVec))
                : e.loop(zero, s.d, {e.f32(0)}, [&](Value c, ValueRange acc) {
                     Value qc = e.load(s.q, {s.bq, s.h, i, c});
                     return SmallVector<Value>{e.add(acc[0], e.mul(qc, qc))};
                   }).getResult(0);
  s.queryNorm = e.b.create<math::SqrtOp>(squares);
}

/// cos = dot / (|q| |k|), or 0 when a norm is 0; divides by 1 where the
/// result is discarded, so that no inf/NaN is formed.
Value cosine(Emitter &e, const ScoreContext &s, Value dot, Value keySquares) {
  ImplicitLocOpBuilder &b = e.b;
  Value keyNorm = b.create<math::SqrtOp>(keySquares);
  Value denom = e.mul(s.queryNorm, keyNorm);
  Value positive =
      b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, denom, e.f32(0));
  Value safeDenom = b.create<arith::SelectOp>(positive, denom, e.f32(1));
  return b.create<arith::SelectOp>(
      positive, b.create<arith::DivFOp>(dot, safeDenom), e.f32(0));
}

/// act(scale * dot + bias).
Value finishDot(Emitter &e, const ScoreContext &s, Value dot) {
  if (s.scale)
    dot = e.mul(dot, s.scale);
  if (s.bias)
    dot = e.add(dot, s.bias);
  return buildActivation(e.b, e.b.getLoc(), s.act, dot);
}

/// Prefetches row j + kPrefetchRowsAhead (the last row past the end) of
/// `rows` ([B, H, N, D] with D = `elements` contiguous floats), a cache
/// line at a time, when the rows are long enough for it to pay (4 lines):
/// the generic kernels read key and value rows one after the other, rows
/// that often come from memory (a projection wrote them over the whole
/// batch), and a vector load of the row stalls on each line otherwise.
void prefetchRowAhead(Emitter &e, Value rows, Value batch, Value head, Value j,
                      int64_t elements) {
  constexpr int64_t kPrefetchRowsAhead = 8, kLine = 16, kMinimumLines = 4;
  if (elements < kMinimumLines * kLine)
    return;
  ImplicitLocOpBuilder &b = e.b;
  Value last = b.create<arith::SubIOp>(e.dim(rows, 2), e.index(1));
  Value ahead = e.minIdx(
      b.create<arith::AddIOp>(j, e.index(kPrefetchRowsAhead)), last);
  for (int64_t c = 0; c < elements; c += kLine)
    b.create<memref::PrefetchOp>(rows, ValueRange{batch, head, ahead,
                                                  e.index(c)},
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
}

/// score(q_i, k_j), before masking: the arithmetic of each combine. Score
/// functions reach it only through their combine (the table in
/// ScoreFunctions.h), so a new one needs a case here only with a new
/// combine.
Value emitCombinedScore(Emitter &e, const ScoreContext &s, Value j) {
  ImplicitLocOpBuilder &b = e.b;
  Value zero = e.index(0);
  // The row of k that holds key j.
  if (s.keyShift)
    j = b.create<arith::AddIOp>(j, s.keyShift);
  if (s.vecType) {
    prefetchRowAhead(e, s.k, s.bk, s.hk, j, s.vecType.getNumElements());
    Value key = e.vload(s.vecType, s.k, {s.bk, s.hk, j, zero});
    switch (s.combine) {
    case ScoreCombine::dot:
      return finishDot(e, s, e.reduceAdd(e.mul(s.queryVec, key)));
    case ScoreCombine::additive: {
      Value hidden =
          buildActivation(b, b.getLoc(), s.act, e.add(s.queryVec, key));
      return e.reduceAdd(e.mul(s.wVec, hidden));
    }
    case ScoreCombine::cosine:
      return cosine(e, s, e.reduceAdd(e.mul(s.queryVec, key)),
                    e.reduceAdd(e.mul(key, key)));
    case ScoreCombine::multidim_additive: // never tiled: MultiDimensional.cpp
      break;
    case ScoreCombine::neg_sq_euclidean: {
      Value diff = b.create<arith::SubFOp>(s.queryVec, key);
      return b.create<arith::NegFOp>(e.reduceAdd(e.mul(diff, diff)));
    }
    }
    llvm_unreachable("unknown score combine");
  }
  switch (s.combine) {
  case ScoreCombine::dot: {
    Value dot = e.loop(zero, s.d, {e.f32(0)}, [&](Value c, ValueRange acc) {
                   Value qc = e.load(s.q, {s.bq, s.h, s.i, c});
                   Value kc = e.load(s.k, {s.bk, s.hk, j, c});
                   return SmallVector<Value>{e.add(acc[0], e.mul(qc, kc))};
                 }).getResult(0);
    return finishDot(e, s, dot);
  }
  case ScoreCombine::additive:
    return e
        .loop(zero, s.d, {e.f32(0)},
              [&](Value c, ValueRange acc) {
                Value qc = e.load(s.q, {s.bq, s.h, s.i, c});
                Value kc = e.load(s.k, {s.bk, s.hk, j, c});
                Value hidden =
                    buildActivation(b, b.getLoc(), s.act, e.add(qc, kc));
                Value wc = s.wRow ? e.load(s.w, {s.wRow, c}) : e.load(s.w, {c});
                return SmallVector<Value>{e.add(acc[0], e.mul(wc, hidden))};
              })
        .getResult(0);
  case ScoreCombine::cosine: {
    auto sums =
        e.loop(zero, s.d, {e.f32(0), e.f32(0)}, [&](Value c, ValueRange acc) {
          Value qc = e.load(s.q, {s.bq, s.h, s.i, c});
          Value kc = e.load(s.k, {s.bk, s.hk, j, c});
          return SmallVector<Value>{e.add(acc[0], e.mul(qc, kc)),
                                    e.add(acc[1], e.mul(kc, kc))};
        });
    return cosine(e, s, sums.getResult(0), sums.getResult(1));
  }
  case ScoreCombine::multidim_additive: // never tiled: MultiDimensional.cpp
    break;
  case ScoreCombine::neg_sq_euclidean: {
    // The differences themselves rather than |q|^2 - 2 q.k + |k|^2: one
    // reduction instead of two, and no cancellation when q is near k.
    Value sum = e.loop(zero, s.d, {e.f32(0)}, [&](Value c, ValueRange acc) {
                   Value qc = e.load(s.q, {s.bq, s.h, s.i, c});
                   Value kc = e.load(s.k, {s.bk, s.hk, j, c});
                   Value diff = b.create<arith::SubFOp>(qc, kc);
                   return SmallVector<Value>{e.add(acc[0], e.mul(diff, diff))};
                 }).getResult(0);
    return b.create<arith::NegFOp>(sum);
  }
  }
  llvm_unreachable("unknown score combine");
}

/// The score of (q_i, k_j) as the softmax sees it: the combine's, then the
/// score modifier's (`score_mod`), -inf where the mask predicate
/// (`mask_mod`) is false. The interval masks are the callers' bounds.
Value emitScore(Emitter &e, const ScoreContext &s, Value j) {
  Value score = emitCombinedScore(e, s, j);
  if (!s.scoreMod && !s.maskMod)
    return score;
  return applyScoreModifiers(e, s.scoreMod, s.maskMod, score, s.modBatch, s.h,
                             s.i, j, s.modOperands);
}

/// The keys [j0 + first, j0 + count) of the update's key tile (j0 its
/// first key, `tile` its size) that query i sees.
std::pair<Value, Value> tileRowKeys(Emitter &e, OnlineSoftmaxUpdateOp op,
                                    Value i, Value tile, Value nq, Value nk) {
  ImplicitLocOpBuilder &b = e.b;
  Value zero = e.index(0), j0 = op.getFirstKey();
  auto [begin, end] = visibleKeyRange(
      e, KeyInterval::of(op, op.getPrefixEnd()), op.getKeyEnd(), i, nq, nk);
  Value count =
      e.maxIdx(e.minIdx(tile, b.create<arith::SubIOp>(end, j0)), zero);
  Value first = zero;
  if (begin)
    first = e.minIdx(e.maxIdx(b.create<arith::SubIOp>(begin, j0), zero), count);
  return {first, count};
}

/// The factor of the weight of (q_i, k_j) (`weight_mod`; 1 without).
Value weightFactor(Emitter &e, const ScoreContext &s, Value j) {
  if (!s.weightMod)
    return e.f32(1);
  SmallVector<Value> args = {s.modBatch, s.h, s.i, j};
  args.append(s.modOperands);
  return e.b.create<func::CallOp>(s.weightMod, e.b.getF32Type(), args)
      .getResult(0);
}

/// exp(score - max), 0 for a score of -inf (a key a mask predicate or a
/// score modifier removed) even when max is -inf, where exp would give NaN.
/// Without modifiers every score the callers see is finite or the row's
/// max is finite, and this is exp(score - max).
Value expOfScore(Emitter &e, const ScoreContext &s, Value score, Value max) {
  Value p = e.expWeight(e.sub(score, max));
  if (!s.scoreMod && !s.maskMod)
    return p;
  Value removed = e.b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, score,
                                            e.negInf());
  return e.b.create<arith::SelectOp>(removed, e.f32(0), p);
}

/// A row of `memref` at `idx` as a vector: a plain load when the memref is
/// contiguous, a transfer (any strides) otherwise.
Value loadRow(Emitter &e, VectorType type, Value memref, ValueRange idx) {
  if (cast<MemRefType>(memref.getType()).getLayout().isIdentity())
    return e.vload(type, memref, idx);
  return e.b.create<vector::TransferReadOp>(type, memref, idx, e.f32(0),
                                            ArrayRef<bool>{true});
}

/// Stores the vector `row` into `memref` at `idx` (see loadRow).
void storeRow(Emitter &e, Value row, Value memref, ValueRange idx) {
  if (cast<MemRefType>(memref.getType()).getLayout().isIdentity()) {
    e.b.create<vector::StoreOp>(row, memref, idx);
    return;
  }
  e.b.create<vector::TransferWriteOp>(row, memref, idx, ArrayRef<bool>{true});
}

/// Whether q, k (and w) allow the vector form of the scores.
template <typename TileOp>
bool hasVectorScores(TileOp op, const TargetDescription &target) {
  int64_t limit = target.maxVectorElements;
  return vectorizableSize(op.getQuery(), limit) &&
         vectorizableSize(op.getKeys(), limit) &&
         (!op.getScoreWeights() ||
          vectorizableSize(op.getScoreWeights(), limit));
}

/// The Gumbel noise of align(hard) for key j of query i of batch entry b,
/// head h: a counter-based generator, a function of (seed, b, h, i, j)
/// only, so that the sample does not depend on tiling or threads. All
/// arithmetic mod 2^32 (indices truncated to 32 bits):
///   mix(x) = murmur3's fmix32: x ^= x >> 16; x *= 0x85ebca6b;
///            x ^= x >> 13; x *= 0xc2b2ae35; x ^= x >> 16
///   r = seed; r = mix((r ^ x) + 0x9e3779b9) for x = b, h, i, j in turn
///   u = ((r >> 8) + 0.5) / 2^24 in (0, 1);  g = -log(-log(u)).
/// argmax_j (s_j + g_j) is then a sample of softmax(s) (the Gumbel-max
/// trick). test/lib/reference.py (gumbel) computes the same.
Value gumbelNoise(Emitter &e, uint32_t seed, Value b, Value h, Value i,
                  Value j) {
  ImplicitLocOpBuilder &bld = e.b;
  Type i32 = bld.getI32Type();
  auto c = [&](uint32_t v) {
    return bld.create<arith::ConstantIntOp>(int64_t(int32_t(v)), i32)
        .getResult();
  };
  auto shr = [&](Value x, uint32_t n) {
    return bld.create<arith::ShRUIOp>(x, c(n)).getResult();
  };
  auto mix = [&](Value x) {
    x = bld.create<arith::XOrIOp>(x, shr(x, 16));
    x = bld.create<arith::MulIOp>(x, c(0x85ebca6bu));
    x = bld.create<arith::XOrIOp>(x, shr(x, 13));
    x = bld.create<arith::MulIOp>(x, c(0xc2b2ae35u));
    return bld.create<arith::XOrIOp>(x, shr(x, 16)).getResult();
  };
  Value r = c(seed);
  for (Value x : {b, h, i, j}) {
    Value x32 = bld.create<arith::IndexCastUIOp>(i32, x);
    r = mix(bld.create<arith::AddIOp>(bld.create<arith::XOrIOp>(r, x32),
                                      c(0x9e3779b9u)));
  }
  Value top = bld.create<arith::UIToFPOp>(bld.getF32Type(), shr(r, 8));
  Value u = bld.create<arith::MulFOp>(
      bld.create<arith::AddFOp>(top, e.f32(0.5)), e.f32(1.0 / (1 << 24)));
  Value inner = bld.create<arith::NegFOp>(bld.create<math::LogOp>(u));
  return bld.create<arith::NegFOp>(bld.create<math::LogOp>(inner));
}

/// argmax: per query row, the first visible key of the tile with the
/// greatest score (strictly greater than the running maximum, so that the
/// first maximum over all tiles wins); its value row replaces the
/// accumulator and the sum becomes 1. Keys whose score is NaN or -inf are
/// never chosen.
void lowerArgmax(Emitter &e, OnlineSoftmaxUpdateOp op, ScoreContext &s,
                 bool valueState, VectorType dvType, Value lastQuery,
                 Value &maxState, Value &sumState, Value &accState) {
  ImplicitLocOpBuilder &b = e.b;
  Value zero = e.index(0);
  Value nq = e.dim(op.getQuery(), 2), nk = e.dim(op.getValues(), 2);
  Value tile = e.index(op.getKeyTile()), j0 = op.getFirstKey();
  Value v = op.getValues(), bv = op.getValueBatch(), hv = op.getValueHead();
  Value dv = e.dim(v, 3);
  // hard: the argmax of the scores plus Gumbel noise.
  bool hard = op.getAlign() == AlignKind::hard;
  uint32_t seed = hard ? uint32_t(*op.getSeed()) : 0;
  for (int64_t r = 0, rows = op.getQueryTileSize(); r < rows; ++r) {
    Value rIdx = e.index(r);
    Value i = e.minIdx(b.create<arith::AddIOp>(op.getFirstQuery(), rIdx),
                       lastQuery);
    setQueryRow(e, s, i);
    auto [first, count] = tileRowKeys(e, op, i, tile, nq, nk);
    Value mOld = rowStateAt(e, maxState, r);
    // (max, index) of the tile, starting from the running maximum.
    auto best = e.loop(first, count, {mOld, e.index(-1)},
                       [&](Value jj, ValueRange st) {
                         Value j = b.create<arith::AddIOp>(j0, jj);
                         Value score = emitScore(e, s, j);
                         if (hard)
                           score = b.create<arith::AddFOp>(
                               score, gumbelNoise(e, seed, op.getSampleBatch(),
                                                  op.getHead(), i, j));
                         Value better = b.create<arith::CmpFOp>(
                             arith::CmpFPredicate::OGT, score, st[0]);
                         return SmallVector<Value>{
                             b.create<arith::SelectOp>(better, score, st[0]),
                             b.create<arith::SelectOp>(better, jj, st[1])};
                       });
    Value mNew = best.getResult(0), jBest = best.getResult(1);
    Value taken = b.create<arith::CmpIOp>(arith::CmpIPredicate::sge, jBest,
                                          zero);
    Value lNew = b.create<arith::SelectOp>(taken, e.f32(1),
                                           rowStateAt(e, sumState, r));
    Value key = b.create<arith::AddIOp>(j0, e.maxIdx(jBest, zero));
    if (valueState) {
      Value old = b.create<vector::ExtractOp>(accState, ArrayRef<int64_t>{r});
      auto chosen = b.create<scf::IfOp>(TypeRange{dvType}, taken,
                                        /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(chosen.thenBlock());
        b.create<scf::YieldOp>(loadRow(e, dvType, v, {bv, hv, key, zero}));
        b.setInsertionPointToStart(chosen.elseBlock());
        b.create<scf::YieldOp>(old);
      }
      maxState = b.create<vector::InsertOp>(mNew, maxState, r);
      sumState = b.create<vector::InsertOp>(lNew, sumState, r);
      accState = b.create<vector::InsertOp>(chosen.getResult(0), accState, r);
    } else {
      auto copy = b.create<scf::IfOp>(taken, /*withElseRegion=*/false);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(copy.thenBlock()->getTerminator());
        e.forEach(dv, [&](Value c) {
          e.store(e.load(v, {bv, hv, key, c}), accState, {rIdx, c});
        });
      }
      e.store(mNew, maxState, {rIdx});
      e.store(lNew, sumState, {rIdx});
    }
  }
}

/// One key tile for each query row in turn (see the file comment).
struct GenericOnlineSoftmaxUpdate
    : public OpRewritePattern<OnlineSoftmaxUpdateOp> {
  GenericOnlineSoftmaxUpdate(MLIRContext *context,
                             const TargetDescription &target)
      : OpRewritePattern(context, /*benefit=*/1), target(target) {}

  LogicalResult matchAndRewrite(OnlineSoftmaxUpdateOp op,
                                PatternRewriter &rewriter) const override {
    // Any form: a vector state with scores that cannot be vectors (dynamic
    // D) gets scalar scores and vector accumulators.
    bool valueState = op.hasValueState();
    bool vectorScores = valueState && hasVectorScores(op, target);
    Value v = op.getValues();
    int64_t keyTile = op.getKeyTile();
    Type f32 = rewriter.getF32Type();
    Value scores =
        allocateTileScratch(rewriter, op, MemRefType::get({keyTile}, f32));
    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value zero = e.index(0);
    Value nq = e.dim(op.getQuery(), 2), nk = e.dim(op.getValues(), 2);
    Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, e.index(1)), zero);
    Value tile = e.index(keyTile), j0 = op.getFirstKey();
    Value bv = op.getValueBatch(), hv = op.getValueHead();
    ScoreContext s = makeScoreContext(e, op, vectorScores);
    Value dv = e.dim(v, 3);
    VectorType dvType;
    if (valueState)
      dvType = VectorType::get(
          {cast<VectorType>(op.getAcc().getType()).getDimSize(1)}, f32);

    Value maxState = op.getMax(), sumState = op.getSum(),
          accState = op.getAcc();
    AlignKind align = op.getAlign();
    if (align == AlignKind::argmax || align == AlignKind::hard) {
      lowerArgmax(e, op, s, valueState, dvType, lastQuery, maxState, sumState,
                  accState);
      if (valueState)
        rewriter.replaceOp(op, ValueRange{maxState, sumState, accState});
      else
        rewriter.eraseOp(op);
      return success();
    }
    bool sigmoid = align == AlignKind::sigmoid;
    for (int64_t r = 0, rows = op.getQueryTileSize(); r < rows; ++r) {
      Value rIdx = e.index(r);
      Value i = e.minIdx(b.create<arith::AddIOp>(op.getFirstQuery(), rIdx),
                         lastQuery);
      setQueryRow(e, s, i);
      // Keys [j0 + first, j0 + count) of the tile are visible to query i.
      auto [first, count] = tileRowKeys(e, op, i, tile, nq, nk);
      // Pass 1: the row's scores and their maximum (maxnumf: a plain
      // vmaxss; a NaN score still propagates through exp).
      // Sigmoid: no maximum (the weights are not normalized), alpha = 1.
      Value tileMax =
          e.loop(first, count, {e.negInf()}, [&](Value jj, ValueRange m) {
             Value j = b.create<arith::AddIOp>(j0, jj);
             Value score = emitScore(e, s, j);
             e.store(score, scores, {jj});
             // scores_out (a weights output): attn.tile_weights may read
             // the scores there rather than compute them again.
             if (Value out = op.getScoresOut())
               e.store(score, out, {op.getSampleBatch(), op.getHead(), i, j});
             if (sigmoid)
               return SmallVector<Value>{m[0]};
             return SmallVector<Value>{b.create<arith::MaxNumFOp>(m[0], score)};
           }).getResult(0);
      Value mOld = rowStateAt(e, maxState, r);
      Value mNew = mOld, alpha;
      if (sigmoid) {
        alpha = e.f32(1);
      } else {
        mNew = b.create<arith::MaximumFOp>(mOld, tileMax);
        // alpha rescales what was accumulated under the old maximum; while
        // the maximum is still -inf nothing was accumulated.
        Value stillEmpty = b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ,
                                                   mNew, e.negInf());
        alpha = b.create<arith::SelectOp>(stillEmpty, e.f32(1),
                                          e.expWeight(e.sub(mOld, mNew)));
      }
      Value acc;
      if (valueState)
        acc = e.mul(b.create<vector::ExtractOp>(accState, ArrayRef<int64_t>{r}),
                    e.splat(dvType, alpha));
      else
        e.forEach(dv, [&](Value c) {
          e.store(e.mul(e.load(accState, {rIdx, c}), alpha), accState,
                  {rIdx, c});
        });
      // Pass 2: the probabilities, in place of the scores (a loop without
      // memory dependences, so that exp vectorizes).
      Value tileSum =
          e.loop(first, count, {e.f32(0)}, [&](Value jj, ValueRange sum) {
             Value score = e.load(scores, {jj});
             Value p = sigmoid ? buildActivation(b, b.getLoc(),
                                                 Activation::sigmoid, score)
                               : expOfScore(e, s, score, mNew);
             // A weight factor scales the weighted sum, not the normalizer.
             Value weighted = p;
             if (s.weightMod)
               weighted = e.mul(
                   p, weightFactor(e, s, b.create<arith::AddIOp>(j0, jj)));
             e.store(weighted, scores, {jj});
             return SmallVector<Value>{e.add(sum[0], p)};
           }).getResult(0);
      // Pass 3: the weighted values p_j v_j.
      if (valueState) {
        acc = e.loop(first, count, {acc}, [&](Value jj, ValueRange a) {
                 Value j = b.create<arith::AddIOp>(j0, jj);
                 Value p = e.splat(dvType, e.load(scores, {jj}));
                 prefetchRowAhead(e, v, bv, hv, j, dvType.getNumElements());
                 Value value = loadRow(e, dvType, v, {bv, hv, j, zero});
                 return SmallVector<Value>{
                     b.create<vector::FMAOp>(p, value, a[0])};
               }).getResult(0);
      } else {
        e.loop(first, count, {}, [&](Value jj, ValueRange) {
          Value j = b.create<arith::AddIOp>(j0, jj);
          Value p = e.load(scores, {jj});
          e.forEach(dv, [&](Value c) {
            Value vc = e.load(v, {bv, hv, j, c});
            e.store(e.add(e.load(accState, {rIdx, c}), e.mul(p, vc)), accState,
                    {rIdx, c});
          });
          return SmallVector<Value>{};
        });
      }
      // Sigmoid: the sum is 1 once a tile was seen, so that the finalize's
      // acc / sum is acc (a query that sees no key keeps acc = 0).
      Value lNew = sigmoid ? e.f32(1)
                           : e.add(e.mul(rowStateAt(e, sumState, r), alpha),
                                   tileSum);
      if (valueState) {
        maxState = b.create<vector::InsertOp>(mNew, maxState, r);
        sumState = b.create<vector::InsertOp>(lNew, sumState, r);
        accState = b.create<vector::InsertOp>(acc, accState, r);
      } else {
        e.store(mNew, maxState, {rIdx});
        e.store(lNew, sumState, {rIdx});
      }
    }
    if (valueState)
      rewriter.replaceOp(op, ValueRange{maxState, sumState, accState});
    else
      rewriter.eraseOp(op);
    return success();
  }

  const TargetDescription &target;
};

/// context row = acc row / sum, or 0 when the query saw no key.
struct LowerTileFinalize : public OpRewritePattern<TileFinalizeOp> {
  LowerTileFinalize(MLIRContext *context, const TargetDescription &target)
      : OpRewritePattern(context), target(target) {}

  LogicalResult matchAndRewrite(TileFinalizeOp op,
                                PatternRewriter &rewriter) const override {
    Value context = op.getOutput(), acc = op.getAcc();
    bool valueState = isa<VectorType>(acc.getType());
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value zero = e.index(0);
    Value nq = e.dim(context, 1), dv = e.dim(context, 3);
    Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, e.index(1)), zero);
    Value bIdx = op.getBatch(), h = op.getHead();
    int64_t rows = cast<ShapedType>(acc.getType()).getDimSize(0);
    for (int64_t r = 0; r < rows; ++r) {
      Value rIdx = e.index(r);
      Value i = e.minIdx(b.create<arith::AddIOp>(op.getFirstQuery(), rIdx),
                         lastQuery);
      Value invL = inverseOrZero(e, rowStateAt(e, op.getSum(), r));
      if (Value lse = op.getLse()) {
        // log(sum_j exp(s_j)) = m + log(l) from the online softmax's state;
        // -inf when the query saw no key (l = 0, m = -inf).
        Value l = rowStateAt(e, op.getSum(), r);
        Value seen =
            b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, l, e.f32(0));
        Value value = b.create<arith::SelectOp>(
            seen,
            e.add(rowStateAt(e, op.getMax(), r),
                  b.create<math::LogOp>(
                      b.create<arith::SelectOp>(seen, l, e.f32(1)))),
            e.negInf());
        e.store(value, lse, {bIdx, h, i});
      }
      if (valueState) {
        Value row = b.create<vector::ExtractOp>(acc, ArrayRef<int64_t>{r});
        Value c = e.mul(row, e.splat(cast<VectorType>(row.getType()), invL));
        storeRow(e, c, context, {bIdx, i, h, zero});
      } else {
        e.forEach(dv, [&](Value c) {
          e.store(e.mul(e.load(acc, {rIdx, c}), invL), context,
                  {bIdx, i, h, c});
        });
      }
    }
    rewriter.eraseOp(op);
    return success();
  }

  const TargetDescription &target;
};

/// a_ij = exp(s_ij - m_i) / l_i over every key, 0 where masked.
struct LowerTileWeights : public OpRewritePattern<TileWeightsOp> {
  LowerTileWeights(MLIRContext *context, const TargetDescription &target)
      : OpRewritePattern(context), target(target) {}

  LogicalResult matchAndRewrite(TileWeightsOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    // Without keys (scores_stored) the scores are read where the update
    // stored them.
    bool readsScores = !op.getKeys();
    bool vectorScores = !readsScores &&
                        isa<VectorType>(op.getMax().getType()) &&
                        hasVectorScores(op, target);
    ScoreContext s = makeScoreContext(e, op, vectorScores);
    Value zero = e.index(0);
    Value nq = e.dim(op.getQuery(), 2), nk = e.dim(op.getWeights(), 3);
    Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, e.index(1)), zero);
    Value weights = op.getWeights(), bIdx = op.getBatch(), h = op.getHead();
    int64_t rows = cast<ShapedType>(op.getMax().getType()).getDimSize(0);
    for (int64_t r = 0; r < rows; ++r) {
      Value row = b.create<arith::AddIOp>(op.getFirstQuery(), e.index(r));
      Value i = e.minIdx(row, lastQuery);
      // A row past the last query is a copy of it: with stored scores it
      // must not read the weights its original already wrote.
      OpBuilder::InsertionGuard rowGuard(b);
      if (readsScores && r > 0) {
        auto exists = b.create<scf::IfOp>(
            b.create<arith::CmpIOp>(arith::CmpIPredicate::ule, row, lastQuery),
            /*withElseRegion=*/false);
        b.setInsertionPoint(exists.thenBlock()->getTerminator());
      }
      if (readsScores)
        s.i = i;
      else
        setQueryRow(e, s, i);
      auto [beginKey, endKey] = visibleKeyRange(
          e, KeyInterval::of(op, op.getPrefixEnd()), op.getKeyEnd(), i, nq, nk);
      Value begin = beginKey, end = endKey;
      Value m = rowStateAt(e, op.getMax(), r);
      Value invL = inverseOrZero(e, rowStateAt(e, op.getSum(), r));
      auto isVisible = [&](Value j) {
        Value visible =
            b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, j, end);
        if (begin)
          visible = b.create<arith::AndIOp>(
              visible,
              b.create<arith::CmpIOp>(arith::CmpIPredicate::sge, j, begin));
        return visible;
      };
      if (op.getAlign() == AlignKind::sigmoid) {
        // a_j = sigmoid(s_j), unnormalized.
        e.forEach(nk, [&](Value j) {
          Value a = e.ifElse(
              isVisible(j),
              [&] {
                return e.mul(buildActivation(b, b.getLoc(),
                                             Activation::sigmoid,
                                             emitScore(e, s, j)),
                             weightFactor(e, s, j));
              },
              [&] { return e.f32(0); });
          e.store(a, weights, {bIdx, h, i, j});
        });
        continue;
      }
      if (op.getAlign() == AlignKind::argmax ||
          op.getAlign() == AlignKind::hard) {
        bool hard = op.getAlign() == AlignKind::hard;
        // One-hot at the first visible key whose score is the maximum (none
        // when the query saw no key: invL = 0).
        e.loop(zero, nk, {e.f32(0)}, [&](Value j, ValueRange done) {
          Value hit = e.ifElse(
              isVisible(j),
              [&] {
                Value score = emitScore(e, s, j);
                if (hard)
                  score = b.create<arith::AddFOp>(
                      score, gumbelNoise(e, uint32_t(*op.getSeed()), bIdx, h,
                                         i, j));
                Value eq = b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ,
                                                   score, m);
                return b.create<arith::SelectOp>(eq, invL, e.f32(0))
                    .getResult();
              },
              [&] { return e.f32(0); });
          Value first = b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ,
                                                done[0], e.f32(0));
          Value a = b.create<arith::SelectOp>(first, hit, e.f32(0));
          e.store(a, weights, {bIdx, h, i, j});
          return SmallVector<Value>{b.create<arith::MaxNumFOp>(done[0], a)};
        });
        continue;
      }
      e.forEach(nk, [&](Value j) {
        Value a = e.ifElse(
            isVisible(j),
            [&] {
              Value score = readsScores ? e.load(weights, {bIdx, h, i, j})
                                        : emitScore(e, s, j);
              Value a = e.mul(expOfScore(e, s, score, m), invL);
              return s.weightMod ? e.mul(a, weightFactor(e, s, j)) : a;
            },
            [&] { return e.f32(0); });
        e.store(a, weights, {bIdx, h, i, j});
      });
    }
    rewriter.eraseOp(op);
    return success();
  }

  const TargetDescription &target;
};

} // namespace

void mlir::attn::populateTileKernelPatterns(RewritePatternSet &patterns,
                                            const TargetDescription &target) {
  patterns.add<GenericOnlineSoftmaxUpdate, LowerTileFinalize, LowerTileWeights>(
      patterns.getContext(), target);
}

//===----------------------------------------------------------------------===//
// The scores for the kernels of other files (TileScorer.h)
//===----------------------------------------------------------------------===//

struct mlir::attn::loops::TileScorer::Impl {
  Emitter &e;
  ScoreContext s;
};

mlir::attn::loops::TileScorer::TileScorer(Emitter &e, TileScoresOp op,
                                          const TargetDescription &target)
    : impl(new Impl{e, makeScoreContext(e, op, hasVectorScores(op, target))}) {}

mlir::attn::loops::TileScorer::~TileScorer() = default;

void mlir::attn::loops::TileScorer::setQueryRow(Value i) {
  ::setQueryRow(impl->e, impl->s, i);
}

Value mlir::attn::loops::TileScorer::score(Value j) {
  return emitScore(impl->e, impl->s, j);
}
