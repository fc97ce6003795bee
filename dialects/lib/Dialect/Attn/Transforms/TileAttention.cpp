//===- TileAttention.cpp - attn.online_attention -> the tiled form --------===//
//
// Rewrites attn.online_attention into its tiled form: an scf.parallel over
// the independent work (batch x head x query tile), and in it an scf.for
// over key tiles that carries the running state of the query tile, with the
// tile-level ops attn.online_softmax_update (the loop body),
// attn.tile_finalize (context = acc / sum) and attn.tile_weights (the
// optional weights output) doing the arithmetic. The masks become loop
// bounds here: the key loop of a query tile ends at the last key its last
// query sees (lengths[b], cut by the causal diagonal or a window, extended
// by a prefix) and starts at the key tile of the first key its first
// query sees (a window), so fully masked key tiles are never visited.
//
// For a dot or cosine softmax with a vector state (the blocked kernel's
// case) an iteration is a query group: several consecutive query tiles take
// each key tile in turn, their states in per-group buffers, so the key tile
// is read from memory once per group. The groups are as even as the tiles
// allow and their number is sized by attn.thread_count, so that the threads
// get the same number of tiles. Without a weights output the parallel loop
// also has a key-split dimension: when batch x heads x groups are few, each
// group's keys are split in chunks whose partial states a second parallel
// loop merges in a fixed order (one split otherwise). Tile sizes, groups
// and splits come from the target description; how each tile-level op is
// computed is left to the kernel patterns of -convert-attn-to-loops.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Target/TargetDescription.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILEATTENTION
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// A per-feature score (multidim_additive) keeps a state per value feature:
/// it has no tiled form and is lowered whole by -convert-attn-to-loops
/// (AttnToLoops/MultiDimensional.cpp).
bool isMultiDimensional(OnlineAttentionOp op) {
  return getScoreCombineRules(op.getCombine()).perFeature;
}

/// Buffers of query tiles' vector states: maxima and sums indexed [prefix...,
/// row] and accumulator rows [prefix..., row, 0]. A tile's rows are
/// first .. first + QT - 1.
struct TileStateBuffers {
  Value maxima, sums, accumulators;

  Value row(Emitter &e, Value first, int64_t r) const {
    return e.b.createOrFold<arith::AddIOp>(first, e.index(r));
  }
  SmallVector<Value> at(ArrayRef<Value> prefix, Value rowIndex,
                        bool accumulator, Emitter &e) const {
    SmallVector<Value> index(prefix.begin(), prefix.end());
    index.push_back(rowIndex);
    if (accumulator)
      index.push_back(e.index(0));
    return index;
  }
  /// Stores the tile state (m, l: vector<QT>, acc: vector<QTxDv>).
  void store(Emitter &e, ValueRange state, ArrayRef<Value> prefix,
             Value first) const {
    ImplicitLocOpBuilder &b = e.b;
    b.create<vector::StoreOp>(state[0], maxima, at(prefix, first, false, e));
    b.create<vector::StoreOp>(state[1], sums, at(prefix, first, false, e));
    int64_t rows = cast<VectorType>(state[2].getType()).getDimSize(0);
    for (int64_t r = 0; r < rows; ++r)
      b.create<vector::StoreOp>(
          b.create<vector::ExtractOp>(state[2], ArrayRef<int64_t>{r}),
          accumulators, at(prefix, row(e, first, r), true, e));
  }
  /// Loads a tile state; its accumulator rows are inserted into `acc`
  /// (a vector<QTxDv> whose every row they replace).
  SmallVector<Value> load(Emitter &e, Value acc, ArrayRef<Value> prefix,
                          Value first) const {
    ImplicitLocOpBuilder &b = e.b;
    auto accType = cast<VectorType>(acc.getType());
    int64_t rows = accType.getDimSize(0);
    auto rowType = VectorType::get({rows}, accType.getElementType());
    auto accRowType =
        VectorType::get({accType.getDimSize(1)}, accType.getElementType());
    for (int64_t r = 0; r < rows; ++r)
      acc = b.create<vector::InsertOp>(
          e.vload(accRowType, accumulators,
                  at(prefix, row(e, first, r), true, e)),
          acc, ArrayRef<int64_t>{r});
    return {e.vload(rowType, maxima, at(prefix, first, false, e)),
            e.vload(rowType, sums, at(prefix, first, false, e)), acc};
  }
};

/// ceil(x / y) for index y > 0 (arith.ceildivui has no LLVM lowering of its
/// own).
Value ceilDivIndex(Emitter &e, Value x, Value y) {
  ImplicitLocOpBuilder &b = e.b;
  return b.create<arith::DivUIOp>(
      b.create<arith::AddIOp>(x, b.create<arith::SubIOp>(y, e.index(1))), y);
}

