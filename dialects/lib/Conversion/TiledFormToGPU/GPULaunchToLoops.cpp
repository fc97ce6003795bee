//===- GPULaunchToLoops.cpp - gpu.launch -> sequential loops on the host --===//
//
// -attn-gpu-launch-to-loops: a gpu.launch (as -convert-parallel-loops-to-gpu
// makes it from the tiled form) becomes a nest of scf.for loops over its
// grid and block (z, y, x, outermost first) whose body is the launch's body
// with the block and thread ids replaced by the loops' induction variables
// and the grid and block sizes by the launch's operands. Static private
// buffers (memref.alloca with no operands at the top of the body) are made
// once before the nest: each iteration of a fresh buffer starts undefined,
// and one thread at a time runs, so one buffer serves them all (and no
// stack grows per iteration). This is the GPU schedule (same tiles, index
// arithmetic, masks and private scratch) compiled for the CPU, so that the
// mapping is tested where no GPU exists. See Passes.td for the IR before
// and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNGPULAUNCHTOLOOPS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

struct AttnGPULaunchToLoopsPass
    : public attn::impl::AttnGPULaunchToLoopsBase<AttnGPULaunchToLoopsPass> {
  void runOnOperation() override {
    llvm::SmallVector<gpu::LaunchOp> launches;
    getOperation().walk([&](gpu::LaunchOp launch) {
      launches.push_back(launch);
    });
    for (gpu::LaunchOp launch : launches) {
      if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
          launch.getDynamicSharedMemorySize() || launch.hasClusterSize() ||
          !launch.getWorkgroupAttributions().empty() ||
          !launch.getPrivateAttributions().empty() ||
          !launch.getBody().hasOneBlock()) {
        launch.emitError("attn-gpu-launch-to-loops: only a synchronous "
                         "launch of one block, without shared memory or "
                         "clusters, runs as loops");
        return signalPassFailure();
      }
      bool barrier = false;
      launch.getBody().walk([&](gpu::BarrierOp) { barrier = true; });
      if (barrier) {
        launch.emitError("attn-gpu-launch-to-loops: a launch with barriers "
                         "has no sequential form");
        return signalPassFailure();
      }

      OpBuilder builder(launch);
      Location loc = launch.getLoc();
      IRMapping mapping;
      gpu::KernelDim3 gridArgs = launch.getGridSize();
      gpu::KernelDim3 blockArgs = launch.getBlockSize();
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
      mapping.map(gridArgs.x, grid.x);
      mapping.map(gridArgs.y, grid.y);
      mapping.map(gridArgs.z, grid.z);
      mapping.map(blockArgs.x, block.x);
      mapping.map(blockArgs.y, block.y);
      mapping.map(blockArgs.z, block.z);

      Block &body = launch.getBody().front();
      llvm::SmallPtrSet<Operation *, 8> privateBuffers;
      for (Operation &op : body.without_terminator())
        if (auto alloca = dyn_cast<memref::AllocaOp>(op);
            alloca && alloca->getNumOperands() == 0) {
          builder.clone(op, mapping);
          privateBuffers.insert(&op);
        }

      Value zero = builder.create<arith::ConstantIndexOp>(loc, 0);
      Value one = builder.create<arith::ConstantIndexOp>(loc, 1);
      llvm::SmallVector<Value> upperBounds = {grid.z,  grid.y,  grid.x,
                                              block.z, block.y, block.x};
      llvm::SmallVector<Value> lowerBounds(upperBounds.size(), zero);
      llvm::SmallVector<Value> steps(upperBounds.size(), one);
      gpu::KernelDim3 blockIds = launch.getBlockIds();
      gpu::KernelDim3 threadIds = launch.getThreadIds();
      scf::buildLoopNest(
          builder, loc, lowerBounds, upperBounds, steps,
          [&](OpBuilder &nested, Location, ValueRange ivs) {
            mapping.map(blockIds.z, ivs[0]);
            mapping.map(blockIds.y, ivs[1]);
            mapping.map(blockIds.x, ivs[2]);
            mapping.map(threadIds.z, ivs[3]);
            mapping.map(threadIds.y, ivs[4]);
            mapping.map(threadIds.x, ivs[5]);
            for (Operation &op : body.without_terminator())
              if (!privateBuffers.contains(&op))
                nested.clone(op, mapping);
          });
      launch.erase();
    }
  }
};

} // namespace
