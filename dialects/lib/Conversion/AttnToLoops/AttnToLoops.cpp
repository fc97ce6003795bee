//===- AttnToLoops.cpp - The tiled form -> fused loops --------------------===//
//
// Lowers the tiled form of attention (attn.online_softmax_update,
// attn.tile_finalize, attn.tile_weights inside the loops of
// -attn-tile-attention) and attn.softmax to scf/vector loops with rewrite
// patterns: the blocked dot kernel (BlockedDot.cpp) where it applies, the
// generic per-query kernels (TileKernels.cpp) elsewhere. An
// attn.online_attention that was not tiled yet is tiled first, with the same
// patterns as -attn-tile-attention, so that the pass lowers either form.
// attn.softmax (output model) becomes a three-pass loop over each row.
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "attn/Conversion/AttnToLoops/AttnToLoops.h"
#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Target/TargetDescription.h"

#include "mlir/Transforms/DialectConversion.h"

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTOLOOPS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// Softmax over the last dimension: for each row, the maximum, the sum of
/// exp(x - max), then a division.
struct LowerSoftmax : public OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    Value in = op.getInput(), out = op.getOutput();
    int64_t rank = cast<MemRefType>(in.getType()).getRank();
    Value cols = e.dim(in, rank - 1);

    std::function<void(SmallVector<Value>)> rows = [&](SmallVector<Value> idx) {
      if (int64_t(idx.size()) < rank - 1) {
        e.forEach(e.dim(in, idx.size()), [&](Value iv) {
          SmallVector<Value> next = idx;
          next.push_back(iv);
          rows(next);
        });
        return;
      }
      auto at = [&](Value j) {
        SmallVector<Value> full = idx;
        full.push_back(j);
        return full;
      };
      Value max =
          e.loop(e.index(0), cols, {e.negInf()}, [&](Value j, ValueRange m) {
             return SmallVector<Value>{
                 b.create<arith::MaximumFOp>(m[0], e.load(in, at(j)))};
           }).getResult(0);
      Value sum =
          e.loop(e.index(0), cols, {e.f32(0)}, [&](Value j, ValueRange s) {
             Value p = e.exp(e.sub(e.load(in, at(j)), max));
             e.store(p, out, at(j));
             return SmallVector<Value>{e.add(s[0], p)};
           }).getResult(0);
      Value inv = b.create<arith::DivFOp>(e.f32(1), sum);
      e.forEach(cols, [&](Value j) {
        e.store(e.mul(e.load(out, at(j)), inv), out, at(j));
      });
    };
    rows({});
    rewriter.eraseOp(op);
    return success();
  }
};

struct ConvertAttnToLoopsPass
    : public attn::impl::ConvertAttnToLoopsBase<ConvertAttnToLoopsPass> {
  using ConvertAttnToLoopsBase::ConvertAttnToLoopsBase;

  void runOnOperation() override {
    const TargetDescription *description =
        lookupTarget(getOperation(), vectorISA);
    if (!description)
      return signalPassFailure();
    const TargetDescription &target = *description;
    AttentionTilingOptions options{tileSize,  vectorize,       queryTilesPerGroup,
                                   splitKeys, singleQueryCopy, amxTiles};
    if (failed(checkTilingOptions(getOperation(), target, options)))
      return signalPassFailure();
    MLIRContext *context = &getContext();
    RewritePatternSet tiling(context);
    populateTileAttentionPatterns(tiling, target, options);
    populateMultiDimensionalPatterns(tiling, target);
    RewritePatternSet kernels(context);
    populateBlockedDotPatterns(kernels, target, bf16DotProducts, amxTiles,
                               bf16VectorDots);
    populateBlockedWeightsPatterns(kernels, target,
                                   bf16DotProducts && bf16VectorDots);
    populateTileKernelPatterns(kernels, target);
    populateSparseAlignmentPatterns(kernels, target);
    populateSoftmaxToLoopsPatterns(kernels);
    // attn.attention must have been decomposed first.
    WalkResult undecomposed = getOperation().walk([](AttentionOp op) {
      op.emitError("attn.attention must be decomposed by "
                   "-attn-decompose-scores before -convert-attn-to-loops");
      return WalkResult::interrupt();
    });
    if (undecomposed.wasInterrupted())
      return signalPassFailure();

    // First the tiled form, then a kernel for each of its ops: dialect
    // conversion, so that the IR of the kernels is what they build (no
    // folding on the way) and an op no kernel takes is an error.
    ConversionTarget untiled(*context);
    untiled.addIllegalOp<OnlineAttentionOp>();
    untiled.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    ConversionTarget lowered(*context);
    lowered.addIllegalOp<OnlineAttentionOp, OnlineSoftmaxUpdateOp,
                         TileFinalizeOp, TileWeightsOp, SoftmaxOp,
                         TileScoresOp, TileSparseAlignOp>();
    lowered.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), untiled,
                                      std::move(tiling))) ||
        failed(applyPartialConversion(getOperation(), lowered,
                                      std::move(kernels)))) {
      signalPassFailure();
      return;
    }
    loops::sinkWideningCopies(getOperation());
    loops::storeOutputsInPlace(getOperation());
  }
};

} // namespace

void mlir::attn::populateSoftmaxToLoopsPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerSoftmax>(patterns.getContext());
}