/// The key splits of `work` parallel iterations over `nk` keys: when work
/// is below `splitBelow`, min(ceil(splitBelow / work), ceil(nk /
/// minChunk)) splits, else 1; then chunks of whole key tiles (`keyStep`),
/// no empty split and at least one. Returns (splits, chunk): the sizes
/// alone decide them, never the thread count.
std::pair<Value, Value> planKeySplits(Emitter &e, Value work, Value nk,
                                      int64_t splitBelow, int64_t minChunk,
                                      Value keyStep) {
  ImplicitLocOpBuilder &b = e.b;
  Value zero = e.index(0), one = e.index(1);
  Value few = b.create<arith::AndIOp>(
      b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, work,
                              e.index(splitBelow)),
      b.create<arith::CmpIOp>(arith::CmpIPredicate::ugt, work, zero));
  Value minChunkSize = e.index(minChunk);
  Value wanted = ceilDivIndex(e, e.index(splitBelow), e.maxIdx(work, one));
  Value splits = b.create<arith::SelectOp>(
      few, e.minIdx(wanted, ceilDivIndex(e, nk, minChunkSize)), one);
  splits = e.maxIdx(splits, one);
  Value chunk = b.create<arith::MulIOp>(
      ceilDivIndex(e, ceilDivIndex(e, nk, splits), keyStep), keyStep);
  splits = e.maxIdx(
      e.minIdx(splits, ceilDivIndex(e, nk, e.maxIdx(chunk, one))), one);
  return {splits, chunk};
}

/// Whether the extents `x` and `y` (folded memref.dim results) are equal by
/// construction: the same value, or the same dimension of the same memref.
bool sameExtent(Value x, Value y) {
  if (x == y)
    return true;
  auto dimX = x.getDefiningOp<memref::DimOp>();
  auto dimY = y.getDefiningOp<memref::DimOp>();
  if (!dimX || !dimY || dimX.getSource() != dimY.getSource())
    return false;
  std::optional<int64_t> indexX = dimX.getConstantIndex(),
                         indexY = dimY.getConstantIndex();
  return indexX && indexX == indexY;
}

