//===- DecomposeScores.cpp - attn.attention -> attn.online_attention ------===//
//
// Rewrites attn.attention into attn.linear ops that precompute everything of
// the score that does not depend on the (query, key) pair, followed by one
// attn.online_attention whose score is a dot product, an additive
// combination or a cosine, as the score function's row of the table in
// ScoreFunctions.h says (see also Passes.td), with one rewrite pattern. Temporary buffers are allocated right before the op and freed
// right after it.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDECOMPOSESCORES
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Emits `attn.linear` of a [B, H, N, I] tensor with a shared [O, I] or
/// per-head [H', O, I] weight into a new [B, H or H', N, O] buffer.
/// Appends the buffer to `temporaries`.
Value project(OpBuilder &b, Location loc, Value input, Value weight, Value bias,
              SmallVectorImpl<Value> &temporaries) {
  auto rank = [](Value v) { return cast<MemRefType>(v.getType()).getRank(); };
  // The heads of the result: those of a per-head weight or bias, else the
  // input's.
  OpFoldResult heads =
      rank(weight) == 3         ? memref::getMixedSize(b, loc, weight, 0)
      : bias && rank(bias) == 2 ? memref::getMixedSize(b, loc, bias, 0)
                                : memref::getMixedSize(b, loc, input, 1);
  SmallVector<OpFoldResult> sizes = {
      memref::getMixedSize(b, loc, input, 0), heads,
      memref::getMixedSize(b, loc, input, 2),
      memref::getMixedSize(b, loc, weight, rank(weight) - 2)};
  Value out = allocF32Buffer(b, loc, sizes);
  b.create<LinearOp>(loc, input, weight, bias, out);
  temporaries.push_back(out);
  return out;
}

/// Loads a scalar parameter stored as memref<f32> or memref<1xf32>.
Value loadScalar(OpBuilder &b, Location loc, Value param) {
  auto type = cast<MemRefType>(param.getType());
  SmallVector<Value> indices;
  if (type.getRank() == 1)
    indices.push_back(b.create<arith::ConstantIndexOp>(loc, 0));
  return b.create<memref::LoadOp>(loc, param, indices);
}

/// 1 / sqrt(Dk) as an f32 value; 1 when Dk = 0 (the dot products are then
/// 0, and must not become 0 * inf).
Value inverseSqrtOfKeySize(OpBuilder &b, Location loc, Value keys) {
  OpFoldResult dk = memref::getMixedSize(b, loc, keys, 3);
  if (std::optional<int64_t> c = getConstantIntValue(dk))
    return b.create<arith::ConstantOp>(
        loc, b.getF32FloatAttr(*c == 0 ? 1.0f : 1.0f / std::sqrt(float(*c))));
  Value size = cast<Value>(dk);
  Value asInt = b.create<arith::IndexCastOp>(loc, b.getI64Type(), size);
  Value asFloat = b.create<arith::SIToFPOp>(loc, b.getF32Type(), asInt);
  Value isEmpty =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, size,
                              b.create<arith::ConstantIndexOp>(loc, 0));
  Value one = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(1.0f));
  return b.create<arith::SelectOp>(loc, isEmpty, one,
                                   b.create<math::RsqrtOp>(loc, asFloat));
}

/// Reads the decomposition from the score function's row of the table: the
/// parameters' roles say which projections run before the key loop, and
/// the row gives the combine and its scale.
void decompose(AttentionOp op, PatternRewriter &b) {
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  const ScoreFunction &function = op.getScoreFunction();
  auto param = [&](ScoreParamRole role) -> Value {
    std::optional<unsigned> index = function.getParamIndex(role);
    return index ? op.getParams()[*index] : Value();
  };
  Value q = op.getQuery(), k = op.getKeys();
  SmallVector<Value> temporaries;
  if (Value weight = param(ScoreParamRole::QueryMap))
    q = project(b, loc, q, weight, param(ScoreParamRole::QueryBias),
                temporaries);
  if (Value weight = param(ScoreParamRole::KeyMap))
    k = project(b, loc, k, weight, Value(), temporaries);
  Value scale;
  switch (function.scale) {
  case ScoreScale::None:
    break;
  case ScoreScale::InverseSqrtKeySize:
    scale = inverseSqrtOfKeySize(b, loc, op.getKeys());
    break;
  }
  Value bias;
  if (Value scalar = param(ScoreParamRole::CombineBias))
    bias = loadScalar(b, loc, scalar);

  b.create<OnlineAttentionOp>(
      loc, q, k, op.getValues(), param(ScoreParamRole::CombineWeights), scale,
      bias, op.getLengths(), op.getPrefix(), op.getModSizes(),
      op.getModTables(), op.getOutput(), op.getWeights(), op.getLse(),
      function.combine, op.getAct(), op.getCausal(), op.getCausalOffsetAttr(),
      op.getWindowAttr(), op.getScoreModAttr(), op.getMaskModAttr(),
      op.getWeightModAttr(), op.getKeyRangeAttr(),
      op.getBandLowerAttr(), op.getBandUpperAttr(), op.getAlign(),
      op.getSeedAttr());
  for (Value temporary : temporaries)
    b.create<memref::DeallocOp>(loc, temporary);
  b.eraseOp(op);
}

struct DecomposeAttention : public OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    decompose(op, rewriter);
    return success();
  }
};

struct AttnDecomposeScoresPass
    : public attn::impl::AttnDecomposeScoresBase<AttnDecomposeScoresPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateDecomposeScoresPatterns(patterns);
    ConversionTarget target(getContext());
    target.addIllegalOp<AttentionOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::attn::populateDecomposeScoresPatterns(RewritePatternSet &patterns) {
  patterns.add<DecomposeAttention>(patterns.getContext());
}
