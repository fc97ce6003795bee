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
// A cosine score, q.k / (|q| |k|) (0 when a norm is 0), is the same kernel:
// the keys are packed divided by their norms (a zero key stays zero), and
// each query row's scores are multiplied by 1 / |q| (0 for a zero query).
//
// With bf16 dot products (the pass's `bf16-dot-products` option, attnc
// --dot-precision=bf16; the target must have AVX512-BF16), the two products
// multiply bf16-rounded operands and accumulate in f32 with vdpbf16ps (32
// products per instruction, twice an FMA's): the queries are rounded once
// into [B, H, Nq, 2 ceil(D/2)], the key panels hold pairs of elements
// ([B, Hk, panels, ceil(D/2), 2 lanes]: lane l's elements 2c and 2c+1 side
// by side), the values pairs of keys ([B, Hv, ceil(Nk/2), Dv, 2]), and the
// probabilities are rounded as they are computed (FlashAttention's P in
// bf16); scores, maxima, sums and accumulators stay f32.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToLoops/AttnToLoops.h"
#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Target/TargetDescription.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// exp(x) for x <= 0 or -inf, lane-wise, in 13 vector operations: with
/// n = round(x log2 e) (the rounding of an FMA that adds 1.5 2^23 + 127,
/// whose low mantissa bits are then n + 127), r = x - n ln 2 in two parts
/// (|r| <= ln 2 / 2), e^r by a degree-6 polynomial (Chebyshev
/// interpolation; relative error under 1e-7 in f32) and 2^n from the
/// bits of n + 127 shifted into the exponent field. x is first raised to
/// -88, where n = -127 and 2^n comes out as +0: every x below about -87.7,
/// -inf included, gives exactly 0 (exp(-87.7) is under the smallest normal
/// float), so masked keys weigh nothing.
Value expNonPositive(Emitter &e, VectorType type, Value x) {
  ImplicitLocOpBuilder &b = e.b;
  auto splat = [&](double c) { return e.splat(type, e.f32(c)); };
  const double shifter = 12583039.0; // 1.5 * 2^23 + 127
  x = b.create<arith::MaxNumFOp>(
      x, splat(-88.0),
      arith::FastMathFlagsAttr::get(b.getContext(),
                                    arith::FastMathFlags::nnan));
  Value j =
      b.create<vector::FMAOp>(x, splat(1.4426950408889634), splat(shifter));
  Value n = b.create<arith::SubFOp>(j, splat(shifter));
  Value r = b.create<vector::FMAOp>(n, splat(-0.693145751953125), x);
  r = b.create<vector::FMAOp>(n, splat(-1.4286068203094172e-06), r);
  const double coeffs[] = {
      1.0, 1.0, 0.5, 0.166664153, 0.0416663513, 0.00837512594, 0.00139411085};
  Value p = splat(coeffs[6]);
  for (int c = 5; c >= 0; --c)
    p = b.create<vector::FMAOp>(p, r, splat(coeffs[c]));
  auto intType = VectorType::get(type.getShape(), b.getI32Type());
  Value bits = b.create<arith::ShLIOp>(
      b.create<arith::BitcastOp>(intType, j),
      e.splat(intType, b.create<arith::ConstantIntOp>(23, 32)));
  return b.create<arith::MulFOp>(p, b.create<arith::BitcastOp>(type, bits));
}

/// acc + sum over pairs: acc[i] += a[2i] b[2i] + a[2i+1] b[2i+1] (AVX512-BF16
/// vdpbf16ps; acc vector<16xf32>, a and b vector<32xbf16>).
Value dotBF16Pairs(ImplicitLocOpBuilder &b, Value acc, Value x, Value y) {
  return b
      .create<LLVM::CallIntrinsicOp>(
          acc.getType(), b.getStringAttr("llvm.x86.avx512bf16.dpbf16ps.512"),
          ValueRange{acc, x, y},
          LLVM::FastmathFlagsAttr::get(b.getContext(),
                                       LLVM::FastmathFlags::none))
      .getResult(0);
}