/// The key loop of a query group of `count` (at most `group`) tiles of
/// `queryTile` queries, the first at `i0`: the vector state of each tile
/// lives in per-group buffers ([group, QT] maxima and sums, [group, QT, Dv]
/// accumulators), and each key tile of the group's loop `keys` updates, in
/// turn, every tile that sees it (the key tile is within the tile's own
/// loop: `seesKeyTile(first, j0)`, null when every tile sees every key tile
/// of the group's loop). Then each tile is finalized.
void buildQueryGroup(
    Emitter &e, int64_t group, Value count, int64_t queryTile,
    VectorType accType, ArrayRef<Value> initial, Value i0,
    const TileKeyLoop &keys, Value keyStep,
    function_ref<Value(Value, Value)> seesKeyTile,
    function_ref<OnlineSoftmaxUpdateOp(Value, Value, ValueRange)> update,
    function_ref<void(Value, ValueRange)> finish) {
  ImplicitLocOpBuilder &b = e.b;
  Type f32 = b.getF32Type();
  int64_t dv = accType.getDimSize(1);
  auto rowType = VectorType::get({queryTile}, f32);
  auto accRowType = VectorType::get({dv}, f32);
  Value zero = e.index(0);
  // Per-iteration scratch of the parallel loop (each thread's stack once
  // attn-omp-thread-scratch has run).
  TileStateBuffers buffers{
      b.create<memref::AllocOp>(MemRefType::get({group, queryTile}, f32)),
      b.create<memref::AllocOp>(MemRefType::get({group, queryTile}, f32)),
      b.create<memref::AllocOp>(MemRefType::get({group, queryTile, dv}, f32))};
  auto store = [&](Value g, ValueRange state) {
    buffers.store(e, state, {g}, zero);
  };
  auto load = [&](Value g) { return buffers.load(e, initial[2], {g}, zero); };
  auto firstQuery = [&](Value g) -> Value {
    return b.create<arith::AddIOp>(
        i0, b.create<arith::MulIOp>(g, e.index(queryTile)));
  };
  auto ifThen = [&](Value cond, function_ref<void()> body) {
    auto ifOp = b.create<scf::IfOp>(cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    body();
  };

  auto constant = [&](VectorType type, float value) -> Value {
    return b.create<arith::ConstantOp>(
        DenseElementsAttr::get(type, b.getF32FloatAttr(value).getValue()));
  };
  Value negInfRow = constant(rowType, -std::numeric_limits<float>::infinity());
  Value zeroRow = constant(rowType, 0), zeroAcc = constant(accRowType, 0);
  e.forEach(count, [&](Value g) {
    b.create<vector::StoreOp>(negInfRow, buffers.maxima, ValueRange{g, zero});
    b.create<vector::StoreOp>(zeroRow, buffers.sums, ValueRange{g, zero});
    for (int64_t r = 0; r < queryTile; ++r)
      b.create<vector::StoreOp>(zeroAcc, buffers.accumulators,
                                ValueRange{g, e.index(r), zero});
  });
  e.loop(keys.begin, keys.end, keyStep, {}, [&](Value j0, ValueRange) {
    e.forEach(count, [&](Value g) {
      Value first = firstQuery(g);
      auto updateTile = [&] {
        store(g, update(first, j0, load(g)).getResults());
      };
      if (Value sees = seesKeyTile(first, j0))
        ifThen(sees, updateTile);
      else
        updateTile();
    });
    return SmallVector<Value>();
  });
  e.forEach(count, [&](Value g) { finish(firstQuery(g), load(g)); });
  for (Value buffer :
       {buffers.maxima, buffers.sums, buffers.accumulators})
    b.create<memref::DeallocOp>(buffer);
}

/// The partial states of a key split: per (batch, head, split, query row)
/// the maximum and the sum ([B, H, S, rows] each) and the accumulator row
/// ([B, H, S, rows, Dv]) of the keys of split S, stored by each query tile
/// at the end of its key loop, then merged per tile in split order.
struct SplitPartials : TileStateBuffers {
  int64_t queryTile;

  /// Buffers for `splits` splits of `rows` query rows.
  static SplitPartials allocate(Emitter &e, Value batch, Value heads,
                                Value splits, Value rows, int64_t queryTile,
                                int64_t dv) {
    ImplicitLocOpBuilder &b = e.b;
    Type f32 = b.getF32Type();
    int64_t dyn = ShapedType::kDynamic;
    auto rowsType = MemRefType::get({dyn, dyn, dyn, dyn}, f32);
    SmallVector<Value> sizes = {batch, heads, splits, rows};
    return {{b.create<memref::AllocOp>(rowsType, sizes),
             b.create<memref::AllocOp>(rowsType, sizes),
             b.create<memref::AllocOp>(
                 MemRefType::get({dyn, dyn, dyn, dyn, dv}, f32), sizes)},
            queryTile};
  }

  /// Stores the final `state` (m, l, acc) of the query tile at `first`.
  void store(Emitter &e, Value bIdx, Value h, Value split, Value first,
             ValueRange state) const {
    TileStateBuffers::store(e, state, {bIdx, h, split}, first);
  }

  /// An scf.parallel over (batch, head, query tile) that merges the splits
  /// of each tile in order, m = max_s m_s, l = sum_s exp(m_s - m) l_s,
  /// acc = sum_s exp(m_s - m) acc_s (a split in which a row saw no key has
  /// m_s = -inf and weighs 0), and `finish`es the tile from (m, l, acc).
  void merge(Emitter &e, Value batch, Value heads, Value nq, Value splits,
             VectorType accType,
             function_ref<void(Value, Value, Value, ValueRange)> finish) const {
    ImplicitLocOpBuilder &b = e.b;
    Type f32 = b.getF32Type();
    auto rowType = VectorType::get({queryTile}, f32);
    auto accRowType = VectorType::get({accType.getDimSize(1)}, f32);
    Value zero = e.index(0), one = e.index(1);
    auto loop = b.create<scf::ParallelOp>(
        ValueRange{zero, zero, zero}, ValueRange{batch, heads, nq},
        ValueRange{one, one, e.index(queryTile)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    SmallVector<Value> iv = loop.getInductionVars();
    auto rowsOf = [&](Value s) {
      return TileStateBuffers::at({iv[0], iv[1], s}, iv[2], false, e);
    };
    Value negInf = e.splat(rowType, e.negInf());
    Value m = e.loop(zero, splits, {negInf}, [&](Value s, ValueRange acc) {
                 return SmallVector<Value>{b.create<arith::MaximumFOp>(
                     acc[0], e.vload(rowType, maxima, rowsOf(s)))};
               }).getResult(0);
    Value zeroRows = e.splat(rowType, e.f32(0));
    Value zeroAcc = b.create<arith::ConstantOp>(
        DenseElementsAttr::get(accType, b.getF32FloatAttr(0).getValue()));
    auto merged = e.loop(
        zero, splits, {zeroRows, zeroAcc}, [&](Value s, ValueRange acc) {
          Value ms = e.vload(rowType, maxima, rowsOf(s));
          Value empty =
              b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, ms, negInf);
          Value alpha = b.create<arith::SelectOp>(empty, zeroRows,
                                                  e.exp(e.sub(ms, m)));
          Value l = b.create<vector::FMAOp>(
              alpha, e.vload(rowType, sums, rowsOf(s)), acc[0]);
          Value sum = acc[1];
          for (int64_t r = 0; r < queryTile; ++r) {
            Value accRow = e.vload(
                accRowType, accumulators,
                at({iv[0], iv[1], s}, row(e, iv[2], r), true, e));
            Value weight = e.splat(
                accRowType,
                b.create<vector::ExtractOp>(alpha, ArrayRef<int64_t>{r}));
            sum = b.create<vector::InsertOp>(
                b.create<vector::FMAOp>(
                    weight, accRow,
                    b.create<vector::ExtractOp>(sum, ArrayRef<int64_t>{r})),
                sum, ArrayRef<int64_t>{r});
          }
          return SmallVector<Value>{l, sum};
        });
    finish(iv[0], iv[1], iv[2], {m, merged.getResult(0), merged.getResult(1)});
  }

  void deallocate(Emitter &e) const {
    for (Value buffer : {maxima, sums, accumulators})
      e.b.create<memref::DeallocOp>(buffer);
  }
};

struct TileOnlineAttention : public OpRewritePattern<OnlineAttentionOp> {
  TileOnlineAttention(MLIRContext *context, const TargetDescription &target,
                      const AttentionTilingOptions &options)
      : OpRewritePattern(context), target(target), options(options) {}

  /// Whether the state can be vectors: the kernels then keep q, w and the
  /// accumulator rows in registers, which needs static, small, contiguous
  /// D and Dv. The context is written a row at a time: contiguous rows are
  /// enough (-attn-group-query-heads makes a context of strided rows).
  bool canUseValueState(OnlineAttentionOp op) const {
    int64_t limit = target.maxVectorElements;
    // The context may be a view with contiguous rows (-attn-group-query-
    // heads makes one).
    return options.vectorize && vectorizableSize(op.getQuery(), limit) &&
           vectorizableSize(op.getKeys(), limit) &&
           vectorizableSize(op.getValues(), limit) &&
           vectorizableRows(op.getOutput(), limit) &&
           (!op.getScoreWeights() ||
            vectorizableSize(op.getScoreWeights(), limit));
  }

  LogicalResult matchAndRewrite(OnlineAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (isMultiDimensional(op)) // no tiled form: convert-attn-to-loops
      return failure();
    rewriter.setInsertionPoint(op);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value q = op.getQuery(), k = op.getKeys(), v = op.getValues();
    Value context = op.getOutput(), weights = op.getWeights();
    Value batch = e.dim(context, 0), hq = e.dim(q, 1), nq = e.dim(q, 2),
          nk = e.dim(k, 2);
    Value keyGroup = headGroupSize(e, hq, e.dim(k, 1)),
          valueGroup = headGroupSize(e, hq, e.dim(v, 1));
    // Fewer queries than a tile (one query per batch entry, as in the
    // encoder-decoder models) make a smaller tile: the rows of a tile past
    // the last query are recomputed copies of it.
    int64_t queryTile = target.queryTile;
    int64_t staticQueries = cast<MemRefType>(q.getType()).getDimSize(2);
    if (!ShapedType::isDynamic(staticQueries) && staticQueries > 0)
      queryTile = std::min(queryTile, staticQueries);
    bool valueState = canUseValueState(op);
    int64_t keyTile = target.keyTileFor(
        options.keyTile,
        valueState && op.getCombine() == ScoreCombine::additive);
    // With vectors, a key tile is whole vector registers of keys, so that a
    // kernel may score one register of keys at a time.
    if (valueState)
      keyTile =
          llvm::divideCeil(keyTile, target.vectorLanes) * target.vectorLanes;
    bool modified = op.getScoreModAttr() || op.getMaskModAttr() ||
                    op.getWeightModAttr();
    // A weights output of a dot or cosine softmax in vectors: the key
    // loop's update writes the scores it computes into the weights, and
    // attn.tile_weights normalizes them (scores_stored) rather than
    // computing every score a second time.
    bool dotSoftmax = valueState && op.getAlign() == AlignKind::softmax &&
                      !modified &&
                      (op.getCombine() == ScoreCombine::dot ||
                       op.getCombine() == ScoreCombine::cosine);
    bool storeScores = weights && dotSoftmax;
    // bf16 products on the AMX tile unit (whole tiles; no weights output):
    // query tiles of the tile unit's rows, and the default group keeps its
    // number of queries.
    int64_t headDim = cast<MemRefType>(q.getType()).getDimSize(3),
            valueDim = cast<MemRefType>(v.getType()).getDimSize(3);
    bool amxRows = options.amxTiles && dotSoftmax && !storeScores &&
                   amxTilesFit(target.amxQueryTile, keyTile, headDim, valueDim);
    if (amxRows) {
      queryTile = target.amxQueryTile;
      if (!ShapedType::isDynamic(staticQueries) && staticQueries > 0)
        queryTile = std::min(queryTile, staticQueries);
    }
    // Where the target sizes the blocked kernel's key tile by the cache
    // (AVX2), the tile grows while its packed keys and values fit. Not for
    // a window or band (a first key per query: a longer tile scores more
    // masked keys), the weights output, or a tile size asked for.
    if (dotSoftmax && !storeScores && !amxRows && options.keyTile <= 0 &&
        !KeyInterval::of(op, Value()).hasBegin())
      keyTile = target.blockedKeyTile(headDim, valueDim);
    // A query group (the dot-product kernel's schedule, with a vector
    // state): several query tiles take each key tile in turn, so that the
    // key tile's packed keys and values are read from memory once for the
    // group and from cache for the others. Never more tiles than a static
    // n_q makes.
    int64_t group = 1;
    if (dotSoftmax && !op.getKeyRangeAttr()) {
      group = target.queryGroupFor(options.queryTilesPerGroup);
      if (amxRows && options.queryTilesPerGroup == 0)
        group = std::max<int64_t>(
            1, group * target.queryTile / target.amxQueryTile);
      if (!ShapedType::isDynamic(staticQueries) && staticQueries > 0)
        group = std::min<int64_t>(group, llvm::divideCeil(staticQueries, queryTile));
    }

    // A dynamic n_q that is 1 at run time (decoding with a model made for
    // any number of queries) takes a copy of the tiled form with tiles of
    // one query, whose kernel reads the keys in place (BlockedDot.cpp);
    // packing the keys for tiles of 8 copies of one query costs 4-6x more.
    // Not when n_k is n_q by construction (self-attention: one query is one
    // key, nothing to pack): the copy would only be compiled, never gain.
    bool singleQueryCopy = dotSoftmax && queryTile > 1 &&
                           ShapedType::isDynamic(staticQueries) &&
                           !sameExtent(nq, nk) && options.singleQueryCopy;
    auto emitTiledForm = [&](int64_t queryTile, int64_t group) {
      Value zero = e.index(0), one = e.index(1);
      Value queryStep = e.index(queryTile * group), keyStep = e.index(keyTile);
      Type f32 = b.getF32Type();
      auto dvSize = cast<MemRefType>(v.getType()).getDimSize(3);
      auto rowType = VectorType::get({queryTile}, f32);
      auto accType = VectorType::get({queryTile, dvSize}, f32);
      auto negInf = b.getF32FloatAttr(-std::numeric_limits<float>::infinity());
      auto zeroAttr = b.getF32FloatAttr(0);

      // What an iteration of a parallel loop over (batch, head, query tile)
      // knows: the broadcast batch and head indices of q, k and v, and its
      // key loop from the masks. The masks as bounds: keys [0, visible) of
      // this batch entry, and of those the ones the tile's last query sees
      // (the causal diagonal grows with the query): key tiles past it are
      // masked for every query. A window also gives a first key: the key loop
      // of the tile starts at the key tile holding the first key its first
      // query sees (the interval of each query moves right with the query). A
      // query group's key loop spans its tiles' loops.
      struct Iteration {
        Value bIdx, h, bq, bk, bv, hk, hv;
        TileKeyLoop keys;
      };
      auto enter = [&](Value bIdx, Value h, Value i0, int64_t queries,
                       Value groupQueries = {}) {
        Iteration it{bIdx,
                     h,
                     e.broadcastIndex(q, 0, bIdx),
                     e.broadcastIndex(k, 0, bIdx),
                     e.broadcastIndex(v, 0, bIdx),
                     b.create<arith::DivUIOp>(h, keyGroup),
                     b.create<arith::DivUIOp>(h, valueGroup),
                     {}};
        it.keys = tileKeyLoop(e, op, bIdx, h, i0, queries, keyStep, nq, nk,
                              groupQueries);
        return it;
      };
      // The update of query tile `first` with key tile `j0`, the finalization
      // of a tile and its weights.
      auto createUpdate = [&](const Iteration &it, Value first, Value j0,
                              ValueRange current) {
        return b.create<OnlineSoftmaxUpdateOp>(
            valueState ? TypeRange(current) : TypeRange(), q, it.bq, it.h,
            first, k, it.bk, it.hk, j0, /*key_row=*/Value(), v, it.bv, it.hv,
            op.getScoreWeights(),
            op.getScale(), op.getBias(), it.keys.visible, it.keys.prefixEnd,
            op.getModSizes(), op.getModTables(), current[0], current[1],
            current[2],
            op.getAlign() == AlignKind::hard || modified || storeScores
                ? it.bIdx
                : Value(),
            storeScores ? weights : Value(), op.getCombine(), op.getAct(),
            op.getCausal(), keyTile, op.getCausalOffsetAttr(),
            op.getWindowAttr(), op.getScoreModAttr(), op.getMaskModAttr(),
            op.getWeightModAttr(), op.getBandLowerAttr(), op.getBandUpperAttr(),
            op.getAlign(), op.getSeedAttr());
      };
      auto finishTile = [&](const Iteration &it, Value first,
                            ValueRange final) {
        Value lse = op.getLse();
        b.create<TileFinalizeOp>(final[1], final[2], context, it.bIdx, first,
                                 it.h, lse ? final[0] : Value(), lse);
        if (weights)
          b.create<TileWeightsOp>(
              q, it.bq, it.h, first, k, it.bk, it.hk, op.getScoreWeights(),
              op.getScale(), op.getBias(), it.keys.visible, it.keys.prefixEnd,
              op.getModSizes(), op.getModTables(), final[0], final[1], weights,
              it.bIdx, storeScores, op.getCombine(), op.getAct(),
              op.getCausal(), op.getCausalOffsetAttr(), op.getWindowAttr(),
              op.getScoreModAttr(), op.getMaskModAttr(), op.getWeightModAttr(),
              op.getBandLowerAttr(), op.getBandUpperAttr(), op.getAlign(),
              op.getSeedAttr());
      };
      // The state a query tile starts from: -inf maxima, zero sums and
      // accumulators (values), or buffers of the query tile initialized so.
      auto initialState = [&]() -> SmallVector<Value> {
        if (valueState)
          return {b.create<arith::ConstantOp>(
                      DenseElementsAttr::get(rowType, negInf.getValue())),
                  b.create<arith::ConstantOp>(
                      DenseElementsAttr::get(rowType, zeroAttr.getValue())),
                  b.create<arith::ConstantOp>(
                      DenseElementsAttr::get(accType, zeroAttr.getValue()))};
        auto rowBuffer = MemRefType::get({queryTile}, f32);
        auto accBuffer = MemRefType::get({queryTile, dvSize}, f32);
        SmallVector<Value> dynamicDv;
        if (ShapedType::isDynamic(dvSize))
          dynamicDv.push_back(e.dim(v, 3));
        SmallVector<Value> buffers = {
            b.create<memref::AllocOp>(rowBuffer),
            b.create<memref::AllocOp>(rowBuffer),
            b.create<memref::AllocOp>(accBuffer, dynamicDv)};
        e.forEach(e.index(queryTile), [&](Value r) {
          e.store(e.negInf(), buffers[0], {r});
          e.store(e.f32(0), buffers[1], {r});
          e.forEach(e.dim(buffers[2], 1), [&](Value c) {
            e.store(e.f32(0), buffers[2], {r, c});
          });
        });
        return buffers;
      };
      // The key loop of one query tile over keys [begin, end): the final
      // state.
      auto keyLoopOfTile = [&](const Iteration &it, Value i0, Value begin,
                               Value end, ValueRange state) {
        auto keyLoop =
            b.create<scf::ForOp>(begin, end, keyStep,
                                 valueState ? state : ValueRange());
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(keyLoop.getBody());
          SmallVector<Value> current =
              valueState ? SmallVector<Value>(keyLoop.getRegionIterArgs())
                         : SmallVector<Value>(state);
          auto update = createUpdate(it, i0, keyLoop.getInductionVar(), current);
          if (valueState)
            b.create<scf::YieldOp>(update.getResults());
        }
        return valueState ? SmallVector<Value>(keyLoop.getResults())
                          : SmallVector<Value>(state);
      };

      // Key splits (a dot or cosine softmax in vectors without a weights
      // output or key-range function): when the parallel iterations of the
      // tiled form, batch x heads x query tiles (or groups), are fewer than
      // the target plans threads for (`keySplitIterations`), the keys of each
      // tile are also split in `splits` chunks of `chunk` keys (whole key
      // tiles, at least `minKeysPerSplit`), an extra dimension of the
      // parallel loop; each tile stores its partial state per split, and a
      // second parallel loop merges them in split order. Otherwise `splits`
      // is 1 and each tile finalizes itself, as without splits. The number of
      // splits depends on the shapes only, never on the thread count, so the
      // results are the same on any number of threads.
      struct KeySplit {
        Value splits, chunk, single;
        SplitPartials partials;
      };

      // Query groups: the T = ceil(n_q / QT) tiles of a (batch, head) in N
      // groups of consecutive tiles (`parallelGroups`), group j holding tiles
      // [j T / N, (j + 1) T / N), so that group sizes differ by at most one.
      // N is at least ceil(T / group) (`fewestGroups`, what the key splits
      // count, which must not depend on the threads) and is raised so that
      // the threads, which take the B x H x N groups in turn, get the same
      // number of groups in the last round: the rounds R = ceil(B H
      // ceil(T / group) / threads) made of N = floor(R threads / (B H))
      // groups per (batch, head), at most T. Grouping never changes what a
      // tile computes.
      Value tiles, fewestGroups, parallelGroups;
      if (group > 1) {
        tiles = ceilDivIndex(e, nq, e.index(queryTile));
        fewestGroups = ceilDivIndex(e, tiles, e.index(group));
        Value threads =
            e.maxIdx(b.create<ThreadCountOp>(b.getIndexType()), one);
        Value heads = e.maxIdx(b.create<arith::MulIOp>(batch, hq), one);
        Value rounds = ceilDivIndex(
            e, b.create<arith::MulIOp>(heads, fewestGroups), threads);
        Value filled = b.create<arith::DivUIOp>(
            b.create<arith::MulIOp>(rounds, threads), heads);
        parallelGroups = e.minIdx(e.maxIdx(filled, fewestGroups), tiles);
      }

      // The tiled form: an iteration per (batch, head, query tile or group
      // [, split]).
      auto buildTiledForm = [&](const KeySplit *split) {
        SmallVector<Value> lower = {zero, zero, zero}, upper = {batch, hq, nq},
                           steps = {one, one, queryStep};
        if (group > 1) {
          upper[2] = parallelGroups;
          steps[2] = one;
        }
        if (split) {
          lower.push_back(zero);
          upper.push_back(split->splits);
          steps.push_back(one);
        }
        auto parallel = b.create<scf::ParallelOp>(lower, upper, steps);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(parallel.getBody()->getTerminator());
        SmallVector<Value> iv = parallel.getInductionVars();
        Value i0 = iv[2], count, groupQueries;
        if (group > 1) {
          auto tileOf = [&](Value g) -> Value {
            return b.create<arith::DivUIOp>(b.create<arith::MulIOp>(g, tiles),
                                            parallelGroups);
          };
          Value firstTile = tileOf(iv[2]);
          count = b.create<arith::SubIOp>(
              tileOf(b.create<arith::AddIOp>(iv[2], one)), firstTile);
          i0 = b.create<arith::MulIOp>(firstTile, e.index(queryTile));
          groupQueries = b.create<arith::MulIOp>(count, e.index(queryTile));
        }
        Iteration it = enter(iv[0], iv[1], i0, queryTile, groupQueries);
        TileKeyLoop keys = it.keys;
        if (split) {
          // The keys of split s: [s chunk, (s + 1) chunk).
          Value first = b.create<arith::MulIOp>(iv[3], split->chunk);
          keys.begin = e.maxIdx(keys.begin, first);
          keys.end = e.minIdx(keys.end,
                              b.create<arith::AddIOp>(first, split->chunk));
        }
        auto finish = [&](Value first, ValueRange final) {
          if (!split)
            return finishTile(it, first, final);
          auto single =
              b.create<scf::IfOp>(split->single, /*withElseRegion=*/true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(single.thenBlock()->getTerminator());
          finishTile(it, first, final);
          b.setInsertionPoint(single.elseBlock()->getTerminator());
          split->partials.store(e, iv[0], iv[1], iv[3], first, final);
        };
        SmallVector<Value> state = initialState();
        if (group == 1) {
          finish(i0, keyLoopOfTile(it, i0, keys.begin, keys.end, state));
          if (!valueState)
            for (Value buffer : state)
              b.create<memref::DeallocOp>(buffer);
          return;
        }
        auto update = [&](Value first, Value j0, ValueRange current) {
          return createUpdate(it, first, j0, current);
        };
        auto seesKeyTile = [&](Value first, Value j0) -> Value {
          // Tiles differ in their key loops only when the interval of keys
          // moves with the query.
          KeyInterval mask = KeyInterval::of(op, it.keys.prefixEnd);
          if (!mask.hasBegin() && !mask.hasEnd())
            return Value();
          auto [begin, end] =
              tileKeyBounds(e, mask, it.keys.visible, first, e.index(queryTile),
                            keyStep, nq, nk);
          Value sees =
              b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, j0, end);
          if (mask.hasBegin())
            sees = b.create<arith::AndIOp>(
                sees, b.create<arith::CmpIOp>(arith::CmpIPredicate::sge, j0,
                                              begin));
          return sees;
        };
        buildQueryGroup(e, group, count, queryTile, accType, state, i0, keys,
                        keyStep, seesKeyTile, update, finish);
      };

      int64_t splitBelow = target.keySplitIterations;
      if (!options.splitKeys || !dotSoftmax || weights ||
          op.getKeyRangeAttr() || splitBelow <= 1) {
        buildTiledForm(nullptr);
        return;
      }
      auto ceilDiv = [&](Value x, Value y) { return ceilDivIndex(e, x, y); };
      if (!tiles)
        tiles = ceilDiv(nq, e.index(queryTile));
      Value work = b.create<arith::MulIOp>(
          b.create<arith::MulIOp>(batch, hq),
          fewestGroups ? fewestGroups : ceilDiv(nq, queryStep));
      auto [splits, chunk] = planKeySplits(
          e, work, nk, splitBelow,
          llvm::alignTo(std::max<int64_t>(target.minKeysPerSplit, keyTile),
                        keyTile),
          keyStep);
      Value single =
          b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, splits, one);
      // Partial states only when there are splits (empty buffers otherwise).
      Value stored = b.create<arith::SelectOp>(single, zero, splits);
      KeySplit split{splits, chunk, single,
                     SplitPartials::allocate(
                         e, batch, hq, stored,
                         b.create<arith::MulIOp>(tiles, e.index(queryTile)),
                         queryTile, dvSize)};
      buildTiledForm(&split);
      auto merge = b.create<scf::IfOp>(b.create<arith::XOrIOp>(
          single, b.create<arith::ConstantIntOp>(1, 1)));
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(merge.thenBlock()->getTerminator());
        split.partials.merge(
            e, batch, hq, nq, splits, accType,
            [&](Value bIdx, Value h, Value i0, ValueRange merged) {
              finishTile(enter(bIdx, h, i0, queryTile), i0, merged);
            });
      }
    split.partials.deallocate(e);
    };
    if (!singleQueryCopy) {
      emitTiledForm(queryTile, group);
    } else {
      auto manyQueries = b.create<scf::IfOp>(
          b.create<arith::CmpIOp>(arith::CmpIPredicate::ne, nq, e.index(1)),
          /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(manyQueries.thenBlock()->getTerminator());
      emitTiledForm(queryTile, group);
      b.setInsertionPoint(manyQueries.elseBlock()->getTerminator());
      emitTiledForm(/*queryTile=*/1, /*group=*/1);
    }
    rewriter.eraseOp(op);
    return success();
  }

  const TargetDescription &target;
  AttentionTilingOptions options;
};

