//===- BlockedPanels.cpp - Pieces of the blocked kernels ------------------===//
//
// What the blocked kernels of attn.online_softmax_update (BlockedDot.cpp)
// and attn.tile_weights (BlockedWeights.cpp) share: rows packed before the
// parallel loop (keys into panels of transposed keys, bf16 pairs), the
// scores of a query tile against steps of panels, and the inline exp.
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "attn/Target/TargetDescription.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

/// exp(x) for x <= 0 or -inf, lane-wise, in 12 vector operations of which
/// 7 take the FMA pipes (the products of the kernels compete for those):
/// y = x log2 e, raised to -100; n = round(y) by adding 1.5 2^23 + 100
/// (j, whose low mantissa bits are then n + 100) and subtracting it again;
/// r = y - n (exact, |r| <= 1/2); 2^r by a polynomial (exp2Polynomial:
/// least-squares fits of relative error whose coefficients carry a factor
/// 2^27, exact); and 2^(n - 27) from the bits of n + 100 shifted into the
/// exponent field (whose bias is 127). The rounding of y adds a relative
/// error of about |y| 4e-8: small where the weights are large. Every y
/// below -99.5 gives n = -100, whose exponent field 0 makes the result +0:
/// x below about -69, -inf included, gives exactly 0, so masked keys weigh
/// nothing. The cutoff is there for speed: a weight under 2^-99.5 of the
/// row's largest (which is 1) changes no f32 sum, while its products with
/// values would be subnormal, which x86 cores compute in microcode, about
/// 100x slower (5x the time of a whole attention whose scores spread past
/// -80 within a key tile: ALiBi with a slope of 0.8, say).
Value mlir::attn::loops::expNonPositive(Emitter &e, VectorType type, Value x,
                                        ExpPrecision precision) {
  return exp2NonPositive(e, type, e.mul(x, e.splat(type, e.f32(kLog2E))),
                         precision);
}

Value mlir::attn::loops::exp2NonPositive(Emitter &e, VectorType type,
                                         Value x, ExpPrecision precision) {
  ImplicitLocOpBuilder &b = e.b;
  auto splat = [&](double c) { return e.splat(type, e.f32(c)); };
  // The exponent field's bias: n + bias is 0 (the result +0) for every y
  // below kNegligibleWeightLog2, which rounds to n = -bias.
  constexpr double bias = 0.5 - kNegligibleWeightLog2;
  static_assert(bias == 100.0, "the coefficients carry 2^(127 - bias)");
  const double shifter = 1.5 * 8388608.0 + bias;
  Value y = b.create<arith::MaxNumFOp>(
      x, splat(-bias),
      arith::FastMathFlagsAttr::get(b.getContext(),
                                    arith::FastMathFlags::nnan));
  // No fast-math flags here: reassociation would fold the rounding away.
  Value j = b.create<arith::AddFOp>(y, splat(shifter));
  Value r = b.create<arith::SubFOp>(
      y, b.create<arith::SubFOp>(j, splat(shifter)));
  ArrayRef<double> coeffs = exp2Polynomial(precision);
  const double twoTo27 = 134217728.0;
  Value p = splat(coeffs.back() * twoTo27);
  for (double c : llvm::reverse(coeffs.drop_back()))
    p = b.create<vector::FMAOp>(p, r, splat(c * twoTo27));
  auto intType = VectorType::get(type.getShape(), b.getI32Type());
  Value bits = b.create<arith::ShLIOp>(
      b.create<arith::BitcastOp>(intType, j),
      e.splat(intType, b.create<arith::ConstantIntOp>(23, 32)));
  return b.create<arith::MulFOp>(p, b.create<arith::BitcastOp>(type, bits));
}