/// The pair of bf16 at `m[idx..idx+1]` in every 32-bit lane:
/// vector<(2 lanes)xbf16> (one vpbroadcastd).
Value broadcastPair(Emitter &e, int64_t lanes, Value m, ValueRange idx) {
  ImplicitLocOpBuilder &b = e.b;
  Value pair = e.vload(VectorType::get({2}, b.getBF16Type()), m, idx);
  Value word = b.create<vector::ExtractOp>(
      b.create<vector::BitCastOp>(VectorType::get({1}, b.getI32Type()), pair),
      ArrayRef<int64_t>{0});
  return b.create<vector::BitCastOp>(
      VectorType::get({2 * lanes}, b.getBF16Type()),
      e.splat(VectorType::get({lanes}, b.getI32Type()), word));
}

struct BlockedDotUpdate : public OpRewritePattern<OnlineSoftmaxUpdateOp> {
  BlockedDotUpdate(MLIRContext *context, const TargetDescription &target,
                   bool bf16Dots)
      : OpRewritePattern(context, /*benefit=*/2), target(target),
        bf16Dots(bf16Dots) {}

  /// The kernel needs a softmax alignment (sigmoid, argmax and hard take
  /// the generic kernel), no weight factor (score_mod and mask_mod are a
  /// scalar pass over the stored scores; interval bands are bounds), a dot
  /// or cosine score, registers for q, the state and the
  /// value rows, key tiles of whole panels, and keys that exist before the
  /// parallel loop (where they are packed).
  LogicalResult match(OnlineSoftmaxUpdateOp op) const override {
    int64_t limit = target.maxVectorElements;
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    return success(
        (op.getCombine() == ScoreCombine::dot ||
         op.getCombine() == ScoreCombine::cosine) &&
        op.getAlign() == AlignKind::softmax && op.hasValueState() &&
        !op.getWeightModAttr() && vectorizableSize(op.getQuery(), limit) &&
        vectorizableSize(op.getKeys(), limit) &&
        vectorizableSize(op.getValues(), limit) &&
        op.getKeyTile() % target.vectorLanes == 0 && parallel &&
        !parallel.getRegion().isAncestor(op.getKeys().getParentRegion()));
  }

  /// Panels of keys scored together in pass 1: the largest divisor of the
  /// key tile's panels whose QT x P accumulators, P panel rows, QT running
  /// maxima and a broadcast query element fit the vector registers.
  int64_t panelsPerStep(int64_t queryTile, int64_t keyTile) const {
    int64_t panels = keyTile / target.vectorLanes, best = 1;
    for (int64_t p = 1; p <= panels; ++p)
      if (panels % p == 0 &&
          queryTile * p + queryTile + p + 1 <= target.vectorRegisters)
        best = p;
    return best;
  }

  /// Value columns accumulated together in pass 3: whole vectors of lanes,
  /// QT x (columns / lanes) accumulators within half the registers (the
  /// rest hold the value row chunk and the broadcast probabilities); all of
  /// Dv when it is not whole vectors.
  int64_t valueChunk(int64_t queryTile, int64_t dv) const {
    int64_t lanes = target.vectorLanes;
    if (dv % lanes != 0)
      return dv;
    int64_t vectors = dv / lanes, best = 1;
    for (int64_t c = 1; c <= vectors; ++c)
      if (vectors % c == 0 && queryTile * c <= target.vectorRegisters / 2)
        best = c;
    return best * lanes;
  }

  /// Whether this op's products take bf16 operands: when asked for, and the
  /// queries too exist before the parallel loop (they are rounded there) and
  /// the value rows are whole vectors.
  bool usesBF16(OnlineSoftmaxUpdateOp op) const {
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    int64_t dv = cast<MemRefType>(op.getValues().getType()).getDimSize(3);
    return bf16Dots && dv % target.vectorLanes == 0 &&
           !parallel.getRegion().isAncestor(op.getQuery().getParentRegion()) &&
           !parallel.getRegion().isAncestor(op.getValues().getParentRegion());
  }

