//===- GPUThreadTiles.cpp - Outermost parallel loops -> blocks of threads -===//
//
// -attn-gpu-thread-tiles: each outermost scf.parallel (its leading
// dimensions combined into one when it has more than three) is tiled with
// sizes
// (1, ..., 1, threads-per-block) by MLIR's scf::tileParallelLoop (inner
// bounds affine.min(tile, ub - iv)), so that the
// GPU mapping makes the outer loop the grid and the inner one the threads
// of a block. See Passes.td for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNGPUTHREADTILES
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

struct AttnGPUThreadTilesPass
    : public attn::impl::AttnGPUThreadTilesBase<AttnGPUThreadTilesPass> {
  using AttnGPUThreadTilesBase::AttnGPUThreadTilesBase;

  void runOnOperation() override {
    if (threadsPerBlock < 1 || threadsPerBlock > 1024) {
      getOperation().emitError()
          << "threads-per-block must be between 1 and 1024";
      return signalPassFailure();
    }
    auto outermostLoops = [&] {
      SmallVector<scf::ParallelOp> outermost;
      getOperation().walk([&](scf::ParallelOp loop) {
        if (!loop->getParentOfType<scf::ParallelOp>())
          outermost.push_back(loop);
      });
      return outermost;
    };
    // The GPU has three grid and three block dimensions, and the mapping
    // takes a loop's first three: a loop of more dimensions has its leading
    // ones combined into one (a projection over batch x head x row x
    // feature), so that the last, tiled into threads, stays mapped.
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : outermostLoops()) {
      unsigned n = loop.getNumLoops();
      if (n <= 3)
        continue;
      std::vector<unsigned> leading;
      for (unsigned i = 0; i + 2 < n; ++i)
        leading.push_back(i);
      rewriter.setInsertionPoint(loop);
      collapseParallelLoops(rewriter, loop, {leading, {n - 2}, {n - 1}});
    }
    for (scf::ParallelOp loop : outermostLoops()) {
      SmallVector<int64_t> sizes(loop.getNumLoops(), 1);
      sizes.back() = threadsPerBlock;
      // With min bounds (affine.min(tile, ub - iv), whose constant
      // convert-parallel-loops-to-gpu takes as the block size, guarding the
      // body): MLIR 19's no-min-max-bounds form scales the guard by the
      // step a second time, wrong for the query tiles' step of 8.
      scf::tileParallelLoop(loop, sizes, /*noMinMaxBounds=*/false);
    }
  }
};

} // namespace
