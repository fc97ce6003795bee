//===- LoopEmitter.cpp - Helpers of the lowerings to loops ----------------===//
//
// The mask and head arithmetic every loop form of attention shares, so that
// the tiling pass (loop bounds) and the kernels (per-key masks) agree.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::attn::loops;

Value mlir::attn::loops::headGroupSize(Emitter &e, Value queryHeads,
                                       Value heads) {
  Value size =
      e.b.create<arith::DivUIOp>(queryHeads, e.maxIdx(heads, e.index(1)));
  return e.maxIdx(size, e.index(1));
}

Value mlir::attn::loops::visibleKeyCount(Emitter &e, Value lengths, Value b,
                                         Value nk) {
  if (!lengths)
    return nk;
  Value len =
      e.b.create<arith::IndexCastOp>(e.b.getIndexType(), e.load(lengths, {b}));
  return e.minIdx(e.maxIdx(len, e.index(0)), nk);
}

Value mlir::attn::loops::visibleKeyEnd(Emitter &e, bool causal, Value visible,
                                       Value i, Value nq, Value nk) {
  if (!causal)
    return visible;
  Value last =
      e.b.create<arith::SubIOp>(e.b.create<arith::AddIOp>(i, e.index(1)),
                                e.b.create<arith::SubIOp>(nq, nk));
  return e.maxIdx(e.minIdx(visible, last), e.index(0));
}

std::pair<Value, Value>
mlir::attn::loops::visibleKeyRange(Emitter &e, const KeyInterval &mask,
                                   Value visible, Value i, Value nq, Value nk) {
  if (!mask.hasEnd() && !mask.hasBegin())
    return {Value(), visible};
  Value end = visible, begin;
  if (mask.causal || mask.window) {
    // i' + 1 = i + 1 - (Nq - Nk): one past the query's aligned position.
    Value alignedEnd =
        e.b.create<arith::SubIOp>(e.b.create<arith::AddIOp>(i, e.index(1)),
                                  e.b.create<arith::SubIOp>(nq, nk));
    if (mask.causal) {
      Value last = alignedEnd;
      if (mask.causalOffset != 0)
        last = e.b.create<arith::AddIOp>(last, e.index(mask.causalOffset));
      if (mask.prefixEnd)
        last = e.maxIdx(last, mask.prefixEnd);
      end = e.minIdx(end, last);
    }
    if (mask.window) {
      end = e.minIdx(end, alignedEnd);
      begin = e.maxIdx(
          e.b.create<arith::SubIOp>(alignedEnd, e.index(*mask.window)),
          e.index(0));
    }
  }
  // The band is relative to the query's own index.
  if (mask.bandUpper)
    end = e.minIdx(end, e.b.create<arith::AddIOp>(
                            i, e.index(*mask.bandUpper + 1)));
  if (mask.bandLower) {
    Value first = e.maxIdx(
        e.b.create<arith::AddIOp>(i, e.index(*mask.bandLower)), e.index(0));
    begin = begin ? e.maxIdx(begin, first) : first;
  }
  return {begin, e.maxIdx(end, e.index(0))};
}

std::pair<Value, Value>
mlir::attn::loops::tileKeyBounds(Emitter &e, const KeyInterval &mask,
                                 Value visible, Value i0, Value queries,
                                 Value keyStep, Value nq, Value nk) {
  ImplicitLocOpBuilder &builder = e.b;
  Value begin = e.index(0), end = visible;
  if (mask.hasEnd()) {
    std::optional<int64_t> count = getConstantIntValue(queries);
    Value last = builder.create<arith::AddIOp>(
        i0, count ? e.index(*count - 1)
                  : builder.create<arith::SubIOp>(queries, e.index(1)));
    Value tileLast =
        e.minIdx(last, builder.create<arith::SubIOp>(nq, e.index(1)));
    end = visibleKeyRange(e, mask, visible, tileLast, nq, nk).second;
  }
  if (mask.hasBegin()) {
    Value firstKey = visibleKeyRange(e, mask, visible, i0, nq, nk).first;
    begin = builder.create<arith::MulIOp>(
        builder.create<arith::DivUIOp>(firstKey, keyStep), keyStep);
  }
  return {begin, end};
}