/// acc + sum over pairs: acc[i] += a[2i] b[2i] + a[2i+1] b[2i+1] (AVX512-BF16
/// vdpbf16ps; acc vector<16xf32>, a and b vector<32xbf16>).
Value mlir::attn::loops::dotBF16Pairs(ImplicitLocOpBuilder &b, Value acc,
                                      Value x, Value y) {
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
Value mlir::attn::loops::broadcastPair(Emitter &e, int64_t lanes, Value m,
                                       ValueRange idx) {
  ImplicitLocOpBuilder &b = e.b;
  Value pair = e.vload(VectorType::get({2}, b.getBF16Type()), m, idx);
  Value word = b.create<vector::ExtractOp>(
      b.create<vector::BitCastOp>(VectorType::get({1}, b.getI32Type()), pair),
      ArrayRef<int64_t>{0});
  return b.create<vector::BitCastOp>(
      VectorType::get({2 * lanes}, b.getBF16Type()),
      e.splat(VectorType::get({lanes}, b.getI32Type()), word));
}

/// 1 / sqrt(squares) where squares > 0, else 0: the inverse norm of a row
/// from its sum of squares, or 0 for a zero row (f32 or lane-wise).
static Value inverseRootOrZero(Emitter &e, Value squares) {
  ImplicitLocOpBuilder &b = e.b;
  auto constant = [&](double c) -> Value {
    if (auto type = dyn_cast<VectorType>(squares.getType()))
      return e.splat(type, e.f32(c));
    return e.f32(c);
  };
  Value positive = b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, squares,
                                           constant(0));
  Value norm = b.create<math::SqrtOp>(
      b.create<arith::SelectOp>(positive, squares, constant(1)));
  return b.create<arith::SelectOp>(
      positive, b.create<arith::DivFOp>(constant(1), norm), constant(0));
}

/// 1 / |src[idx..., :]| over the `d` elements of a row, or 0 for a zero
/// row.
Value mlir::attn::loops::inverseNorm(Emitter &e, Value src, ValueRange idx,
                                     int64_t d) {
  SmallVector<Value> at(idx.begin(), idx.end());
  at.push_back(e.index(0));
  Value row = e.vload(VectorType::get({d}, e.b.getF32Type()), src, at);
  return inverseRootOrZero(e, e.reduceAdd(e.mul(row, row)));
}

/// The body of a packing loop: fills entry `entry` of (batch, head) of
/// `packed` from `src` (N rows).
using PackEntry = function_ref<void(Emitter &e, Value packed, Value bIdx,
                                    Value h, Value entry, Value n)>;

/// Allocates the buffer [B, H, ceil(N / rowsPerEntry) + extraEntries,
/// tailShape...] of `elem` for `src` [B, H, N, D] before `parallel`, fills
/// it in an scf.parallel over (batch, head, entry) with `fill` (each entry
/// a contiguous block of the buffer: no two threads write one cache line),
/// and frees it after `parallel`.
static Value emitPackLoop(PatternRewriter &rewriter, scf::ParallelOp parallel,
                          Value src, Type elem, ArrayRef<int64_t> tailShape,
                          int64_t rowsPerEntry, int64_t extraEntries,
                          PackEntry fill) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(parallel);
  ImplicitLocOpBuilder b(parallel.getLoc(), rewriter);
  Emitter e{b};
  Value batch = e.dim(src, 0), heads = e.dim(src, 1), n = e.dim(src, 2);
  Value entries = b.create<arith::AddIOp>(
      b.create<arith::DivUIOp>(
          b.create<arith::AddIOp>(n, e.index(rowsPerEntry - 1)),
          e.index(rowsPerEntry)),
      e.index(extraEntries));
  int64_t dyn = ShapedType::kDynamic;
  SmallVector<int64_t> shape = {dyn, dyn, dyn};
  shape.append(tailShape.begin(), tailShape.end());
  // Whole cache lines: a vector load across two lines costs two.
  Value packed = b.create<memref::AllocOp>(MemRefType::get(shape, elem),
                                           ValueRange{batch, heads, entries},
                                           b.getI64IntegerAttr(64));
  Value zero = e.index(0), one = e.index(1);
  auto packLoop = b.create<scf::ParallelOp>(ValueRange{zero, zero, zero},
                                            ValueRange{batch, heads, entries},
                                            ValueRange{one, one, one});
  b.setInsertionPoint(packLoop.getBody()->getTerminator());
  fill(e, packed, packLoop.getInductionVars()[0],
       packLoop.getInductionVars()[1], packLoop.getInductionVars()[2], n);
  rewriter.setInsertionPointAfter(parallel);
  rewriter.create<memref::DeallocOp>(parallel.getLoc(), packed);
  return packed;
}

