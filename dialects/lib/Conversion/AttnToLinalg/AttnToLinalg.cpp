//===- AttnToLinalg.cpp - attn.linear/activation -> linalg.generic --------===//
//
// attn.linear becomes an initialization of the output (linalg.fill with 0,
// or a broadcast of the bias) followed by a linalg.generic that accumulates
// input * weight with a reduction over the input dimension; the indexing
// maps place the head dimension (see the layouts in AttnOps.td).
// attn.activation becomes an elementwise linalg.generic.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTOLINALG
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Loop dimensions of a linear map: (b, [h,] n, o, i).
struct LinearLoops {
  bool hasHeads;
  unsigned numLoops;
  unsigned b = 0, h = 1, n, o, i;
  explicit LinearLoops(bool hasHeads)
      : hasHeads(hasHeads), numLoops(hasHeads ? 5 : 4), n(hasHeads ? 2 : 1),
        o(hasHeads ? 3 : 2), i(hasHeads ? 4 : 3) {}
};

struct LinearOpLowering : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto inType = cast<MemRefType>(op.getInput().getType());
    auto wType = cast<MemRefType>(op.getWeight().getType());
    bool perHead = wType.getRank() == 3;
    bool inHasHeads = inType.getRank() == 4;
    LinearLoops loops(perHead || inHasHeads);
    auto d = [&](unsigned pos) { return getAffineDimExpr(pos, ctx); };
    AffineExpr zero = getAffineConstantExpr(0, ctx);

    // The input's head index: broadcast when it has a single (static) head.
    SmallVector<AffineExpr> inExprs = {d(loops.b)};
    if (inHasHeads)
      inExprs.push_back(inType.getDimSize(1) == 1 ? zero : d(loops.h));
    inExprs.append({d(loops.n), d(loops.i)});
    SmallVector<AffineExpr> wExprs, biasExprs, outExprs = {d(loops.b)};
    if (perHead)
      wExprs.push_back(d(loops.h));
    if (op.getBias() && cast<MemRefType>(op.getBias().getType()).getRank() == 2)
      biasExprs.push_back(d(loops.h));
    wExprs.append({d(loops.o), d(loops.i)});
    biasExprs.push_back(d(loops.o));
    if (loops.hasHeads)
      outExprs.push_back(d(loops.h));
    outExprs.append({d(loops.n), d(loops.o)});

    unsigned n = loops.numLoops;
    AffineMap inMap = AffineMap::get(n, 0, inExprs, ctx);
    AffineMap wMap = AffineMap::get(n, 0, wExprs, ctx);
    AffineMap outMap = AffineMap::get(n, 0, outExprs, ctx);
    SmallVector<utils::IteratorType> iterators(n,
                                               utils::IteratorType::parallel);
    iterators[loops.i] = utils::IteratorType::reduction;

    Value out = op.getOutput();
    if (Value bias = op.getBias()) {
      // out[b, (h,) n, o] = bias[(h,) o]: a parallel generic over the
      // output's dims (the same loops without the reduction).
      unsigned np = n - 1;
      auto drop = [&](ArrayRef<AffineExpr> exprs) {
        return AffineMap::get(np, 0, exprs, ctx);
      };
      SmallVector<utils::IteratorType> parallel(np,
                                                utils::IteratorType::parallel);
      rewriter.create<linalg::GenericOp>(
          loc, ValueRange{bias}, ValueRange{out},
          ArrayRef<AffineMap>{drop(biasExprs), drop(outExprs)}, parallel,
          [](OpBuilder &b, Location loc, ValueRange args) {
            b.create<linalg::YieldOp>(loc, args[0]);
          });
    } else {
      Value zeroF = rewriter.create<arith::ConstantOp>(
          loc, rewriter.getF32FloatAttr(0.0f));
      rewriter.create<linalg::FillOp>(loc, zeroF, out);
    }
    rewriter.create<linalg::GenericOp>(
        loc, ValueRange{op.getInput(), op.getWeight()}, ValueRange{out},
        ArrayRef<AffineMap>{inMap, wMap, outMap}, iterators,
        [](OpBuilder &b, Location loc, ValueRange args) {
          // The reduction may be reassociated (and contracted to FMAs):
          // that is what lets LLVM vectorize the loop over the input.
          auto fastMath = arith::FastMathFlagsAttr::get(
              b.getContext(),
              arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
          Value product =
              b.create<arith::MulFOp>(loc, args[0], args[1], fastMath);
          Value sum = b.create<arith::AddFOp>(loc, args[2], product, fastMath);
          b.create<linalg::YieldOp>(loc, sum);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct ActivationOpLowering : public OpRewritePattern<ActivationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<MemRefType>(op.getInput().getType());
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(type.getRank(), op.getContext());
    SmallVector<utils::IteratorType> parallel(type.getRank(),
                                              utils::IteratorType::parallel);
    Activation act = op.getKind();
    rewriter.create<linalg::GenericOp>(
        op.getLoc(), ValueRange{op.getInput()}, ValueRange{op.getOutput()},
        ArrayRef<AffineMap>{identity, identity}, parallel,
        [act](OpBuilder &b, Location loc, ValueRange args) {
          b.create<linalg::YieldOp>(loc, buildActivation(b, loc, act, args[0]));
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct ConvertAttnToLinalgPass
    : public attn::impl::ConvertAttnToLinalgBase<ConvertAttnToLinalgPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addLegalDialect<linalg::LinalgDialect, arith::ArithDialect,
                           math::MathDialect, memref::MemRefDialect>();
    target.addIllegalOp<LinearOp, ActivationOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    patterns.add<LinearOpLowering, ActivationOpLowering>(&getContext());
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
