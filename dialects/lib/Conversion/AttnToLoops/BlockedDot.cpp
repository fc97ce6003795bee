//===- BlockedDot.cpp - The blocked dot-product kernel --------------------===//
//
// Lowers attn.online_softmax_update with a dot score and a vector state the
// FlashAttention way: the keys are packed once, before the parallel loop of
// the tiled form, into panels of `vectorLanes` transposed keys
// ([B, Hk, ceil(Nk / lanes), D, lanes]), so that the scores of the whole
// query tile against one panel are lane-wide FMAs (q_r[d] broadcast times a
// panel row) with no horizontal reduction, and each value row is loaded once
// for the query tile and added to its QT accumulators (vectors in
// registers). The values are packed before the parallel loop too, per key
// tile and chunk of value columns (packValueTiles), so that pass 3 reads a
// chunk of a tile as one contiguous run. Masks are a lane-wise select to
// -inf.
//
// A cosine score, q.k / (|q| |k|) (0 when a norm is 0), is the same kernel:
// the keys are packed divided by their norms (a zero key stays zero), and
// each query row's scores are multiplied by 1 / |q| (0 for a zero query).
//
// A tile of one query (a static n_q of 1: decoding, one query per batch
// entry), or the only tile of its head (a static n_q of at most a tile; the
// query heads of a group after -attn-group-query-heads), reads the keys in
// place instead: packing them would cost more than the one use it serves.
// For each row, each of `lanes` keys gets an accumulator of FMAs along D,
// and a tree of shuffles sums each into its lane of the scores (rowDots);
// the rest of the kernel is the same.
//
// With `scores_out` (a weights output), the scores of pass 1 are also
// stored there, masked keys as -inf, for attn.tile_weights to normalize.
//
// With bf16 dot products (the pass's `bf16-dot-products` option, attnc
// --dot-precision=bf16; the target must have AVX512-BF16), the two products
// multiply bf16-rounded operands and accumulate in f32 with vdpbf16ps (32
// products per instruction, twice an FMA's): the queries are rounded once
// into [B, H, Nq, 2 ceil(D/2)], the key panels hold pairs of elements
// ([B, Hk, panels, ceil(D/2), 2 lanes]: lane l's elements 2c and 2c+1 side
// by side), the values pairs of keys ([B, Hv, ceil(Nk/2), Dv, 2]), and the
// probabilities are rounded as they are computed (FlashAttention's P in
// bf16; their exp is the degree-3 polynomial, ExpPrecision::BF16, whose
// error is far below that rounding); scores, maxima, sums and accumulators
// stay f32.
//
// With AMX tiles too (the pass's `amx-tiles` option; the target must have
// AMX-BF16), the two products of such a tile run on the tile unit instead
// (BlockedAMX.cpp): pass 1 scores the tile with tdpbf16ps into the score
// scratch and then only scales, masks and takes the maxima; pass 3 adds
// the tile unit's P V to the rescaled accumulators. With a positive
// constant scale and nothing else on the scores, the scale moves into
// pass 2's first FMA (2^(s scale log2 e - m log2 e)): pass 1 leaves the
// products of a whole, unmasked tile where they are and takes their
// maxima, scaled once per tile. The queries are padded
// by QT - 1 copies of the last (the rows of a tile past n_q compute, and
// store, what the last row does, as in the other kernels) and the value
// pairs by 16 zero rows (whole tiles of rows).
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "attn/Conversion/AttnToLoops/AttnToLoops.h"
#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Target/TargetDescription.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

struct BlockedDotUpdate : public OpRewritePattern<OnlineSoftmaxUpdateOp> {
  BlockedDotUpdate(MLIRContext *context, const TargetDescription &target,
                   bool bf16Dots, bool amxTiles, bool vectorBF16Dots)
      : OpRewritePattern(context, /*benefit=*/2), target(target),
        bf16Dots(bf16Dots), amxTiles(amxTiles),
        vectorBF16Dots(vectorBF16Dots) {}

  /// The kernel needs a softmax alignment (sigmoid, argmax and hard take
  /// the generic kernel), no weight factor (score_mod and mask_mod are a
  /// scalar pass over the stored scores; interval bands are bounds), a dot
  /// or cosine score, registers for q, the state and the
  /// value rows, key tiles of whole panels, and keys that exist before the
  /// parallel loop (where they are packed) unless they are read in place;
  /// not a tile's scratch of keys (key_row).
  LogicalResult match(OnlineSoftmaxUpdateOp op) const override {
    int64_t limit = target.maxVectorElements;
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    return success(
        !op.getKeyRow() &&
        (op.getCombine() == ScoreCombine::dot ||
         op.getCombine() == ScoreCombine::cosine) &&
        op.getAlign() == AlignKind::softmax && op.hasValueState() &&
        !op.getWeightModAttr() && vectorizableSize(op.getQuery(), limit) &&
        vectorizableSize(op.getKeys(), limit) &&
        vectorizableSize(op.getValues(), limit) &&
        op.getKeyTile() % target.vectorLanes == 0 && parallel &&
        (readsKeysInPlace(op) ||
         !parallel.getRegion().isAncestor(op.getKeys().getParentRegion())));
  }