/// Copies `src` [B, H, N, D] before `parallel` into a buffer of `elem`
/// (f32, or bf16: rounded) [B, H, ceil(N / rowsPerEntry) + extraEntries,
/// tailShape...] where `index` places element (b, h, n, c) for n < the
/// padded N and c < cols; elements past N or D are 0 (padding keys score
/// 0 and are masked), or copies of row N - 1 with `padWithLastRow`.
/// `unitRows`: each row divided by its norm (a zero row stays zero). Freed
/// after the parallel loop.
Value mlir::attn::loops::packRows(PatternRewriter &rewriter,
                                  scf::ParallelOp parallel, Value src,
                                  Type elem, int64_t cols,
                                  ArrayRef<int64_t> tailShape,
                                  int64_t rowsPerEntry, int64_t extraEntries,
                                  bool unitRows, PackIndex index,
                                  bool padWithLastRow) {
  int64_t d = cast<MemRefType>(src.getType()).getDimSize(3);
  // A bf16 (f16) argument widened into `src` is read where it is: once
  // every kernel does so, sinkWideningCopies erases the copy (or moves it
  // into the one branch that still reads it).
  Value from = unitRows ? src : packingSourceOf(rewriter, src);
  auto fill = [&](Emitter &e, Value packed, Value bIdx, Value h, Value entry,
                  Value n) {
    ImplicitLocOpBuilder &b = e.b;
    Value per = e.index(rowsPerEntry), zero = e.index(0);
    e.forEach(per, [&](Value r) {
      Value j =
          b.create<arith::AddIOp>(b.create<arith::MulIOp>(entry, per), r);
      Value inside = b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, j, n);
      Value row = b.create<arith::SelectOp>(inside, j, zero);
      if (padWithLastRow) {
        // Rows past N repeat row N - 1 (none when N = 0).
        row = e.maxIdx(e.minIdx(j, b.create<arith::SubIOp>(n, e.index(1))),
                       zero);
        inside = b.create<arith::CmpIOp>(arith::CmpIPredicate::sgt, n, zero);
      }
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
        Value x = e.load(from, {bIdx, h, row, col});
        if (x.getType() != b.getF32Type())
          x = b.create<arith::ExtFOp>(b.getF32Type(), x);
        x = b.create<arith::SelectOp>(live, x, e.f32(0));
        if (rowScale)
          x = e.mul(x, rowScale);
        if (elem != x.getType())
          x = b.create<arith::TruncFOp>(elem, x);
        e.store(x, packed, index(e, bIdx, h, j, c));
      });
    });
  };
  return emitPackLoop(rewriter, parallel, src, elem, tailShape, rowsPerEntry,
                      extraEntries, fill);
}

/// Panels of keys scored together in pass 1: the largest divisor of the
/// key tile's panels whose QT x P accumulators, P panel rows, QT running
/// maxima and a broadcast query element fit the vector registers. Where
/// that leaves one panel, the maxima give way (they are live around the
/// inner loop only, where spilling them costs a load and a store per step)
/// to the largest P whose accumulators, panel rows and broadcast fit: on
/// AVX2's 16 registers a tile of 6 queries scores 2 panels per step, 12
/// FMAs per 8 loads (HostCPU.cpp has the measurements).
int64_t mlir::attn::loops::panelsPerStep(const TargetDescription &target,
                                         int64_t queryTile, int64_t keyTile) {
  int64_t panels = keyTile / target.vectorLanes;
  auto largest = [&](int64_t liveMaxima) {
    int64_t best = 1;
    for (int64_t p = 1; p <= panels; ++p)
      if (panels % p == 0 &&
          queryTile * p + liveMaxima + p + 1 <= target.vectorRegisters)
        best = p;
    return best;
  };
  int64_t withMaxima = largest(queryTile);
  return withMaxima > 1 ? withMaxima : largest(0);
}