TileKeyLoop mlir::attn::loops::tileKeyLoop(Emitter &e, OnlineAttentionOp op,
                                           Value b, Value h, Value i0,
                                           int64_t queryTile, Value keyStep,
                                           Value nq, Value nk, Value queries) {
  ImplicitLocOpBuilder &builder = e.b;
  Value zero = e.index(0), one = e.index(1);
  TileKeyLoop loop;
  loop.visible = visibleKeyCount(e, op.getLengths(), b, nk);
  loop.prefixEnd =
      op.getPrefix() ? visibleKeyCount(e, op.getPrefix(), b, nk) : Value();
  KeyInterval mask = KeyInterval::of(op, loop.prefixEnd);
  std::tie(loop.begin, loop.end) =
      tileKeyBounds(e, mask, loop.visible, i0,
                    queries ? queries : e.index(queryTile), keyStep, nq, nk);
  // A key range from data (a predicted window): the union of the tile's
  // queries' ranges, which need not move with the query.
  if (FlatSymbolRefAttr range = op.getKeyRangeAttr()) {
    assert(!queries && "a key range function needs a static query count");
    Value lo, hi;
    Value lastQuery = builder.create<arith::SubIOp>(nq, one);
    for (int64_t r = 0; r < queryTile; ++r) {
      Value i =
          e.minIdx(builder.create<arith::AddIOp>(i0, e.index(r)), lastQuery);
      SmallVector<Value> args = {b, h, i};
      args.append(op.getModSizes().begin(), op.getModSizes().end());
      for (Value table : op.getModTables()) {
        Type wanted = getModifierTableType(cast<ShapedType>(table.getType()));
        args.push_back(table.getType() == wanted
                           ? table
                           : builder.create<memref::CastOp>(wanted, table));
      }
      auto call = builder.create<func::CallOp>(
          range, TypeRange{builder.getIndexType(), builder.getIndexType()},
          args);
      lo = lo ? builder.create<arith::MinSIOp>(lo, call.getResult(0))
                    .getResult()
              : call.getResult(0);
      hi = hi ? builder.create<arith::MaxSIOp>(hi, call.getResult(1))
                    .getResult()
              : call.getResult(1);
    }
    Value first = e.maxIdx(lo, zero);
    loop.begin = e.maxIdx(
        loop.begin, builder.create<arith::MulIOp>(
                        builder.create<arith::DivUIOp>(first, keyStep), keyStep));
    loop.end = e.minIdx(loop.end,
                        e.maxIdx(builder.create<arith::AddIOp>(hi, one), zero));
  }
  return loop;
}

Value mlir::attn::loops::Emitter::expWeight(Value x) {
  auto constant = [&](double c) -> Value {
    if (auto type = dyn_cast<VectorType>(x.getType()))
      return splat(type, f32(c));
    return f32(c);
  };
  Value negligible = b.create<arith::CmpFOp>(
      arith::CmpFPredicate::OLT, x,
      constant(kNegligibleWeightLog2 * 0.69314718055994531));
  return b.create<arith::SelectOp>(negligible, constant(0.0), exp(x));
}

SmallVector<Value> mlir::attn::loops::modifierOperands(Emitter &e,
                                                      ValueRange sizes,
                                                      ValueRange tables) {
  SmallVector<Value> operands(sizes.begin(), sizes.end());
  for (Value table : tables) {
    Type wanted = getModifierTableType(cast<ShapedType>(table.getType()));
    operands.push_back(table.getType() == wanted
                           ? table
                           : e.b.create<memref::CastOp>(wanted, table));
  }
  return operands;
}

