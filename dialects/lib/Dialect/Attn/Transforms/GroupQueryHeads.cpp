//===- GroupQueryHeads.cpp - A query per head of a group -> queries -------===//
//
// Rewrites an attn.online_attention with one query per head (a decoder's
// step) and grouped-query heads (Hq = g Hk query heads, g > 1, each group
// sharing one key and value head) into the same attention over Hk heads of
// g queries: the query heads of a group become the queries of their key
// head. Only the views change (memref.reinterpret_cast, no copy):
//
//   queries [B, Hq, 1, D]   -> [B, Hk, g, D]
//   context [B, 1, Hq, Dv]  -> [B, g, Hk, Dv]  (strides [Hq Dv, Dv, g Dv, 1])
//   weights [B, Hq, 1, Nk]  -> [B, Hk, g, Nk]
//   lse     [B, Hq, 1]      -> [B, Hk, g]
//
// Query head h = hk g + r is query r of head hk. The tiled form then gives
// a group one query tile, which reads the keys and values once for its g
// query heads where each head read them before (BlockedDot.cpp reads them
// in place for such a tile).
//
// Only what does not depend on a query's position or head is grouped: a
// dot or cosine softmax with no modifier, key range, window, band, prefix
// or causal offset. A causal mask over one query masks nothing (the query
// is aligned with the last key) and is dropped.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNGROUPQUERYHEADS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The query heads per key head when `op` can be grouped, else 0.
int64_t groupSize(OnlineAttentionOp op) {
  auto type = [](Value v) { return cast<MemRefType>(v.getType()); };
  MemRefType q = type(op.getQuery()), k = type(op.getKeys()),
             v = type(op.getValues());
  int64_t hq = q.getDimSize(1), hk = k.getDimSize(1);
  if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hk) || hk < 1 ||
      hq <= hk || hq % hk != 0 || v.getDimSize(1) != hk || q.getDimSize(2) != 1)
    return 0;
  bool positionFree =
      (op.getCombine() == ScoreCombine::dot ||
       op.getCombine() == ScoreCombine::cosine) &&
      op.getAlign() == AlignKind::softmax && !op.getScoreWeights() &&
      !op.getPrefix() && !op.getCausalOffsetAttr() && !op.getWindowAttr() &&
      !op.getScoreModAttr() && !op.getMaskModAttr() && !op.getWeightModAttr() &&
      !op.getKeyRangeAttr() && !op.getBandLowerAttr() && !op.getBandUpperAttr();
  // Views of row-major buffers only (their strides are then known here).
  auto rowMajor = [&](Value m) {
    return !m || type(m).getLayout().isIdentity();
  };
  if (!positionFree || !rowMajor(op.getQuery()) || !rowMajor(op.getOutput()) ||
      !rowMajor(op.getWeights()) || !rowMajor(op.getLse()))
    return 0;
  // The static sizes after the batch (the strides of the views).
  auto staticTail = [&](Value m) {
    if (!m)
      return true;
    ArrayRef<int64_t> shape = type(m).getShape();
    return llvm::none_of(shape.drop_front(),
                         [](int64_t s) { return ShapedType::isDynamic(s); });
  };
  // (weights [B, Hq, 1, Nk]: Nk may be dynamic, the view's strides then
  // are values.)
  if (!staticTail(op.getQuery()) || !staticTail(op.getOutput()) ||
      !staticTail(op.getLse()))
    return 0;
  return hq / hk;
}

/// `m` [B, ...] seen as `shape` (the batch kept; a dynamic size is that
/// of `m`'s dimension `dynamicDim`) with `strides` in elements.
Value view(OpBuilder &b, Location loc, Value m, ArrayRef<int64_t> shape,
           int64_t dynamicDim, ArrayRef<OpFoldResult> strides) {
  SmallVector<OpFoldResult> sizes;
  for (auto [i, s] : llvm::enumerate(shape))
    sizes.push_back(
        ShapedType::isDynamic(s)
            ? memref::getMixedSize(b, loc, m, i == 0 ? 0 : dynamicDim)
            : OpFoldResult(b.getIndexAttr(s)));
  SmallVector<int64_t> staticStrides;
  for (OpFoldResult s : strides)
    staticStrides.push_back(
        getConstantIntValue(s).value_or(ShapedType::kDynamic));
  Type elem = cast<MemRefType>(m.getType()).getElementType();
  // A row-major view keeps the identity layout.
  auto type = MemRefType::get(shape, elem);
  SmallVector<int64_t> rowMajor;
  int64_t offset;
  if (failed(getStridesAndOffset(type, rowMajor, offset)) ||
      rowMajor != staticStrides)
    type = MemRefType::get(
        shape, elem, StridedLayoutAttr::get(b.getContext(), 0, staticStrides));
  return b.create<memref::ReinterpretCastOp>(loc, type, m, b.getIndexAttr(0),
                                             sizes, strides);
}

struct AttnGroupQueryHeadsPass
    : public attn::impl::AttnGroupQueryHeadsBase<AttnGroupQueryHeadsPass> {
  void runOnOperation() override {
    getOperation().walk([&](OnlineAttentionOp op) {
      int64_t g = groupSize(op);
      if (g == 0)
        return;
      auto shape = [](Value v) {
        return cast<MemRefType>(v.getType()).getShape();
      };
      int64_t hq = shape(op.getQuery())[1], hk = hq / g;
      int64_t d = shape(op.getQuery())[3], dv = shape(op.getOutput())[3];
      OpBuilder b(op);
      Location loc = op.getLoc();
      // Batch sizes (dim 0) stay those of the operand.
      auto withBatch = [](Value m, SmallVector<int64_t> rest) {
        rest.insert(rest.begin(), cast<MemRefType>(m.getType()).getDimSize(0));
        return rest;
      };
      auto idx = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
      Value q =
          view(b, loc, op.getQuery(), withBatch(op.getQuery(), {hk, g, d}), 0,
               {idx(hq * d), idx(g * d), idx(d), idx(1)});
      Value context =
          view(b, loc, op.getOutput(), withBatch(op.getOutput(), {g, hk, dv}),
               0, {idx(hq * dv), idx(dv), idx(g * dv), idx(1)});
      Value weights, lse;
      if (Value w = op.getWeights()) {
        // [B, Hq, 1, Nk] with Nk static or not.
        OpFoldResult nk = memref::getMixedSize(b, loc, w, 3);
        auto times = [&](int64_t c) -> OpFoldResult {
          if (auto n = getConstantIntValue(nk))
            return idx(c * *n);
          return b
              .create<arith::MulIOp>(loc,
                                     b.create<arith::ConstantIndexOp>(loc, c),
                                     cast<Value>(nk))
              .getResult();
        };
        weights = view(b, loc, w, withBatch(w, {hk, g, shape(w)[3]}), 3,
                       {times(hq), times(g), nk, idx(1)});
      }
      if (Value l = op.getLse())
        lse = view(b, loc, l, withBatch(l, {hk, g}), 0,
                   {idx(hq), idx(g), idx(1)});
      op.getQueryMutable().assign(q);
      op.getOutputMutable().assign(context);
      if (weights)
        op.getWeightsMutable().assign(weights);
      if (lse)
        op.getLseMutable().assign(lse);
      op.setCausal(false);
    });
  }
};

} // namespace
