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
// query sees (a window), so fully masked key tiles are never visited. Tile
// sizes come from the target description; how each tile-level op is computed is
// left to the kernel patterns of -convert-attn-to-loops.
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

/// The key loop of a query group of `group` tiles of `queryTile` queries,
/// the first at `i0`: the vector state of each tile lives in per-group
/// buffers ([group, QT] maxima and sums, [group, QT, Dv] accumulators), and
/// each key tile of the group's loop `keys` updates, in turn, every tile
/// that exists (first query < n_q) and sees it (the key tile is within the
/// tile's own loop: `seesKeyTile(first, j0)`, null when every tile sees
/// every key tile of the group's loop). Then each tile that exists is
/// finalized.
void buildQueryGroup(
    Emitter &e, int64_t group, int64_t queryTile, VectorType accType,
    ArrayRef<Value> initial, Value i0, Value nq, const TileKeyLoop &keys,
    Value keyStep, function_ref<Value(Value, Value)> seesKeyTile,
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
  SmallVector<Value> buffers = {
      b.create<memref::AllocOp>(MemRefType::get({group, queryTile}, f32)),
      b.create<memref::AllocOp>(MemRefType::get({group, queryTile}, f32)),
      b.create<memref::AllocOp>(MemRefType::get({group, queryTile, dv}, f32))};
  auto store = [&](Value g, ValueRange state) {
    b.create<vector::StoreOp>(state[0], buffers[0], ValueRange{g, zero});
    b.create<vector::StoreOp>(state[1], buffers[1], ValueRange{g, zero});
    for (int64_t r = 0; r < queryTile; ++r)
      b.create<vector::StoreOp>(
          b.create<vector::ExtractOp>(state[2], ArrayRef<int64_t>{r}),
          buffers[2], ValueRange{g, e.index(r), zero});
  };
  auto load = [&](Value g) -> SmallVector<Value> {
    Value acc = initial[2];
    for (int64_t r = 0; r < queryTile; ++r)
      acc = b.create<vector::InsertOp>(
          e.vload(accRowType, buffers[2], {g, e.index(r), zero}), acc,
          ArrayRef<int64_t>{r});
    return {e.vload(rowType, buffers[0], {g, zero}),
            e.vload(rowType, buffers[1], {g, zero}), acc};
  };
  auto firstQuery = [&](Value g) -> Value {
    return b.create<arith::AddIOp>(
        i0, b.create<arith::MulIOp>(g, e.index(queryTile)));
  };
  auto exists = [&](Value first) -> Value {
    return b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, first, nq);
  };
  auto ifThen = [&](Value cond, function_ref<void()> body) {
    auto ifOp = b.create<scf::IfOp>(cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    body();
  };

  Value groupSize = e.index(group);
  auto constant = [&](VectorType type, float value) -> Value {
    return b.create<arith::ConstantOp>(
        DenseElementsAttr::get(type, b.getF32FloatAttr(value).getValue()));
  };
  Value negInfRow = constant(rowType, -std::numeric_limits<float>::infinity());
  Value zeroRow = constant(rowType, 0), zeroAcc = constant(accRowType, 0);
  e.forEach(groupSize, [&](Value g) {
    b.create<vector::StoreOp>(negInfRow, buffers[0], ValueRange{g, zero});
    b.create<vector::StoreOp>(zeroRow, buffers[1], ValueRange{g, zero});
    for (int64_t r = 0; r < queryTile; ++r)
      b.create<vector::StoreOp>(zeroAcc, buffers[2],
                                ValueRange{g, e.index(r), zero});
  });
  e.loop(keys.begin, keys.end, keyStep, {}, [&](Value j0, ValueRange) {
    e.forEach(groupSize, [&](Value g) {
      Value first = firstQuery(g);
      Value cond = exists(first);
      if (Value sees = seesKeyTile(first, j0))
        cond = b.create<arith::AndIOp>(cond, sees);
      ifThen(cond, [&] {
        store(g, update(first, j0, load(g)).getResults());
      });
    });
    return SmallVector<Value>();
  });
  e.forEach(groupSize, [&](Value g) {
    Value first = firstQuery(g);
    ifThen(exists(first), [&] { finish(first, load(g)); });
  });
  for (Value buffer : buffers)
    b.create<memref::DeallocOp>(buffer);
}

struct TileOnlineAttention : public OpRewritePattern<OnlineAttentionOp> {
  TileOnlineAttention(MLIRContext *context, const TargetDescription &target,
                      const AttentionTilingOptions &options)
      : OpRewritePattern(context), target(target), options(options) {}