SmallVector<Value>
mlir::attn::loops::panelDots(Emitter &e, const PanelScores &s, Value panel) {
  ImplicitLocOpBuilder &b = e.b;
  Value zero = e.index(0);
  Type f32 = b.getF32Type();
  auto lanesType = VectorType::get({s.lanes}, f32);
  auto pairType = VectorType::get({2 * s.lanes}, b.getBF16Type());
  bool bf16 = bool(s.queryPairs);
  int64_t queryTile = s.rows.size();
  SmallVector<Value> zeros(queryTile * s.step, e.splat(lanesType, e.f32(0)));
  // One element of q (f32) or one pair (bf16) per iteration.
  return e
      .loop(
          zero, e.index(bf16 ? (s.d + 1) / 2 : s.d), zeros,
          [&](Value c, ValueRange acc) {
            SmallVector<Value> kt;
            for (int64_t p = 0; p < s.step; ++p)
              kt.push_back(e.vload(bf16 ? pairType : lanesType, s.packed,
                                   {s.bk, s.hk,
                                    b.create<arith::AddIOp>(panel, e.index(p)),
                                    c, zero}));
            SmallVector<Value> next;
            for (int64_t r = 0; r < queryTile; ++r) {
              Value qc =
                  bf16 ? broadcastPair(e, s.lanes, s.queryPairs,
                                       {s.bq, s.h, s.rows[r],
                                        b.create<arith::MulIOp>(c, e.index(2))})
                       : e.splat(lanesType,
                                 e.load(s.q, {s.bq, s.h, s.rows[r], c}));
              for (int64_t p = 0; p < s.step; ++p)
                next.push_back(
                    bf16 ? dotBF16Pairs(b, acc[r * s.step + p], qc, kt[p])
                         : Value(b.create<vector::FMAOp>(qc, kt[p],
                                                         acc[r * s.step + p])));
            }
            return next;
          })
      .getResults();
}

SmallVector<Value> mlir::attn::loops::queryRowChunks(Emitter &e, Value q,
                                                    ValueRange row, int64_t d,
                                                    int64_t lanes) {
  SmallVector<Value> chunks;
  SmallVector<Value> at(row.begin(), row.end());
  at.push_back(Value());
  for (int64_t c = 0; c < d; c += lanes) {
    at.back() = e.index(c);
    chunks.push_back(e.vload(
        VectorType::get({std::min(lanes, d - c)}, e.b.getF32Type()), q, at));
  }
  return chunks;
}

/// Lane j of the result is the sum of the lanes of accs[j] (accs: `lanes`
/// vectors of `lanes`, a power of 2). Pairs of vectors are halved and
/// interleaved level by level: at a level with groups of g lanes, x and y
/// give the vector of x's groups then y's groups, each the sum of the two
/// halves of the old group (two shuffles and an add). Pairing neighbours
/// keeps the keys in order, so after log2(lanes) levels lane j holds key
/// j's whole sum: lanes - 1 combinations in all.
static Value sumEachIntoLane(Emitter &e, SmallVector<Value> accs,
                             int64_t lanes) {
  ImplicitLocOpBuilder &b = e.b;
  for (int64_t g = lanes; g > 1; g /= 2) {
    SmallVector<int64_t> low, high;
    for (int64_t src = 0; src < 2; ++src)
      for (int64_t group = 0; group < lanes / g; ++group)
        for (int64_t l = 0; l < g / 2; ++l) {
          low.push_back(src * lanes + group * g + l);
          high.push_back(src * lanes + group * g + g / 2 + l);
        }
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < accs.size(); i += 2)
      next.push_back(
          e.add(b.create<vector::ShuffleOp>(accs[i], accs[i + 1], low),
                b.create<vector::ShuffleOp>(accs[i], accs[i + 1], high)));
    accs = std::move(next);
  }
  return accs.front();
}

