//===- ExpandBF16Conversions.cpp - bf16 <-> f32 as integer ops ------------===//
//
// -attn-expand-bf16-conversions: every arith.truncf f32 -> bf16 becomes
// integer ops that round to nearest even (NaN stays a quiet NaN), and every
// arith.extf bf16 -> f32 a shift, with upstream's expansion
// (arith::populateExpandBFloat16Patterns, what arith-expand{include-bf16}
// applies) and nothing else of arith-expand (whose maxnumf / minnumf
// expansions the kernels do not want).
//
// For CPUs without AVX512-BF16: LLVM lowers a bf16 truncation there to a
// call of __truncsfbf2 per element, which a compiled model cannot resolve
// (GCC 12's libgcc has none) and which would be scalar anyway; the integer
// form stays in vectors. attnc adds the pass on such hosts. See Passes.td
// for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEXPANDBF16CONVERSIONS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

struct AttnExpandBF16ConversionsPass
    : public attn::impl::AttnExpandBF16ConversionsBase<
          AttnExpandBF16ConversionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