  /// Whether the state can be vectors: the kernels then keep q, w and the
  /// accumulator rows in registers, which needs static, small, contiguous
  /// D and Dv.
  bool canUseValueState(OnlineAttentionOp op) const {
    int64_t limit = target.maxVectorElements;
    return options.vectorize && vectorizableSize(op.getQuery(), limit) &&
           vectorizableSize(op.getKeys(), limit) &&
           vectorizableSize(op.getValues(), limit) &&
           vectorizableSize(op.getOutput(), limit) &&
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
    int64_t keyTile = target.keyTileFor(options.keyTile);
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
    // A query group (the dot-product kernel's schedule, with a vector
    // state): several query tiles take each key tile in turn, so that the
    // key tile's packed keys and values are read from memory once for the
    // group and from cache for the others. Never more tiles than a static
    // n_q makes.
    int64_t group = 1;
    if (dotSoftmax && !op.getKeyRangeAttr()) {
      group = target.queryGroupFor(options.queryTilesPerGroup);
      if (!ShapedType::isDynamic(staticQueries) && staticQueries > 0)
        group = std::min<int64_t>(group, llvm::divideCeil(staticQueries, queryTile));
    }

    Value zero = e.index(0), one = e.index(1);
    Value queryStep = e.index(queryTile * group), keyStep = e.index(keyTile);
    Type f32 = b.getF32Type();
    auto dvSize = cast<MemRefType>(v.getType()).getDimSize(3);

    auto parallel = b.create<scf::ParallelOp>(
        ValueRange{zero, zero, zero}, ValueRange{batch, hq, nq},
        ValueRange{one, one, queryStep});
    b.setInsertionPoint(parallel.getBody()->getTerminator());
    Value bIdx = parallel.getInductionVars()[0],
          h = parallel.getInductionVars()[1],
          i0 = parallel.getInductionVars()[2];
    Value bq = e.broadcastIndex(q, 0, bIdx), bk = e.broadcastIndex(k, 0, bIdx),
          bv = e.broadcastIndex(v, 0, bIdx);
    Value hk = b.create<arith::DivUIOp>(h, keyGroup),
          hv = b.create<arith::DivUIOp>(h, valueGroup);
    // The masks as bounds: keys [0, visible) of this batch entry, and of
    // those the ones the tile's last query sees (the causal diagonal grows
    // with the query): key tiles past it are masked for every query.
    // A window also gives a first key: the key loop of the tile starts at
    // the key tile holding the first key its first query sees (the
    // interval of each query moves right with the query). A query group's
    // key loop spans its tiles' loops.
    TileKeyLoop keys =
        tileKeyLoop(e, op, bIdx, h, i0, queryTile * group, keyStep, nq, nk);
    Value visible = keys.visible, prefixEnd = keys.prefixEnd;

    // The update of query tile `first` with key tile `j0`, the finalization
    // of a tile and its weights.
    auto createUpdate = [&](Value first, Value j0, ValueRange current) {
      return b.create<OnlineSoftmaxUpdateOp>(
          valueState ? TypeRange(current) : TypeRange(), q, bq, h, first, k,
          bk, hk, j0, v, bv, hv, op.getScoreWeights(), op.getScale(),
          op.getBias(), visible, prefixEnd, op.getModSizes(),
          op.getModTables(), current[0], current[1], current[2],
          op.getAlign() == AlignKind::hard || modified || storeScores
              ? bIdx
              : Value(),
          storeScores ? weights : Value(), op.getCombine(), op.getAct(),
          op.getCausal(), keyTile, op.getCausalOffsetAttr(),
          op.getWindowAttr(), op.getScoreModAttr(), op.getMaskModAttr(),
          op.getWeightModAttr(), op.getBandLowerAttr(), op.getBandUpperAttr(),
          op.getAlign(), op.getSeedAttr());
    };
    auto finishTile = [&](Value first, ValueRange final) {
      Value lse = op.getLse();
      b.create<TileFinalizeOp>(final[1], final[2], context, bIdx, first, h,
                               lse ? final[0] : Value(), lse);
      if (weights)
        b.create<TileWeightsOp>(
            q, bq, h, first, k, bk, hk, op.getScoreWeights(), op.getScale(),
            op.getBias(), visible, prefixEnd, op.getModSizes(),
            op.getModTables(), final[0], final[1], weights, bIdx,
            storeScores, op.getCombine(), op.getAct(), op.getCausal(),
            op.getCausalOffsetAttr(), op.getWindowAttr(),
            op.getScoreModAttr(), op.getMaskModAttr(), op.getWeightModAttr(),
            op.getBandLowerAttr(), op.getBandUpperAttr(), op.getAlign(),
            op.getSeedAttr());
    };

    // The running state: values carried by the key loop, or buffers of the
    // query tile.
    SmallVector<Value> state;
    auto rowType = VectorType::get({queryTile}, f32);
    auto accType = VectorType::get({queryTile, dvSize}, f32);
    auto negInf = b.getF32FloatAttr(-std::numeric_limits<float>::infinity());
    auto zeroAttr = b.getF32FloatAttr(0);
    if (valueState) {
      state = {b.create<arith::ConstantOp>(
                   DenseElementsAttr::get(rowType, negInf.getValue())),
               b.create<arith::ConstantOp>(
                   DenseElementsAttr::get(rowType, zeroAttr.getValue())),
               b.create<arith::ConstantOp>(
                   DenseElementsAttr::get(accType, zeroAttr.getValue()))};
    } else {
      auto rowBuffer = MemRefType::get({queryTile}, f32);
      auto accBuffer = MemRefType::get({queryTile, dvSize}, f32);
      SmallVector<Value> dynamicDv;
      if (ShapedType::isDynamic(dvSize))
        dynamicDv.push_back(e.dim(v, 3));
      state = {b.create<memref::AllocOp>(rowBuffer),
               b.create<memref::AllocOp>(rowBuffer),
               b.create<memref::AllocOp>(accBuffer, dynamicDv)};
      Value queryTileSize = e.index(queryTile);
      e.forEach(queryTileSize, [&](Value r) {
        e.store(e.negInf(), state[0], {r});
        e.store(e.f32(0), state[1], {r});
        e.forEach(e.dim(state[2], 1), [&](Value c) {
          e.store(e.f32(0), state[2], {r, c});
        });
      });
    }

    if (group == 1) {
      auto keyLoop =
          b.create<scf::ForOp>(keys.begin, keys.end, keyStep,
                               valueState ? ValueRange(state) : ValueRange());
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(keyLoop.getBody());
        SmallVector<Value> current =
            valueState ? SmallVector<Value>(keyLoop.getRegionIterArgs())
                       : state;
        auto update = createUpdate(i0, keyLoop.getInductionVar(), current);
        if (valueState)
          b.create<scf::YieldOp>(update.getResults());
      }
      finishTile(i0, valueState ? SmallVector<Value>(keyLoop.getResults())
                                : state);
      if (!valueState)
        for (Value buffer : state)
          b.create<memref::DeallocOp>(buffer);
    } else {
      buildQueryGroup(e, group, queryTile, accType, state, i0, nq, keys,
                      keyStep,
                      [&](Value first, Value j0) -> Value {
                        // Tiles differ in their key loops only when the
                        // interval of keys moves with the query.
                        KeyInterval mask = KeyInterval::of(op, prefixEnd);
                        if (!mask.hasBegin() && !mask.hasEnd())
                          return Value();
                        auto [begin, end] =
                            tileKeyBounds(e, mask, visible, first, queryTile,
                                          keyStep, nq, nk);
                        Value sees = b.create<arith::CmpIOp>(
                            arith::CmpIPredicate::slt, j0, end);
                        if (mask.hasBegin())
                          sees = b.create<arith::AndIOp>(
                              sees, b.create<arith::CmpIOp>(
                                        arith::CmpIPredicate::sge, j0, begin));
                        return sees;
                      },
                      createUpdate, finishTile);
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
    const TargetDescription &target = hostCPU();
    if (tileSize < 0 || tileSize > target.maxKeyTile) {
      getOperation().emitError() << "tile-size must be between 1 and "
                                 << target.maxKeyTile << " (0: the target's)";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    if (queryTilesPerGroup < 0 || queryTilesPerGroup > 64) {
      getOperation().emitError()
          << "query-tiles-per-group must be between 1 and 64 (0: the target's)";
      return signalPassFailure();
    }
    populateTileAttentionPatterns(patterns, target,
                                  {tileSize, vectorize, queryTilesPerGroup});
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

void mlir::attn::populateTileAttentionPatterns(
    RewritePatternSet &patterns, const TargetDescription &target,
    const AttentionTilingOptions &options) {
  patterns.add<TileOnlineAttention>(patterns.getContext(), target, options);
  populateTileSparseAttentionPatterns(patterns, target, options);
}
