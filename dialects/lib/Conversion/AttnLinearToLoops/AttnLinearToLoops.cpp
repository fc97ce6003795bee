//===- AttnLinearToLoops.cpp - attn.linear -> vector loops ----------------===//
//
// Lowers attn.linear, with a rewrite pattern, when its input size I and
// output size O are static (O at most the target's maxVectorElements) and
// its operands contiguous: W is transposed once per call into W^T
// [H', I, O], and each output row is one vector<O> accumulator that gets
// x[i] * W^T[i, :] for every i (one broadcast and a few FMAs per i, no
// horizontal reduction), starting from the bias; rows go in blocks (the
// target's projectionRowBlock), whose FMA chains are independent and share
// the loads of W^T. Other attn.linear ops are left to
// convert-attn-to-linalg.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Conversion/Passes.h"
#include "attn/Target/TargetDescription.h"

#include "mlir/Transforms/DialectConversion.h"

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNLINEARTOLOOPS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// Whether `op` has static I and O (O at most `maxElements`) and contiguous
/// operands.
bool canVectorizeLinear(LinearOp op, int64_t maxElements) {
  auto inType = cast<MemRefType>(op.getInput().getType());
  auto wType = cast<MemRefType>(op.getWeight().getType());
  auto isContiguous = [](Value v) {
    return cast<MemRefType>(v.getType()).getLayout().isIdentity();
  };
  int64_t in = inType.getDimSize(inType.getRank() - 1);
  return vectorizableSize(op.getOutput(), maxElements) &&
         !ShapedType::isDynamic(in) && in > 0 && isContiguous(op.getInput()) &&
         isContiguous(op.getWeight()) &&
         (!op.getBias() || isContiguous(op.getBias())) &&
         !ShapedType::isDynamic(wType.getDimSize(0));
}

void lowerVectorLinear(LinearOp op, PatternRewriter &rewriter,
                       const TargetDescription &target) {
  const int64_t rowBlock = target.projectionRowBlock;
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  Emitter e{b};
  Value x = op.getInput(), w = op.getWeight(), bias = op.getBias(),
        out = op.getOutput();
  auto xType = cast<MemRefType>(x.getType());
  auto wType = cast<MemRefType>(w.getType());
  bool perHead = wType.getRank() == 3, inputHeads = xType.getRank() == 4,
       outputHeads = cast<MemRefType>(out.getType()).getRank() == 4;
  int64_t in = xType.getDimSize(xType.getRank() - 1);
  int64_t outSize = *vectorizableSize(out, target.maxVectorElements);
  int64_t weightHeads = perHead ? wType.getDimSize(0) : 1;
  Type f32 = b.getF32Type();
  auto rowType = VectorType::get({outSize}, f32);
  Value zero = e.index(0);

  // W^T [H', I, O]: row i of a head holds W[(h,) :, i], contiguous.
  Value wt = b.create<memref::AllocOp>(
      MemRefType::get({weightHeads, in, outSize}, f32));
  e.forEach(e.index(weightHeads), [&](Value h) {
    e.forEach(e.index(outSize), [&](Value o) {
      e.forEach(e.index(in), [&](Value i) {
        Value value = perHead ? e.load(w, {h, o, i}) : e.load(w, {o, i});
        e.store(value, wt, {h, i, o});
      });
    });
  });

  // Blocks of rowBlock output rows: acc_r = bias + sum_i x_r[i] W^T[i, :],
  // the rows' independent FMA chains sharing each load of W^T. Rows past
  // the end are clamped to the last one (recomputed and rewritten alike).
  auto emitRows = [&](Value bIdx, Value h, Value n0, Value rows) {
    Value init = e.splat(rowType, e.f32(0));
    if (bias) {
      bool biasPerHead = cast<MemRefType>(bias.getType()).getRank() == 2;
      init = biasPerHead ? e.vload(rowType, bias, {h, zero})
                         : e.vload(rowType, bias, {zero});
    }
    Value lastRow = e.maxIdx(b.create<arith::SubIOp>(rows, e.index(1)), zero);
    SmallVector<Value> ns;
    for (int64_t r = 0; r < rowBlock; ++r)
      ns.push_back(e.minIdx(b.create<arith::AddIOp>(n0, e.index(r)), lastRow));
    auto xIndex = [&](Value n, Value i) {
      SmallVector<Value> at = {bIdx};
      if (inputHeads)
        at.push_back(xType.getDimSize(1) == 1 ? zero : h);
      at.append({n, i});
      return at;
    };
    Value wHead = perHead ? h : zero;
    SmallVector<Value> inits(rowBlock, init);
    auto accs = e.loop(zero, e.index(in), inits, [&](Value i, ValueRange a) {
      Value row = e.vload(rowType, wt, {wHead, i, zero});
      SmallVector<Value> next;
      for (int64_t r = 0; r < rowBlock; ++r) {
        Value xi = e.splat(rowType, e.load(x, xIndex(ns[r], i)));
        next.push_back(b.create<vector::FMAOp>(xi, row, a[r]));
      }
      return next;
    });
    for (int64_t r = 0; r < rowBlock; ++r) {
      SmallVector<Value> outIndex = {bIdx};
      if (outputHeads)
        outIndex.push_back(h);
      outIndex.append({ns[r], zero});
      b.create<vector::StoreOp>(accs.getResult(r), out, outIndex);
    }
  };

  int64_t rank = cast<MemRefType>(out.getType()).getRank();
  Value rows = e.dim(out, rank - 2), step = e.index(rowBlock);
  auto forRowBlocks = [&](Value bIdx, Value h) {
    e.loop(zero, rows, step, {}, [&](Value n0, ValueRange) {
      emitRows(bIdx, h, n0, rows);
      return SmallVector<Value>{};
    });
  };
  e.forEach(e.dim(out, 0), [&](Value bIdx) {
    if (!outputHeads)
      return forRowBlocks(bIdx, zero);
    e.forEach(e.dim(out, 1), [&](Value h) { forRowBlocks(bIdx, h); });
  });
  b.create<memref::DeallocOp>(wt);
  rewriter.eraseOp(op);
}

struct LowerLinearToVectorLoops : public OpRewritePattern<LinearOp> {
  LowerLinearToVectorLoops(MLIRContext *context,
                           const TargetDescription &target)
      : OpRewritePattern(context), target(target) {}

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (!canVectorizeLinear(op, target.maxVectorElements))
      return rewriter.notifyMatchFailure(op, "dynamic or large sizes");
    lowerVectorLinear(op, rewriter, target);
    return success();
  }

  const TargetDescription &target;
};

struct ConvertAttnLinearToLoopsPass
    : public attn::impl::ConvertAttnLinearToLoopsBase<
          ConvertAttnLinearToLoopsPass> {
  void runOnOperation() override {
    const TargetDescription &target = hostCPU();
    RewritePatternSet patterns(&getContext());
    populateAttnLinearToLoopsPatterns(patterns, target);
    // The other attn.linear ops are left to convert-attn-to-linalg.
    ConversionTarget legality(getContext());
    legality.addDynamicallyLegalOp<LinearOp>([&](LinearOp op) {
      return !canVectorizeLinear(op, target.maxVectorElements);
    });
    legality.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), legality,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::attn::populateAttnLinearToLoopsPatterns(
    RewritePatternSet &patterns, const TargetDescription &target) {
  patterns.add<LowerLinearToVectorLoops>(patterns.getContext(), target);
}
