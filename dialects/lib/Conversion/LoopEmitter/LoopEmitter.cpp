//===- LoopEmitter.cpp - Helpers of the lowerings to loops ----------------===//
//
// The mask and head arithmetic every loop form of attention shares, so that
// the tiling pass (loop bounds) and the kernels (per-key masks) agree.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"

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

Value mlir::attn::loops::inverseOrZero(Emitter &e, Value l) {
  Value positive =
      e.b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, l, e.f32(0));
  return e.b.create<arith::SelectOp>(
      positive, e.b.create<arith::DivFOp>(e.f32(1), l), e.f32(0));
}

std::optional<int64_t>
mlir::attn::loops::vectorizableSize(Value value, int64_t maxElements) {
  auto type = cast<MemRefType>(value.getType());
  int64_t size = type.getDimSize(type.getRank() - 1);
  if (!type.getLayout().isIdentity() || ShapedType::isDynamic(size) ||
      size < 1 || size > maxElements)
    return std::nullopt;
  return size;
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