struct AttnTileAttentionPass
    : public attn::impl::AttnTileAttentionBase<AttnTileAttentionPass> {
  using AttnTileAttentionBase::AttnTileAttentionBase;

  void runOnOperation() override {
    const TargetDescription *target = lookupTarget(getOperation(), vectorISA);
    if (!target)
      return signalPassFailure();
    AttentionTilingOptions options{tileSize,  vectorize,       queryTilesPerGroup,
                                   splitKeys, singleQueryCopy, amxTiles};
    if (failed(checkTilingOptions(getOperation(), *target, options)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateTileAttentionPatterns(patterns, *target, options);
    ConversionTarget legality(getContext());
    legality.addDynamicallyLegalOp<OnlineAttentionOp>(isMultiDimensional);
    legality.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), legality,
                                      std::move(patterns))))
      return signalPassFailure();
    // The tiled form is meant to be read: fold the index arithmetic of
    // static sizes and share the constants (no other rewrite).
    (void)applyPatternsAndFoldGreedily(getOperation(),
                                       RewritePatternSet(&getContext()));
  }
};

} // namespace

LogicalResult
mlir::attn::checkTilingOptions(Operation *op, const TargetDescription &target,
                               const AttentionTilingOptions &options) {
  // The kernels keep a key tile's scores in scratch memory: keep it small.
  if (options.keyTile < 0 || options.keyTile > target.maxKeyTile)
    return op->emitError() << "tile-size must be between 1 and "
                           << target.maxKeyTile << " (0: the target's)";
  if (options.queryTilesPerGroup < 0 || options.queryTilesPerGroup > 64)
    return op->emitError()
           << "query-tiles-per-group must be between 1 and 64 (0: the "
              "target's)";
  return success();
}

void mlir::attn::populateTileAttentionPatterns(
    RewritePatternSet &patterns, const TargetDescription &target,
    const AttentionTilingOptions &options) {
  patterns.add<TileOnlineAttention>(patterns.getContext(), target, options);
  populateTileSparseAttentionPatterns(patterns, target, options);
}