  /// 1 / |src[idx..., :]| over the `d` elements of a row, or 0 for a zero
  /// row.
  static Value inverseNorm(Emitter &e, Value src, ValueRange idx, int64_t d) {
    ImplicitLocOpBuilder &b = e.b;
    SmallVector<Value> at(idx.begin(), idx.end());
    at.push_back(e.index(0));
    Value row = e.vload(VectorType::get({d}, b.getF32Type()), src, at);
    Value squares = e.reduceAdd(e.mul(row, row));
    Value positive =
        b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, squares, e.f32(0));
    Value norm = b.create<math::SqrtOp>(
        b.create<arith::SelectOp>(positive, squares, e.f32(1)));
    return b.create<arith::SelectOp>(
        positive, b.create<arith::DivFOp>(e.f32(1), norm), e.f32(0));
  }

  /// Copies `src` [B, H, N, D] before `parallel` into a buffer of `elem`
  /// (f32, or bf16: rounded) [B, H, ceil(N / rowsPerEntry) + extraEntries,
  /// tailShape...] where `index` places element (b, h, n, c) for n < the
  /// padded N and c < cols; elements past N or D are 0 (padding keys score
  /// 0 and are masked). `unitRows`: each row divided by its norm (a zero
  /// row stays zero). Freed after the parallel loop.
  Value
  pack(PatternRewriter &rewriter, scf::ParallelOp parallel, Value src,
       Type elem, int64_t cols, ArrayRef<int64_t> tailShape,
       int64_t rowsPerEntry, int64_t extraEntries, bool unitRows,
       function_ref<SmallVector<Value>(Emitter &, Value, Value, Value, Value)>
           index) const {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(parallel);
    ImplicitLocOpBuilder b(parallel.getLoc(), rewriter);
    Emitter e{b};
    Value batch = e.dim(src, 0), heads = e.dim(src, 1), n = e.dim(src, 2);
    Value per = e.index(rowsPerEntry);
    Value entries = b.create<arith::AddIOp>(
        b.create<arith::DivUIOp>(
            b.create<arith::AddIOp>(n, e.index(rowsPerEntry - 1)), per),
        e.index(extraEntries));
    int64_t dyn = ShapedType::kDynamic;
    SmallVector<int64_t> shape = {dyn, dyn, dyn};
    shape.append(tailShape.begin(), tailShape.end());
    Value packed = b.create<memref::AllocOp>(MemRefType::get(shape, elem),
                                             ValueRange{batch, heads, entries});
    Value padded = b.create<arith::MulIOp>(entries, per);
    e.forEach(batch, [&](Value bIdx) {
      e.forEach(heads, [&](Value h) {
        e.loop(e.index(0), padded, {}, [&](Value j, ValueRange) {
          Value inside =
              b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, j, n);
          Value row = b.create<arith::SelectOp>(inside, j, e.index(0));
          int64_t d = cast<MemRefType>(src.getType()).getDimSize(3);
          Value rowScale =
              unitRows ? inverseNorm(e, src, {bIdx, h, row}, d) : Value();
          e.forEach(e.index(cols), [&](Value c) {
            Value live = inside;
            Value col = c;
            if (cols > d) {
              live = b.create<arith::AndIOp>(
                  live, b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, c,
                                                e.index(d)));
              col = e.minIdx(c, e.index(d - 1));
            }
            Value x = b.create<arith::SelectOp>(
                live, e.load(src, {bIdx, h, row, col}), e.f32(0));
            if (rowScale)
              x = e.mul(x, rowScale);
            if (elem != x.getType())
              x = b.create<arith::TruncFOp>(elem, x);
            e.store(x, packed, index(e, bIdx, h, j, c));
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
    int64_t step = panelsPerStep(queryTile, keyTile);
    int64_t chunk = valueChunk(queryTile, dv);
    Type f32 = rewriter.getF32Type(), bf16 = rewriter.getBF16Type();
    auto parallel = op->getParentOfType<scf::ParallelOp>();
    bool useBF16 = usesBF16(op);
    bool cosine = op.getCombine() == ScoreCombine::cosine;
    // bf16: elements of q and of the key rows in pairs.
    int64_t pairs = (d + 1) / 2;
    Value packed, queryPairs, valuePairs, probabilities;
    if (useBF16) {
      queryPairs =
          pack(rewriter, parallel, q, bf16, 2 * pairs, {2 * pairs}, 1, 0,
               /*unitRows=*/false,
               [](Emitter &, Value bIdx, Value h, Value j, Value c) {
                 return SmallVector<Value>{bIdx, h, j, c};
               });
      packed =
          pack(rewriter, parallel, k, bf16, 2 * pairs, {pairs, 2 * lanes},
               lanes, step - 1, cosine,
               [&](Emitter &e, Value bIdx, Value h, Value j, Value c) {
                 ImplicitLocOpBuilder &b = e.b;
                 Value two = e.index(2), lanesIdx = e.index(lanes);
                 Value lane = b.create<arith::RemUIOp>(j, lanesIdx);
                 return SmallVector<Value>{
                     bIdx, h, b.create<arith::DivUIOp>(j, lanesIdx),
                     b.create<arith::DivUIOp>(c, two),
                     b.create<arith::AddIOp>(b.create<arith::MulIOp>(lane, two),
                                             b.create<arith::RemUIOp>(c, two))};
               });
      valuePairs = pack(rewriter, parallel, v, bf16, dv, {dv, 2}, 2, 0,
                        /*unitRows=*/false,
                        [](Emitter &e, Value bIdx, Value h, Value j, Value c) {
                          Value two = e.index(2);
                          return SmallVector<Value>{
                              bIdx, h, e.b.create<arith::DivUIOp>(j, two), c,
                              e.b.create<arith::RemUIOp>(j, two)};
                        });
      probabilities = allocateTileScratch(
          rewriter, op, MemRefType::get({queryTile, keyTile}, bf16));
    } else {
      // Panels of `lanes` transposed keys, `step - 1` spare panels so that
      // steps of several panels never read past the end.
      packed =
          pack(rewriter, parallel, k, f32, d, {d, lanes}, lanes, step - 1,
               cosine, [&](Emitter &e, Value bIdx, Value h, Value j, Value c) {
                 Value lanesIdx = e.index(lanes);
                 return SmallVector<Value>{
                     bIdx, h, e.b.create<arith::DivUIOp>(j, lanesIdx), c,
                     e.b.create<arith::RemUIOp>(j, lanesIdx)};
               });
    }
    Value scores = allocateTileScratch(
        rewriter, op, MemRefType::get({queryTile, keyTile}, f32));

    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value zero = e.index(0);
    Value nq = e.dim(q, 2), nk = e.dim(k, 2);
    auto lanesType = VectorType::get({lanes}, f32);
    auto chunkType = VectorType::get({chunk}, f32);
    auto pairType = VectorType::get({2 * lanes}, bf16);
    Value lanesIdx = e.index(lanes), tile = e.index(keyTile);
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

    // Pass 1: S[r, jv..jv+step*lanes) = q_r . K^T[:, j0+jv..] (masked),
    // `step` panels at a time (QT x step FMAs per element of q), and the
    // running maximum of each row's scores. `masked`: the tile holds keys
    // some row does not see (its lanes become -inf); most tiles are whole
    // and visible to every row, and take the copy of the loop without the
    // lane-wise key comparisons.
    SmallVector<Value> maxInit(queryTile, negInfLanes);
    auto scoreTile = [&](bool masked) -> SmallVector<Value> {
      return e
          .loop(
              zero, count, e.index(lanes * step), maxInit,
              [&](Value jv, ValueRange maxima) {
                Value first = b.create<arith::AddIOp>(j0, jv);
                Value panel = b.create<arith::DivUIOp>(first, lanesIdx);
                SmallVector<Value> zeros(queryTile * step,
                                         e.splat(lanesType, e.f32(0)));
                // One element of q (f32) or one pair (bf16) per iteration.
                auto dots = e.loop(
                    zero, e.index(useBF16 ? pairs : d), zeros,
                    [&](Value c, ValueRange acc) {
                      SmallVector<Value> kt;
                      for (int64_t p = 0; p < step; ++p)
                        kt.push_back(e.vload(
                            useBF16 ? pairType : lanesType, packed,
                            {bk, hk, b.create<arith::AddIOp>(panel, e.index(p)),
                             c, zero}));
                      SmallVector<Value> next;
                      for (int64_t r = 0; r < queryTile; ++r) {
                        Value qc =
                            useBF16
                                ? broadcastPair(
                                      e, lanes, queryPairs,
                                      {bq, h, rows[r],
                                       b.create<arith::MulIOp>(c, e.index(2))})
                                : e.splat(lanesType,
                                          e.load(q, {bq, h, rows[r], c}));
                        for (int64_t p = 0; p < step; ++p)
                          next.push_back(
                              useBF16 ? dotBF16Pairs(b, acc[r * step + p], qc,
                                                     kt[p])
                                      : Value(b.create<vector::FMAOp>(
                                            qc, kt[p], acc[r * step + p])));
                      }
                      return next;
                    });
                SmallVector<Value> newMaxima(maxima.begin(), maxima.end());
                for (int64_t p = 0; p < step; ++p) {
                  Value offset =
                      b.create<arith::AddIOp>(jv, e.index(p * lanes));
                  Value keyIdx = b.create<arith::AddIOp>(
                      b.create<vector::BroadcastOp>(
                          laneIndexType, b.create<arith::AddIOp>(j0, offset)),
                      iota);
                  for (int64_t r = 0; r < queryTile; ++r) {
                    Value sv = dots.getResult(r * step + p);
                    if (cosine)
                      sv = e.mul(sv, inverseQueryNorms[r]);
                    if (Value scale = op.getScale())
                      sv = e.mul(sv, e.splat(lanesType, scale));
                    if (Value bias = op.getBias())
                      sv = e.add(sv, e.splat(lanesType, bias));
                    sv = buildActivation(b, b.getLoc(), op.getAct(), sv);
                    if (masked) {
                      Value visible = b.create<arith::CmpIOp>(
                          arith::CmpIPredicate::slt, keyIdx,
                          b.create<vector::BroadcastOp>(laneIndexType,
                                                        ends[r]));
                      if (mask.hasBegin())
                        visible = b.create<arith::AndIOp>(
                            visible, b.create<arith::CmpIOp>(
                                         arith::CmpIPredicate::sge, keyIdx,
                                         b.create<vector::BroadcastOp>(
                                             laneIndexType, begins[r])));
                      sv = b.create<arith::SelectOp>(visible, sv, negInfLanes);
                    }
                    b.create<vector::StoreOp>(sv, scores,
                                              ValueRange{e.index(r), offset});
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
    // scalar pass over the tile's stored scores, one call each per visible
    // key (keys the intervals mask stay -inf), and the row maxima again.
    SmallVector<Value> tileMaxima(tileMaxLoop.getResults());
    if (op.getScoreModAttr() || op.getMaskModAttr()) {
      SmallVector<Value> operands =
          modifierOperands(e, op.getModSizes(), op.getModTables());
      for (int64_t r = 0; r < queryTile; ++r) {
        Value rIdx = e.index(r);
        Value rowMax =
            e.loop(zero, count, {e.negInf()}, [&](Value jj, ValueRange m) {
               Value s = e.load(scores, {rIdx, jj});
               Value masked = b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ,
                                                      s, e.negInf());
               Value modified = applyScoreModifiers(
                   e, op.getScoreModAttr(), op.getMaskModAttr(), s,
                   op.getSampleBatch(), h, rows[r],
                   b.create<arith::AddIOp>(j0, jj), operands);
               s = b.create<arith::SelectOp>(masked, s, modified);
               e.store(s, scores, {rIdx, jj});
               return SmallVector<Value>{b.create<arith::MaxNumFOp>(m[0], s)};
             }).getResult(0);
        tileMaxima[r] = e.splat(lanesType, rowMax);
      }
    }

    // The new running maxima, the rescaling of the old state (alpha).
    Value maxState = op.getMax(), sumState = op.getSum(),
          accState = op.getAcc();
    SmallVector<Value> safeMaxes, alphas;
    for (int64_t r = 0; r < queryTile; ++r) {
      Value mOld = b.create<vector::ExtractOp>(maxState, ArrayRef<int64_t>{r});
      // No score is NaN (-inf at most): the maximum is a tree of vmaxps
      // rather than a chain of NaN-checking scalar maxss.
      Value mNew = b.create<arith::MaxNumFOp>(
          mOld, b.create<vector::ReductionOp>(vector::CombiningKind::MAXNUMF,
                                              tileMaxima[r], Value(),
                                              arith::FastMathFlags::nnan));
      Value stillEmpty =
          b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, mNew, e.negInf());
      // exp(-inf - m) = 0 for masked keys; while nothing is visible m stays
      // -inf and every p is exp(-inf - 0) = 0.
      safeMaxes.push_back(e.splat(
          lanesType, b.create<arith::SelectOp>(stillEmpty, e.f32(0), mNew)));
      alphas.push_back(b.create<arith::SelectOp>(stillEmpty, e.f32(1),
                                                 e.exp(e.sub(mOld, mNew))));
      maxState = b.create<vector::InsertOp>(mNew, maxState, r);
    }

    // Pass 2, all rows together (independent exp chains): probabilities
    // p = exp(s - m) in place of the scores, and their sums.
    SmallVector<Value> sumInit(queryTile, e.splat(lanesType, e.f32(0)));
    auto sums =
        e.loop(zero, count, lanesIdx, sumInit, [&](Value jv, ValueRange acc) {
          SmallVector<Value> next;
          for (int64_t r = 0; r < queryTile; ++r) {
            Value rIdx = e.index(r);
            Value sv = e.vload(lanesType, scores, {rIdx, jv});
            Value p = expNonPositive(e, lanesType, e.sub(sv, safeMaxes[r]));
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
    for (int64_t r = 0; r < queryTile; ++r) {
      Value lOld = b.create<vector::ExtractOp>(sumState, ArrayRef<int64_t>{r});
      Value lNew =
          e.add(e.mul(lOld, alphas[r]), e.reduceAdd(sums.getResult(r)));
      sumState = b.create<vector::InsertOp>(lNew, sumState, r);
    }

    // Pass 3: acc_r = alpha_r acc_r + sum_j p_rj v_j, `chunk` value columns
    // at a time so that the QT accumulators of a chunk stay in registers;
    // each chunk of a value row is loaded once for the whole query tile.
    SmallVector<Value> accRows;
    for (int64_t r = 0; r < queryTile; ++r)
      accRows.push_back(
          b.create<vector::ExtractOp>(accState, ArrayRef<int64_t>{r}));
    if (useBF16) {
      // Pairs of keys: count rounded up to even (the probability after an
      // odd count is 0: pass 2 wrote whole vectors of masked keys).
      Value two = e.index(2);
      Value evenCount = b.create<arith::MulIOp>(
          b.create<arith::DivUIOp>(b.create<arith::AddIOp>(count, e.index(1)),
                                   two),
          two);
      int64_t vectors = chunk / lanes;
      for (int64_t c0 = 0; c0 < dv; c0 += chunk) {
        SmallVector<Value> init;
        for (int64_t r = 0; r < queryTile; ++r)
          for (int64_t s = 0; s < vectors; ++s)
            init.push_back(
                e.mul(b.create<vector::ExtractStridedSliceOp>(
                          accRows[r], ArrayRef<int64_t>{c0 + s * lanes},
                          ArrayRef<int64_t>{lanes}, ArrayRef<int64_t>{1}),
                      e.splat(lanesType, alphas[r])));
        auto summed =
            e.loop(zero, evenCount, two, init, [&](Value jj, ValueRange acc) {
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
                summed.getResult(r * vectors + s), accRows[r],
                ArrayRef<int64_t>{c0 + s * lanes}, ArrayRef<int64_t>{1});
      }
    } else {
      for (int64_t c0 = 0; c0 < dv; c0 += chunk) {
        SmallVector<Value> init;
        for (int64_t r = 0; r < queryTile; ++r) {
          Value part = accRows[r];
          if (chunk != dv)
            part = b.create<vector::ExtractStridedSliceOp>(
                accRows[r], ArrayRef<int64_t>{c0}, ArrayRef<int64_t>{chunk},
                ArrayRef<int64_t>{1});
          init.push_back(e.mul(part, e.splat(chunkType, alphas[r])));
        }
        Value col = e.index(c0);
        auto summed = e.loop(zero, count, init, [&](Value jj, ValueRange acc) {
          Value j = b.create<arith::AddIOp>(j0, jj);
          Value value = e.vload(chunkType, v, {bv, hv, j, col});
          SmallVector<Value> out;
          for (int64_t r = 0; r < queryTile; ++r) {
            Value p = e.splat(chunkType, e.load(scores, {e.index(r), jj}));
            out.push_back(b.create<vector::FMAOp>(p, value, acc[r]));
          }
          return out;
        });
        for (int64_t r = 0; r < queryTile; ++r) {
          if (chunk == dv)
            accRows[r] = summed.getResult(r);
          else
            accRows[r] = b.create<vector::InsertStridedSliceOp>(
                summed.getResult(r), accRows[r], ArrayRef<int64_t>{c0},
                ArrayRef<int64_t>{1});
        }
      }
    }
    for (int64_t r = 0; r < queryTile; ++r)
      accState = b.create<vector::InsertOp>(accRows[r], accState, r);
    rewriter.replaceOp(op, ValueRange{maxState, sumState, accState});
  }

  const TargetDescription &target;
  bool bf16Dots;
};

} // namespace

void mlir::attn::populateBlockedDotPatterns(RewritePatternSet &patterns,
                                            const TargetDescription &target,
                                            bool bf16Dots) {
  patterns.add<BlockedDotUpdate>(patterns.getContext(), target, bf16Dots);
}