Value mlir::attn::loops::rowDots(Emitter &e, const RowScores &s,
                                 Value first) {
  ImplicitLocOpBuilder &b = e.b;
  auto lanesType = VectorType::get({s.lanes}, b.getF32Type());
  Value zeros = e.splat(lanesType, e.f32(0));
  SmallVector<Value> dots, squares;
  for (int64_t j = 0; j < s.lanes; ++j) {
    Value key = b.create<arith::AddIOp>(first, e.index(j));
    if (s.lastKey)
      key = e.minIdx(key, s.lastKey);
    Value dot = zeros, square = zeros;
    int64_t c = 0;
    for (Value qc : s.queryChunks) {
      auto type = cast<VectorType>(qc.getType());
      Value kc = e.vload(type, s.keys, {s.bk, s.hk, key, e.index(c)});
      c += type.getNumElements();
      if (type == lanesType) {
        dot = b.create<vector::FMAOp>(qc, kc, dot);
        if (s.unitKeys)
          square = b.create<vector::FMAOp>(kc, kc, square);
        continue;
      }
      // The last chunk of a D that is not whole vectors, padded with 0.
      auto pad = [&](Value x) -> Value {
        return b.create<vector::InsertStridedSliceOp>(
            x, zeros, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
      };
      dot = e.add(dot, pad(e.mul(qc, kc)));
      if (s.unitKeys)
        square = e.add(square, pad(e.mul(kc, kc)));
    }
    dots.push_back(dot);
    squares.push_back(square);
  }
  Value result = sumEachIntoLane(e, dots, s.lanes);
  if (!s.unitKeys)
    return result;
  // q.k / |k|, and 0 for a zero key (as the packed panels divide each key
  // by its norm and keep a zero key zero).
  return e.mul(result,
               inverseRootOrZero(e, sumEachIntoLane(e, squares, s.lanes)));
}

Value mlir::attn::loops::finishPanelScore(Emitter &e, Value dots,
                                          Value inverseQueryNorm, Value scale,
                                          Value bias, Activation act) {
  auto type = cast<VectorType>(dots.getType());
  Value s = dots;
  if (inverseQueryNorm)
    s = e.mul(s, inverseQueryNorm);
  if (scale)
    s = e.mul(s, e.splat(type, scale));
  if (bias)
    s = e.add(s, e.splat(type, bias));
  return buildActivation(e.b, e.b.getLoc(), act, s);
}

Value mlir::attn::loops::visibleLanes(Emitter &e, Value keys, Value begin,
                                      Value end) {
  ImplicitLocOpBuilder &b = e.b;
  auto type = cast<VectorType>(keys.getType());
  Value visible =
      b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, keys,
                              b.create<vector::BroadcastOp>(type, end));
  if (begin)
    visible = b.create<arith::AndIOp>(
        visible,
        b.create<arith::CmpIOp>(arith::CmpIPredicate::sge, keys,
                                b.create<vector::BroadcastOp>(type, begin)));
  return visible;
}

/// The transpose of a square block of vectors (rows[r][c] becomes
/// result[c][r]; a power of 2 of them): log2(n) levels of two-source
/// shuffles, each swapping the off-diagonal sub-blocks of size k of every
/// pair of rows k apart: n log2(n) shuffles in all.
static SmallVector<Value> transposeBlock(Emitter &e, SmallVector<Value> rows) {
  int64_t n = rows.size();
  for (int64_t k = n / 2; k >= 1; k /= 2) {
    // Row i (bit k clear) keeps its lanes with bit k clear and takes row
    // i + k's lanes l - k where bit k is set; row i + k the converse.
    SmallVector<int64_t> low, high;
    for (int64_t l = 0; l < n; ++l) {
      bool upper = l & k;
      low.push_back(upper ? n + l - k : l);
      high.push_back(upper ? n + l : l + k);
    }
    for (int64_t i = 0; i < n; ++i) {
      if (i & k)
        continue;
      Value x = rows[i], y = rows[i + k];
      rows[i] = e.b.create<vector::ShuffleOp>(x, y, low);
      rows[i + k] = e.b.create<vector::ShuffleOp>(x, y, high);
    }
  }
  return rows;
}