  /// A tile that is the only one of its head (a static n_q of at most a
  /// tile: decoding, a few queries per head, the query heads of a group
  /// folded into queries by -attn-group-query-heads) reads the keys where
  /// they are: packing them would cost more than the one use it serves
  /// (measured 1.1-2x slower from n_q = 2 to 8 at d = 8 to 128). rowDots
  /// sums lanes of accumulators in a tree: a power of 2 of lanes.
  bool readsKeysInPlace(OnlineSoftmaxUpdateOp op) const {
    if (!llvm::isPowerOf2_64(target.vectorLanes))
      return false;
    int64_t queryTile = op.getQueryTileSize();
    int64_t nq = cast<MemRefType>(op.getQuery().getType()).getDimSize(2);
    return queryTile == 1 || (!ShapedType::isDynamic(nq) && nq <= queryTile);
  }

  /// Value columns accumulated together in pass 3: whole vectors of lanes,
  /// QT x (columns / lanes) accumulators (one vector each) within 3/4 of
  /// the registers (the rest hold the value row chunk and a broadcast
  /// probability), in as few chunks as that allows, as even as they can be,
  /// the last one narrower if need be (Dv = 128 in 48, 48 and 32 columns at
  /// a query tile of 8; Dv = 64 in 32 and 32); all of Dv when it is not
  /// whole vectors. (Chunks of 2 vectors at most, the earlier rule, cost
  /// 3-5% at Dv = 128: a broadcast probability per 2 FMAs instead of 3.)
  int64_t valueChunk(int64_t queryTile, int64_t dv) const {
    int64_t lanes = target.vectorLanes;
    if (dv % lanes != 0)
      return dv;
    int64_t vectors = dv / lanes;
    int64_t fit = std::max<int64_t>(
        1, (target.vectorRegisters * 3 / 4) / std::max<int64_t>(queryTile, 1));
    int64_t chunks = llvm::divideCeil(vectors, fit);
    return llvm::divideCeil(vectors, chunks) * lanes;
  }

  /// Separate sums the keys of pass 3 are dealt into (a power of 2): enough
  /// for the target's independent FMA chains when QT x (chunk / lanes)
  /// accumulators are fewer (a query tile of 8 with d_v = 16 has 8 chains,
  /// each waiting on its own last FMA), within half the registers.
  int64_t keyInterleave(int64_t queryTile, int64_t chunk) const {
    int64_t accumulators =
        queryTile * llvm::divideCeil(chunk, target.vectorLanes);
    int64_t ways = 1;
    while (2 * ways * accumulators <= target.fmaChains &&
           2 * ways * accumulators <= target.vectorRegisters / 2)
      ways *= 2;
    return ways;
  }

  /// Whether this op's products take bf16 operands: when asked for (on the
  /// AMX tiles only, without `vectorBF16Dots`), and the queries too exist
  /// before the parallel loop (they are rounded there) and the value rows
  /// are whole vectors.
  bool usesBF16(OnlineSoftmaxUpdateOp op) const {
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    int64_t dv = cast<MemRefType>(op.getValues().getType()).getDimSize(3);
    return bf16Dots && (vectorBF16Dots || usesAMX(op)) &&
           dv % target.vectorLanes == 0 &&
           !parallel.getRegion().isAncestor(op.getQuery().getParentRegion()) &&
           !parallel.getRegion().isAncestor(op.getValues().getParentRegion());
  }

  /// Whether this op's bf16 products run on AMX tiles: when asked for, on
  /// whole tiles, and without a weights output (the weights kernels take
  /// the vector products; that combination is neither built nor tested).
  bool usesAMX(OnlineSoftmaxUpdateOp op) const {
    int64_t d = cast<MemRefType>(op.getQuery().getType()).getDimSize(3);
    int64_t dv = cast<MemRefType>(op.getValues().getType()).getDimSize(3);
    return amxTiles && !op.getScoresOut() &&
           amxTilesFit(op.getQueryTileSize(), op.getKeyTile(), d, dv);
  }