Value mlir::attn::loops::applyScoreModifiers(
    Emitter &e, FlatSymbolRefAttr scoreMod, FlatSymbolRefAttr maskMod,
    Value score, Value b, Value h, Value i, Value j, ValueRange operands) {
  auto args = [&](std::optional<Value> first) {
    SmallVector<Value> all;
    if (first)
      all.push_back(*first);
    all.append({b, h, i, j});
    all.append(operands.begin(), operands.end());
    return all;
  };
  // A vector of keys: each function applied lane-wise (expanded into
  // vector code by -attn-expand-lanewise-calls).
  auto vector = dyn_cast<VectorType>(score.getType());
  auto call = [&](FlatSymbolRefAttr callee, Type type,
                  SmallVector<Value> operands) -> Value {
    if (vector)
      return e.b.create<LanewiseCallOp>(vector.clone(type), callee, operands);
    return e.b.create<func::CallOp>(callee, type, operands).getResult(0);
  };
  if (scoreMod)
    score = call(scoreMod, e.b.getF32Type(), args(score));
  if (maskMod) {
    Value keep = call(maskMod, e.b.getI1Type(), args(std::nullopt));
    Value negInf = vector ? e.splat(vector, e.negInf()) : e.negInf();
    score = e.b.create<arith::SelectOp>(keep, score, negInf);
  }
  return score;
}

Value mlir::attn::loops::inverseOrZero(Emitter &e, Value l) {
  Value positive =
      e.b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, l, e.f32(0));
  return e.b.create<arith::SelectOp>(
      positive, e.b.create<arith::DivFOp>(e.f32(1), l), e.f32(0));
}

Value mlir::attn::loops::rowStateAt(Emitter &e, Value state, int64_t r) {
  if (isa<VectorType>(state.getType()))
    return e.b.create<vector::ExtractOp>(state, ArrayRef<int64_t>{r});
  return e.load(state, {e.index(r)});
}

std::optional<int64_t>
mlir::attn::loops::vectorizableSize(Value value, int64_t maxElements) {
  if (!cast<MemRefType>(value.getType()).getLayout().isIdentity())
    return std::nullopt;
  return vectorizableRows(value, maxElements);
}

std::optional<int64_t>
mlir::attn::loops::vectorizableRows(Value value, int64_t maxElements) {
  auto type = cast<MemRefType>(value.getType());
  int64_t size = type.getDimSize(type.getRank() - 1), offset;
  SmallVector<int64_t> strides;
  if (failed(getStridesAndOffset(type, strides, offset)) ||
      strides.back() != 1 || ShapedType::isDynamic(size) || size < 1 ||
      size > maxElements)
    return std::nullopt;
  return size;
}

Value mlir::attn::loops::viewRoot(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

scf::ParallelOp mlir::attn::loops::outermostParallelLoop(Operation *op) {
  scf::ParallelOp outermost;
  for (auto loop = op->getParentOfType<scf::ParallelOp>(); loop;
       loop = loop->getParentOfType<scf::ParallelOp>())
    outermost = loop;
  return outermost;
}

Value mlir::attn::loops::allocateTileScratch(RewriterBase &rewriter,
                                             Operation *op, MemRefType type) {
  OpBuilder::InsertionGuard guard(rewriter);
  Location loc = op->getLoc();
  if (auto parallel = op->getParentOfType<scf::ParallelOp>()) {
    Block *body = parallel.getBody();
    rewriter.setInsertionPointToStart(body);
    Value buffer = rewriter.create<memref::AllocOp>(loc, type);
    rewriter.setInsertionPoint(body->getTerminator());
    rewriter.create<memref::DeallocOp>(loc, buffer);
    return buffer;
  }
  rewriter.setInsertionPoint(op);
  Value buffer = rewriter.create<memref::AllocOp>(loc, type);
  rewriter.setInsertionPointAfter(op);
  rewriter.create<memref::DeallocOp>(loc, buffer);
  return buffer;
}