/// Row `row` of `src` [B, H, N, D] from element c0, `width` elements, as
/// f32 lanes (a narrower source widened), zero past `width` up to
/// `lanesOut` lanes.
static Value loadRowChunk(Emitter &e, Value src, Value bIdx, Value h,
                          Value row, int64_t c0, int64_t width,
                          int64_t lanesOut) {
  ImplicitLocOpBuilder &b = e.b;
  Type srcElem = cast<MemRefType>(src.getType()).getElementType();
  Value chunk = e.vload(VectorType::get({width}, srcElem), src,
                        {bIdx, h, row, e.index(c0)});
  if (!srcElem.isF32())
    chunk = b.create<arith::ExtFOp>(
        VectorType::get({width}, b.getF32Type()), chunk);
  if (width < lanesOut)
    chunk = b.create<vector::InsertStridedSliceOp>(
        chunk, e.splat(VectorType::get({lanesOut}, b.getF32Type()), e.f32(0)),
        ArrayRef<int64_t>{0}, ArrayRef<int64_t>{1});
  return chunk;
}

Value mlir::attn::loops::packKeyPanels(PatternRewriter &rewriter,
                                       scf::ParallelOp parallel, Value keys,
                                       Type elem, int64_t lanes,
                                       int64_t sparePanels, bool unitRows) {
  auto keysType = cast<MemRefType>(keys.getType());
  int64_t d = keysType.getDimSize(3);
  // Elements of a key per lane of a panel row: one f32, or a pair of bf16
  // (elements 2c and 2c + 1 of the key, side by side).
  int64_t perLane = elem.isF32() ? 1 : 2;
  int64_t panelRows = static_cast<int64_t>(llvm::divideCeil(d, perLane));
  SmallVector<int64_t> tail = {panelRows, perLane * lanes};
  if (!keysType.getLayout().isIdentity() || !llvm::isPowerOf2_64(lanes))
    return packRows(rewriter, parallel, keys, elem, perLane * panelRows, tail,
                    lanes, sparePanels, unitRows,
                    [&](Emitter &e, Value bIdx, Value h, Value j, Value c) {
                      ImplicitLocOpBuilder &b = e.b;
                      Value lanesIdx = e.index(lanes), per = e.index(perLane);
                      Value lane = b.create<arith::RemUIOp>(j, lanesIdx);
                      return SmallVector<Value>{
                          bIdx, h, b.create<arith::DivUIOp>(j, lanesIdx),
                          b.create<arith::DivUIOp>(c, per),
                          b.create<arith::AddIOp>(
                              b.create<arith::MulIOp>(lane, per),
                              b.create<arith::RemUIOp>(c, per))};
                    });
  // A bf16 (f16) argument widened into `keys` is read where it is (see
  // packRows); a cosine score's norms read the f32 keys.
  Value from = unitRows ? keys : packingSourceOf(rewriter, keys);
  // A panel is `lanes` keys transposed: blocks of `lanes` keys x `lanes`
  // lanes (f32 elements, or bf16 pairs as 32-bit words) loaded as key rows,
  // transposed in registers (transposeBlock) and stored as panel rows. Keys
  // past N are read as key N - 1 and replaced by zeros; a D that is not
  // whole blocks ends with a narrower one, zero past D.
  auto fill = [&](Emitter &e, Value packed, Value bIdx, Value h, Value panel,
                  Value n) {
    ImplicitLocOpBuilder &b = e.b;
    int64_t blockElements = perLane * lanes;
    auto blockType = VectorType::get({blockElements}, b.getF32Type());
    auto packedRowType = VectorType::get({blockElements}, elem);
    auto wordsType = VectorType::get({lanes}, b.getI32Type());
    Value zero = e.index(0);
    Value first = b.create<arith::MulIOp>(panel, e.index(lanes));
    Value lastRow = e.maxIdx(b.create<arith::SubIOp>(n, e.index(1)), zero);
    Value zeros = e.splat(blockType, e.f32(0));
    SmallVector<Value> rows, exists, scales;
    for (int64_t r = 0; r < lanes; ++r) {
      Value key = b.create<arith::AddIOp>(first, e.index(r));
      exists.push_back(
          b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, key, n));
      rows.push_back(e.minIdx(key, lastRow));
      // Each key divided by its norm (a zero key stays zero).
      if (unitRows)
        scales.push_back(inverseNorm(e, keys, {bIdx, h, rows.back()}, d));
    }
    for (int64_t c0 = 0; c0 < d; c0 += blockElements) {
      int64_t width = std::min(blockElements, d - c0);
      SmallVector<Value> block;
      for (int64_t r = 0; r < lanes; ++r) {
        Value chunk =
            loadRowChunk(e, from, bIdx, h, rows[r], c0, width, blockElements);
        if (unitRows)
          chunk = e.mul(chunk, e.splat(blockType, scales[r]));
        chunk = b.create<arith::SelectOp>(exists[r], chunk, zeros);
        if (perLane == 2)
          chunk = b.create<vector::BitCastOp>(
              wordsType, b.create<arith::TruncFOp>(packedRowType, chunk));
        block.push_back(chunk);
      }
      block = transposeBlock(e, block);
      int64_t rowsOfBlock = llvm::divideCeil(width, perLane);
      for (int64_t c = 0; c < rowsOfBlock; ++c) {
        Value row = block[c];
        if (perLane == 2)
          row = b.create<vector::BitCastOp>(packedRowType, row);
        b.create<vector::StoreOp>(
            row, packed,
            ValueRange{bIdx, h, panel, e.index(c0 / perLane + c), zero});
      }
    }
  };
  return emitPackLoop(rewriter, parallel, keys, elem, tail, lanes, sparePanels,
                      fill);
}