  void rewrite(OnlineSoftmaxUpdateOp op,
               PatternRewriter &rewriter) const override {
    int64_t lanes = target.vectorLanes, keyTile = op.getKeyTile();
    int64_t queryTile = op.getQueryTileSize();
    Value q = op.getQuery(), k = op.getKeys(), v = op.getValues();
    int64_t d = cast<MemRefType>(q.getType()).getDimSize(3);
    int64_t dv = cast<MemRefType>(v.getType()).getDimSize(3);
    bool inPlace = readsKeysInPlace(op);
    int64_t step = inPlace ? 1 : panelsPerStep(target, queryTile, keyTile);
    int64_t chunk = valueChunk(queryTile, dv);
    Type f32 = rewriter.getF32Type(), bf16 = rewriter.getBF16Type();
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    bool useBF16 = !inPlace && usesBF16(op);
    bool useAMX = useBF16 && usesAMX(op);
    bool cosine = op.getCombine() == ScoreCombine::cosine;
    // A positive constant scale (or none) and nothing else between the dot
    // products and the softmax: pass 1 takes the maxima of the products as
    // they are (scaling by a positive constant keeps the maximum: the
    // tile's maximum is scaled once), and pass 2 scales each score in the
    // exponential's first FMA. On the tile unit the products then stay
    // where it stored them.
    std::optional<double> foldedScale;
    if (!op.getScoresOut() && !cosine && !op.getBias() &&
        op.getAct() == Activation::identity && !op.getScoreModAttr() &&
        !op.getMaskModAttr()) {
      FloatAttr constant;
      if (!op.getScale())
        foldedScale = 1.0;
      else if (matchPattern(op.getScale(), m_Constant(&constant)) &&
               constant.getValueAsDouble() > 0)
        foldedScale = constant.getValueAsDouble();
    }
    // bf16: elements of q and of the key rows in pairs.
    Value packed, queryPairs, valuePairs, probabilities, packedValues;
    if (useBF16) {
      queryPairs = packQueryPairs(rewriter, parallel, q, lanes,
                                  useAMX ? queryTile - 1 : 0);
      packed = packKeyPanels(rewriter, parallel, k, bf16, lanes, step - 1,
                             cosine);
      valuePairs =
          packValuePairs(rewriter, parallel, v, lanes, useAMX ? 16 : 0);
      probabilities = allocateTileScratch(
          rewriter, op, MemRefType::get({queryTile, keyTile}, bf16));
    } else if (!inPlace) {
      // Panels of `lanes` transposed keys, `step - 1` spare panels so that
      // steps of several panels never read past the end.
      packed = packKeyPanels(rewriter, parallel, k, f32, lanes, step - 1,
                             cosine);
      // The value rows, chunk by chunk per key tile, when they too exist
      // before the parallel loop.
      if (!parallel.getRegion().isAncestor(v.getParentRegion()))
        packedValues = packValueTiles(rewriter, parallel, v, lanes, keyTile,
                                      chunk);
    }
    // Rows of the scores one cache line longer than the key tile (not on
    // the tile unit, which stores its tiles' rows as they are). LLVM
    // unrolls pass 3's loop over a whole key tile by 2 keys on a Zen 3
    // core (AVX2), and with rows 512 bytes apart it formed the second
    // key's probability addresses as `or`s of the index and the row offset
    // (disjoint bits), which no addressing mode takes, and rotated the 12
    // accumulators through register copies: 55-77 instructions per 2 keys
    // for 24 FMAs, more than Zen 3 dispatches in the 12 cycles the FMAs
    // take; 44 with rows of 144 floats (d = 64 and 128; `llc -mcpu=znver3`
    // of attnc --emit=llvm-ir). AVX-512's loops (not unrolled) are the same
    // either way.
    constexpr int64_t kFloatsPerCacheLine = 16;
    int64_t scoreRow = useAMX ? keyTile : keyTile + kFloatsPerCacheLine;
    Value scores = allocateTileScratch(
        rewriter, op, MemRefType::get({queryTile, scoreRow}, f32));
    Value products, tailPairs;
    if (useAMX) {
      products = allocateTileScratch(rewriter, op,
                                     MemRefType::get({queryTile, dv}, f32));
      tailPairs = allocateTileScratch(
          rewriter, op, MemRefType::get({16, 2 * dv}, bf16));
    }

    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value zero = e.index(0);
    Value nq = e.dim(q, 2), nk = e.dim(k, 2);
    auto lanesType = VectorType::get({lanes}, f32);
    auto pairType = VectorType::get({2 * lanes}, bf16);
    Value lanesIdx = e.index(lanes), tile = e.index(keyTile);
    Value scoresOut = op.getScoresOut();
    Value bq = op.getQueryBatch(), h = op.getHead(), bk = op.getKeyBatch(),
          hk = op.getKeyHead(), bv = op.getValueBatch(), hv = op.getValueHead(),
          j0 = op.getFirstKey();
    // [0, 1, ..., lanes - 1]: the lane offsets of the keys of a panel.
    auto laneIndexType = VectorType::get({lanes}, b.getIndexType());
    Value iota = b.create<vector::StepOp>(laneIndexType);
    Value negInfLanes = e.splat(lanesType, e.negInf());
    // Maxima of scores that are never NaN (-inf at most): one vmaxps.
    auto maxNoNaN = [&](Value x, Value y) -> Value {
      return b.create<arith::MaxNumFOp>(
          x, y,
          arith::FastMathFlagsAttr::get(b.getContext(),
                                        arith::FastMathFlags::nnan));
    };

    // The tile's queries and the keys [0, end_r) each sees.
    Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, e.index(1)), zero);
    SmallVector<Value> rows, begins, ends, inverseQueryNorms;
    Value endMax = zero;
    KeyInterval mask = KeyInterval::of(op, op.getPrefixEnd());
    for (int64_t r = 0; r < queryTile; ++r) {
      Value i = e.minIdx(
          b.create<arith::AddIOp>(op.getFirstQuery(), e.index(r)), lastQuery);
      auto [begin, end] = visibleKeyRange(e, mask, op.getKeyEnd(), i, nq, nk);
      rows.push_back(i);
      if (cosine)
        inverseQueryNorms.push_back(
            e.splat(lanesType, inverseNorm(e, q, {bq, h, i}, d)));
      begins.push_back(begin);
      ends.push_back(end);
      endMax = e.maxIdx(endMax, end);
    }
    Value count =
        e.maxIdx(e.minIdx(tile, b.create<arith::SubIOp>(endMax, j0)), zero);
    TileProducts amxTile{queryPairs, bq,       h,         op.getFirstQuery(),
                         packed,     bk,       hk,        valuePairs,
                         bv,         hv,       nk,        j0,
                         count,      scores,   probabilities, products,
                         tailPairs,  d,        dv,        queryTile,
                         keyTile};
    if (useAMX)
      amxScores(e, amxTile);

    // Pass 1: S[r, jv..jv+step*lanes) = q_r . K^T[:, j0+jv..] (masked),
    // `step` panels at a time (QT x step FMAs per element of q), and the
    // running maximum of each row's scores. `masked`: the tile holds keys
    // some row does not see (its lanes become -inf); most tiles are whole
    // and visible to every row, and take the copy of the loop without the
    // lane-wise key comparisons.
    SmallVector<Value> maxInit(queryTile, negInfLanes);
    PanelScores panelScores{q,  queryPairs, bq, h,     rows, packed,
                            bk, hk,         d,  lanes, step};
    SmallVector<SmallVector<Value>> queryChunks;
    Value lastKey;
    if (inPlace) {
      for (Value row : rows)
        queryChunks.push_back(queryRowChunks(e, q, {bq, h, row}, d, lanes));
      lastKey = e.maxIdx(b.create<arith::SubIOp>(nk, e.index(1)), zero);
    }
    auto scoreTile = [&](bool masked) -> SmallVector<Value> {
      return e
          .loop(zero, count, e.index(lanes * step), maxInit,
                [&](Value jv, ValueRange maxima) {
                  Value first = b.create<arith::AddIOp>(j0, jv);
                  SmallVector<Value> dots;
                  if (useAMX) {
                    // The tile unit's dot products, from the scratch.
                    for (int64_t r = 0; r < queryTile; ++r)
                      for (int64_t p = 0; p < step; ++p)
                        dots.push_back(e.vload(
                            lanesType, scores,
                            {e.index(r),
                             b.create<arith::AddIOp>(jv, e.index(p * lanes))}));
                  } else if (inPlace) {
                    // Keys past the last (a masked tile's lanes) are read
                    // as the last one; the rows after the first find the
                    // keys in L1.
                    for (ArrayRef<Value> chunks : queryChunks) {
                      RowScores rowScores{chunks, k, bk, hk,
                                          masked ? lastKey : Value(), cosine,
                                          lanes};
                      dots.push_back(rowDots(e, rowScores, first));
                    }
                  } else {
                    Value panel = b.create<arith::DivUIOp>(first, lanesIdx);
                    dots = panelDots(e, panelScores, panel);
                  }
                  SmallVector<Value> newMaxima(maxima.begin(), maxima.end());
                  for (int64_t p = 0; p < step; ++p) {
                    Value offset =
                        b.create<arith::AddIOp>(jv, e.index(p * lanes));
                    Value keyIdx = b.create<arith::AddIOp>(
                        b.create<vector::BroadcastOp>(
                            laneIndexType, b.create<arith::AddIOp>(j0, offset)),
                        iota);
                    // scores_out: the lanes of keys that exist (only the
                    // last tile has others).
                    Value keysInRange =
                        scoresOut && masked
                            ? b.create<arith::CmpIOp>(
                                  arith::CmpIPredicate::slt, keyIdx,
                                  b.create<vector::BroadcastOp>(laneIndexType,
                                                                nk))
                            : Value();
                    for (int64_t r = 0; r < queryTile; ++r) {
                      Value sv = dots[r * step + p];
                      if (!foldedScale)
                        sv = finishPanelScore(
                            e, sv, cosine ? inverseQueryNorms[r] : Value(),
                            op.getScale(), op.getBias(), op.getAct());
                      if (masked)
                        sv = b.create<arith::SelectOp>(
                            visibleLanes(e, keyIdx,
                                         mask.hasBegin() ? begins[r] : Value(),
                                         ends[r]),
                            sv, negInfLanes);
                      // (Folded: the tile unit's products are in the
                      // scratch as they are.)
                      if (!useAMX || masked || !foldedScale)
                        b.create<vector::StoreOp>(
                            sv, scores, ValueRange{e.index(r), offset});
                      if (scoresOut) {
                        // Into the weights output (attn.tile_weights
                        // normalizes them), no key past the last.
                        SmallVector<Value> at{
                            op.getSampleBatch(), h, rows[r],
                            b.create<arith::AddIOp>(j0, offset)};
                        if (masked)
                          b.create<vector::MaskedStoreOp>(scoresOut, at,
                                                          keysInRange, sv);
                        else
                          b.create<vector::StoreOp>(sv, scoresOut, at);
                      }
                      newMaxima[r] = maxNoNaN(newMaxima[r], sv);
                    }
                  }
                  return newMaxima;
                })
          .getResults();
    };
    // Whole and visible to every row: keys [j0, j0 + tile) within every
    // row's [begin, end).
    Value tileEnd = b.create<arith::AddIOp>(j0, tile);
    Value whole =
        b.create<arith::CmpIOp>(arith::CmpIPredicate::sle, tileEnd, nk);
    for (int64_t r = 0; r < queryTile; ++r) {
      whole = b.create<arith::AndIOp>(
          whole,
          b.create<arith::CmpIOp>(arith::CmpIPredicate::sle, tileEnd, ends[r]));
      if (mask.hasBegin())
        whole = b.create<arith::AndIOp>(
            whole,
            b.create<arith::CmpIOp>(arith::CmpIPredicate::sle, begins[r], j0));
    }
    auto tileMaxLoop = b.create<scf::IfOp>(TypeRange(ValueRange(maxInit)),
                                           whole, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(tileMaxLoop.thenBlock());
      b.create<scf::YieldOp>(scoreTile(/*masked=*/false));
      b.setInsertionPointToStart(tileMaxLoop.elseBlock());
      b.create<scf::YieldOp>(scoreTile(/*masked=*/true));
    }

    // Score modifiers and mask predicates (`score_mod`, `mask_mod`): a
    // pass over the tile's stored scores, a vector of keys at a time, each
    // function applied lane-wise (attn.lanewise_call; keys the intervals
    // mask stay -inf), and the row maxima again. Lanes past the tile's
    // visible keys (-inf) evaluate the functions at its last one, never at
    // a key that may not exist.
    SmallVector<Value> tileMaxima(tileMaxLoop.getResults());
    if (foldedScale && *foldedScale != 1.0)
      for (Value &tileMax : tileMaxima)
        tileMax = e.mul(tileMax, e.splat(lanesType, e.f32(*foldedScale)));
    if (op.getScoreModAttr() || op.getMaskModAttr()) {
      SmallVector<Value> operands =
          modifierOperands(e, op.getModSizes(), op.getModTables());
      Value lastVisible = b.create<vector::BroadcastOp>(
          laneIndexType,
          b.create<arith::SubIOp>(b.create<arith::AddIOp>(j0, count),
                                  e.index(1)));
      for (int64_t r = 0; r < queryTile; ++r) {
        Value rIdx = e.index(r);
        tileMaxima[r] =
            e.loop(zero, count, lanesIdx, {negInfLanes},
                   [&](Value jv, ValueRange m) {
                     Value s = e.vload(lanesType, scores, {rIdx, jv});
                     Value masked = b.create<arith::CmpFOp>(
                         arith::CmpFPredicate::OEQ, s, negInfLanes);
                     Value keys = b.create<arith::MinUIOp>(
                         b.create<arith::AddIOp>(
                             b.create<vector::BroadcastOp>(
                                 laneIndexType, b.create<arith::AddIOp>(j0, jv)),
                             iota),
                         lastVisible);
                     Value modified = applyScoreModifiers(
                         e, op.getScoreModAttr(), op.getMaskModAttr(), s,
                         op.getSampleBatch(), h, rows[r], keys, operands);
                     s = b.create<arith::SelectOp>(masked, s, modified);
                     b.create<vector::StoreOp>(s, scores, ValueRange{rIdx, jv});
                     // A function may return NaN: maxnum without nnan
                     // keeps the maxima of the other scores.
                     return SmallVector<Value>{
                         b.create<arith::MaxNumFOp>(m[0], s)};
                   })
                .getResult(0);
      }
    }

    // The new running maxima, the rescaling of the old state (alpha).
    Value maxState = op.getMax(), sumState = op.getSum(),
          accState = op.getAcc();
    for (int64_t r = 0; r < queryTile; ++r) {
      Value mOld = b.create<vector::ExtractOp>(maxState, ArrayRef<int64_t>{r});
      // No score is NaN (-inf at most): the maximum is a tree of vmaxps
      // rather than a chain of NaN-checking scalar maxss.
      Value mNew = b.create<arith::MaxNumFOp>(
          mOld, b.create<vector::ReductionOp>(vector::CombiningKind::MAXNUMF,
                                              tileMaxima[r], Value(),
                                              arith::FastMathFlags::nnan));
      maxState = b.create<vector::InsertOp>(mNew, maxState, r);
    }
    // Of all rows at once: while a row has seen nothing its maximum is
    // still -inf; exp(-inf - 0) = 0 for its masked keys (safe maxima 0),
    // and alpha is 1. Else alpha = exp(m_old - m_new) by the kernel's exp
    // (0 where the old state weighs less than 2^-99.5 of the new, so that
    // no rescaled accumulator turns subnormal).
    auto rowStateType = cast<VectorType>(maxState.getType());
    Value stillEmpty = b.create<arith::CmpFOp>(
        arith::CmpFPredicate::OEQ, maxState,
        e.splat(rowStateType, e.negInf()));
    Value safeMaxRows = b.create<arith::SelectOp>(
        stillEmpty, e.splat(rowStateType, e.f32(0)), maxState);
    Value alphaRows = b.create<arith::SelectOp>(
        stillEmpty, e.splat(rowStateType, e.f32(1)),
        expNonPositive(e, rowStateType, e.sub(op.getMax(), maxState)));
    SmallVector<Value> safeMaxes, alphas;
    for (int64_t r = 0; r < queryTile; ++r) {
      safeMaxes.push_back(e.splat(
          lanesType,
          b.create<vector::ExtractOp>(safeMaxRows, ArrayRef<int64_t>{r})));
      alphas.push_back(
          b.create<vector::ExtractOp>(alphaRows, ArrayRef<int64_t>{r}));
    }

    // Pass 2, all rows together (independent exp chains): probabilities
    // p = exp(s - m) in place of the scores, and their sums.
    SmallVector<Value> sumInit(queryTile, e.splat(lanesType, e.f32(0)));
    Value scaleLog2e;
    SmallVector<Value> negativeMaxLog2e;
    if (foldedScale) {
      scaleLog2e = e.splat(lanesType, e.f32(*foldedScale * kLog2E));
      for (int64_t r = 0; r < queryTile; ++r)
        negativeMaxLog2e.push_back(
            e.mul(safeMaxes[r], e.splat(lanesType, e.f32(-kLog2E))));
    }
    // Probabilities rounded to bf16 next take the shorter polynomial.
    ExpPrecision precision = useBF16 ? ExpPrecision::BF16 : ExpPrecision::F32;
    auto sums =
        e.loop(zero, count, lanesIdx, sumInit, [&](Value jv, ValueRange acc) {
          SmallVector<Value> next;
          for (int64_t r = 0; r < queryTile; ++r) {
            Value rIdx = e.index(r);
            Value sv = e.vload(lanesType, scores, {rIdx, jv});
            // Folded: exp(scale s - m) = 2^(s (scale log2 e) - m log2 e).
            Value p = foldedScale
                          ? exp2NonPositive(
                                e, lanesType,
                                b.create<vector::FMAOp>(sv, scaleLog2e,
                                                        negativeMaxLog2e[r]),
                                precision)
                          : expNonPositive(e, lanesType,
                                           e.sub(sv, safeMaxes[r]), precision);
            if (useBF16)
              b.create<vector::StoreOp>(
                  b.create<arith::TruncFOp>(VectorType::get({lanes}, bf16), p),
                  probabilities, ValueRange{rIdx, jv});
            else
              b.create<vector::StoreOp>(p, scores, ValueRange{rIdx, jv});
            next.push_back(e.add(acc[r], p));
          }
          return next;
        });
    if (useAMX) {
      // The tile unit sums whole chunks of 32 keys: no stale probability
      // past the last vector pass 2 wrote.
      Value written = b.create<arith::MulIOp>(
          b.create<arith::DivUIOp>(
              b.create<arith::AddIOp>(count, e.index(lanes - 1)), lanesIdx),
          lanesIdx);
      auto zeroPairs = e.splat(VectorType::get({lanes}, bf16),
                               b.create<arith::ConstantOp>(b.getZeroAttr(bf16)));
      e.loop(written, tile, lanesIdx, {}, [&](Value jv, ValueRange) {
        for (int64_t r = 0; r < queryTile; ++r)
          b.create<vector::StoreOp>(zeroPairs, probabilities,
                                    ValueRange{e.index(r), jv});
        return SmallVector<Value>{};
      });
    }
    for (int64_t r = 0; r < queryTile; ++r) {
      Value lOld = b.create<vector::ExtractOp>(sumState, ArrayRef<int64_t>{r});
      Value lNew =
          e.add(e.mul(lOld, alphas[r]), e.reduceAdd(sums.getResult(r)));
      sumState = b.create<vector::InsertOp>(lNew, sumState, r);
    }

    // A loop over the tile's keys, [0, bound) by `step`, whose copy for a
    // whole tile (count = the key tile) has a constant trip count: LLVM's
    // strength reduction recomputed a dynamic bound in the loop latch (9
    // scalar instructions per key beside the 16 FMAs of a value chunk).
    auto loopOverKeys =
        [&](Value bound, Value step, ValueRange init,
            function_ref<SmallVector<Value>(Value, ValueRange)> body) {
          auto wholeTile = b.create<scf::IfOp>(
              TypeRange(init),
              b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, count, tile),
              /*withElseRegion=*/true);
          for (auto [block, end] : {std::pair(wholeTile.thenBlock(), tile),
                                    std::pair(wholeTile.elseBlock(), bound)}) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(block);
            b.create<scf::YieldOp>(
                e.loop(zero, end, step, init, body).getResults());
          }
          return SmallVector<Value>(wholeTile.getResults());
        };

    // Pass 3: acc_r = alpha_r acc_r + sum_j p_rj v_j, `chunk` value columns
    // at a time so that the QT accumulators of a chunk stay in registers;
    // each chunk of a value row is loaded once for the whole query tile.
    SmallVector<Value> accRows;
    for (int64_t r = 0; r < queryTile; ++r)
      accRows.push_back(
          b.create<vector::ExtractOp>(accState, ArrayRef<int64_t>{r}));
    if (useAMX) {
      amxProbabilitiesTimesValues(e, amxTile);
      auto rowType = VectorType::get({dv}, f32);
      for (int64_t r = 0; r < queryTile; ++r)
        accRows[r] = e.add(e.mul(accRows[r], e.splat(rowType, alphas[r])),
                           e.vload(rowType, products, {e.index(r), zero}));
    } else if (useBF16) {
      // Pairs of keys: count rounded up to even (the probability after an
      // odd count is 0: pass 2 wrote whole vectors of masked keys).
      Value two = e.index(2);
      Value evenCount = b.create<arith::MulIOp>(
          b.create<arith::DivUIOp>(b.create<arith::AddIOp>(count, e.index(1)),
                                   two),
          two);
      for (int64_t c0 = 0; c0 < dv; c0 += chunk) {
        int64_t vectors = std::min(chunk, dv - c0) / lanes;
        SmallVector<Value> init;
        for (int64_t r = 0; r < queryTile; ++r)
          for (int64_t s = 0; s < vectors; ++s)
            init.push_back(
                e.mul(b.create<vector::ExtractStridedSliceOp>(
                          accRows[r], ArrayRef<int64_t>{c0 + s * lanes},
                          ArrayRef<int64_t>{lanes}, ArrayRef<int64_t>{1}),
                      e.splat(lanesType, alphas[r])));
        SmallVector<Value> summed =
            loopOverKeys(evenCount, two, init, [&](Value jj, ValueRange acc) {
              Value pair = b.create<arith::DivUIOp>(
                  b.create<arith::AddIOp>(j0, jj), two);
              SmallVector<Value> rowsOfPair;
              for (int64_t s = 0; s < vectors; ++s)
                rowsOfPair.push_back(
                    e.vload(pairType, valuePairs,
                            {bv, hv, pair, e.index(c0 + s * lanes), zero}));
              SmallVector<Value> out;
              for (int64_t r = 0; r < queryTile; ++r) {
                Value p =
                    broadcastPair(e, lanes, probabilities, {e.index(r), jj});
                for (int64_t s = 0; s < vectors; ++s)
                  out.push_back(
                      dotBF16Pairs(b, acc[r * vectors + s], p, rowsOfPair[s]));
              }
              return out;
            });
        for (int64_t r = 0; r < queryTile; ++r)
          for (int64_t s = 0; s < vectors; ++s)
            accRows[r] = b.create<vector::InsertStridedSliceOp>(
                summed[r * vectors + s], accRows[r],
                ArrayRef<int64_t>{c0 + s * lanes}, ArrayRef<int64_t>{1});
      }
    } else {
      // The packed values' key tile.
      Value valueTile =
          packedValues ? b.create<arith::DivUIOp>(j0, tile).getResult()
                       : Value();
      // Accumulators of one vector each where Dv is whole vectors (LLVM
      // would widen a vector<48xf32> to 4 registers).
      for (int64_t c0 = 0; c0 < dv; c0 += chunk) {
        int64_t columns = std::min(chunk, dv - c0);
        bool split = columns % lanes == 0;
        int64_t parts = split ? columns / lanes : 1;
        int64_t width = split ? lanes : columns;
        auto partType = VectorType::get({width}, f32);
        int64_t accs = queryTile * parts;
        SmallVector<Value> init;
        for (int64_t r = 0; r < queryTile; ++r) {
          for (int64_t s = 0; s < parts; ++s) {
            Value part = accRows[r];
            if (width != dv)
              part = b.create<vector::ExtractStridedSliceOp>(
                  accRows[r], ArrayRef<int64_t>{c0 + s * width},
                  ArrayRef<int64_t>{width}, ArrayRef<int64_t>{1});
            init.push_back(e.mul(part, e.splat(partType, alphas[r])));
          }
        }
        // Key jj's value row chunk into the QT x parts accumulators `acc`:
        // from the packed tile (j0 is a whole number of key tiles), or
        // from the value row.
        auto addKey = [&](Value jj, ValueRange acc) -> SmallVector<Value> {
          // Where the chunk starts: in the packed tile, or in the row.
          Value chunkStart =
              packedValues ? b.create<arith::AddIOp>(
                                 e.index(c0 * keyTile),
                                 b.create<arith::MulIOp>(jj, e.index(columns)))
                           : e.index(c0);
          Value j = packedValues ? Value() : b.create<arith::AddIOp>(j0, jj);
          SmallVector<Value> values;
          for (int64_t s = 0; s < parts; ++s) {
            Value at = s == 0 ? chunkStart
                              : b.create<arith::AddIOp>(chunkStart,
                                                        e.index(s * width));
            values.push_back(
                packedValues
                    ? e.vload(partType, packedValues, {bv, hv, valueTile, at})
                    : e.vload(partType, v, {bv, hv, j, at}));
          }
          SmallVector<Value> out;
          for (int64_t r = 0; r < queryTile; ++r) {
            Value p = e.splat(partType, e.load(scores, {e.index(r), jj}));
            for (int64_t s = 0; s < parts; ++s)
              out.push_back(
                  b.create<vector::FMAOp>(p, values[s], acc[r * parts + s]));
          }
          return out;
        };
        SmallVector<Value> summed;
        int64_t ways = keyInterleave(queryTile, columns);
        if (ways == 1) {
          summed = loopOverKeys(count, e.index(1), init, addKey);
        } else {
          // Few accumulators (a narrow Dv): keys jj + w, w < ways, go into
          // `ways` separate sums, added together after the loop; the last
          // count % ways keys then go into the total.
          SmallVector<Value> wideInit(init);
          for (int64_t w = 1; w < ways; ++w)
            for (int64_t a = 0; a < accs; ++a)
              wideInit.push_back(e.splat(partType, e.f32(0)));
          Value waysIdx = e.index(ways);
          Value whole = b.create<arith::SubIOp>(
              count, b.create<arith::RemUIOp>(count, waysIdx));
          auto partial = e.loop(
              zero, whole, waysIdx, wideInit, [&](Value jj, ValueRange acc) {
                SmallVector<Value> out;
                for (int64_t w = 0; w < ways; ++w)
                  llvm::append_range(
                      out, addKey(b.create<arith::AddIOp>(jj, e.index(w)),
                                  acc.slice(w * accs, accs)));
                return out;
              });
          SmallVector<Value> sums(partial.getResults());
          for (int64_t span = ways; span > 1; span /= 2)
            for (int64_t w = 0; w < span / 2; ++w)
              for (int64_t a = 0; a < accs; ++a)
                sums[w * accs + a] =
                    e.add(sums[w * accs + a], sums[(w + span / 2) * accs + a]);
          sums.resize(accs);
          summed = e.loop(whole, count, sums, addKey).getResults();
        }
        for (int64_t r = 0; r < queryTile; ++r)
          for (int64_t s = 0; s < parts; ++s) {
            if (width == dv)
              accRows[r] = summed[r];
            else
              accRows[r] = b.create<vector::InsertStridedSliceOp>(
                  summed[r * parts + s], accRows[r],
                  ArrayRef<int64_t>{c0 + s * width}, ArrayRef<int64_t>{1});
          }
      }
    }
    for (int64_t r = 0; r < queryTile; ++r)
      accState = b.create<vector::InsertOp>(accRows[r], accState, r);
    rewriter.replaceOp(op, ValueRange{maxState, sumState, accState});
  }

  const TargetDescription &target;
  bool bf16Dots, amxTiles, vectorBF16Dots;
};

} // namespace

void mlir::attn::populateBlockedDotPatterns(RewritePatternSet &patterns,
                                            const TargetDescription &target,
                                            bool bf16Dots, bool amxTiles,
                                            bool vectorBF16Dots) {
  patterns.add<BlockedDotUpdate>(patterns.getContext(), target, bf16Dots,
                                 amxTiles, vectorBF16Dots);
}