Value mlir::attn::loops::packQueryPairs(PatternRewriter &rewriter,
                                        scf::ParallelOp parallel,
                                        Value queries, int64_t lanes,
                                        int64_t extraRows) {
  auto queriesType = cast<MemRefType>(queries.getType());
  int64_t d = queriesType.getDimSize(3), cols = 2 * llvm::divideCeil(d, 2);
  Type bf16 = rewriter.getBF16Type();
  if (!queriesType.getLayout().isIdentity())
    return packRows(rewriter, parallel, queries, bf16, cols, {cols}, 1,
                    extraRows, /*unitRows=*/false,
                    [](Emitter &, Value bIdx, Value h, Value j, Value c) {
                      return SmallVector<Value>{bIdx, h, j, c};
                    },
                    /*padWithLastRow=*/true);
  Value from = packingSourceOf(rewriter, queries);
  // Each row rounded 2 lanes elements at a time; rows past N repeat row
  // N - 1 (the rows of a tile past n_q compute what the last row does).
  auto fill = [&](Emitter &e, Value packed, Value bIdx, Value h, Value j,
                  Value n) {
    ImplicitLocOpBuilder &b = e.b;
    Value row = e.maxIdx(e.minIdx(j, b.create<arith::SubIOp>(n, e.index(1))),
                         e.index(0));
    for (int64_t c0 = 0; c0 < cols; c0 += 2 * lanes) {
      int64_t width = std::min(2 * lanes, cols - c0);
      Value chunk = loadRowChunk(e, from, bIdx, h, row, c0,
                                 std::min(width, d - c0), width);
      b.create<vector::StoreOp>(
          b.create<arith::TruncFOp>(VectorType::get({width}, bf16), chunk),
          packed, ValueRange{bIdx, h, j, e.index(c0)});
    }
  };
  return emitPackLoop(rewriter, parallel, queries, bf16, {cols}, 1, extraRows,
                      fill);
}

Value mlir::attn::loops::packValuePairs(PatternRewriter &rewriter,
                                        scf::ParallelOp parallel, Value values,
                                        int64_t lanes, int64_t extraEntries) {
  auto valuesType = cast<MemRefType>(values.getType());
  int64_t dv = valuesType.getDimSize(3);
  Type bf16 = rewriter.getBF16Type();
  if (!valuesType.getLayout().isIdentity())
    return packRows(rewriter, parallel, values, bf16, dv, {dv, 2}, 2,
                    extraEntries, /*unitRows=*/false,
                    [](Emitter &e, Value bIdx, Value h, Value j, Value c) {
                      Value two = e.index(2);
                      return SmallVector<Value>{
                          bIdx, h, e.b.create<arith::DivUIOp>(j, two), c,
                          e.b.create<arith::RemUIOp>(j, two)};
                    });
  Value from = packingSourceOf(rewriter, values);
  // Entry p is keys 2p and 2p + 1 interleaved element by element: `lanes`
  // columns of each loaded, shuffled together and stored as one row of
  // 2 lanes bf16 (a view of the entry as [2 Dv]). Keys past N are zeros.
  auto fill = [&](Emitter &e, Value packed, Value bIdx, Value h, Value entry,
                  Value n) {
    ImplicitLocOpBuilder &b = e.b;
    Value zero = e.index(0);
    Value flat = b.create<memref::CollapseShapeOp>(
        packed, ArrayRef<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
    Value lastRow = e.maxIdx(b.create<arith::SubIOp>(n, e.index(1)), zero);
    SmallVector<Value> rows, exists;
    for (int64_t r = 0; r < 2; ++r) {
      Value key = b.create<arith::AddIOp>(
          b.create<arith::MulIOp>(entry, e.index(2)), e.index(r));
      exists.push_back(
          b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, key, n));
      rows.push_back(e.minIdx(key, lastRow));
    }
    for (int64_t c0 = 0; c0 < dv; c0 += lanes) {
      int64_t width = std::min(lanes, dv - c0);
      auto chunkType = VectorType::get({width}, b.getF32Type());
      SmallVector<Value> pair;
      for (int64_t r = 0; r < 2; ++r)
        pair.push_back(b.create<arith::SelectOp>(
            exists[r], loadRowChunk(e, from, bIdx, h, rows[r], c0, width, width),
            e.splat(chunkType, e.f32(0))));
      SmallVector<int64_t> interleave;
      for (int64_t c = 0; c < width; ++c)
        interleave.append({c, width + c});
      Value row = b.create<vector::ShuffleOp>(pair[0], pair[1], interleave);
      b.create<vector::StoreOp>(
          b.create<arith::TruncFOp>(VectorType::get({2 * width}, bf16), row),
          flat, ValueRange{bIdx, h, entry, e.index(2 * c0)});
    }
  };
  return emitPackLoop(rewriter, parallel, values, bf16, {dv, 2}, 2,
                      extraEntries, fill);
}

Value mlir::attn::loops::packValueTiles(PatternRewriter &rewriter,
                                        scf::ParallelOp parallel, Value values,
                                        int64_t lanes, int64_t keyTile,
                                        int64_t chunk) {
  auto valuesType = cast<MemRefType>(values.getType());
  int64_t dv = valuesType.getDimSize(3);
  // One chunk: the value rows are that run already.
  if (!valuesType.getLayout().isIdentity() || ShapedType::isDynamic(dv) ||
      dv % lanes != 0 || chunk % lanes != 0 || chunk >= dv)
    return Value();
  Value from = packingSourceOf(rewriter, values);
  auto fill = [&](Emitter &e, Value packed, Value bIdx, Value h, Value entry,
                  Value n) {
    ImplicitLocOpBuilder &b = e.b;
    Value zero = e.index(0);
    Value lastRow = e.maxIdx(b.create<arith::SubIOp>(n, e.index(1)), zero);
    e.forEach(e.index(keyTile), [&](Value jj) {
      Value j = b.create<arith::AddIOp>(
          b.create<arith::MulIOp>(entry, e.index(keyTile)), jj);
      Value exists = b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, j, n);
      Value row = e.minIdx(j, lastRow);
      for (int64_t c0 = 0; c0 < dv; c0 += chunk) {
        int64_t width = std::min(chunk, dv - c0);
        auto chunkType = VectorType::get({width}, b.getF32Type());
        Value columns = b.create<arith::SelectOp>(
            exists, loadRowChunk(e, from, bIdx, h, row, c0, width, width),
            e.splat(chunkType, e.f32(0)));
        Value at = b.create<arith::AddIOp>(
            e.index(c0 * keyTile),
            b.create<arith::MulIOp>(jj, e.index(width)));
        b.create<vector::StoreOp>(columns, packed,
                                  ValueRange{bIdx, h, entry, at});
      }
    });
  };
  return emitPackLoop(rewriter, parallel, values, rewriter.getF32Type(),
                      {keyTile * dv}, keyTile, /*extraEntries=*/0, fill);
}
