//===- PrivatizeTileScratch.cpp - Tile scratch -> private memory ----------===//
//
// -attn-privatize-tile-scratch: a memref.alloc of static shape inside an
// scf.parallel (the kernels' per-tile scratch of the tiled form) becomes a
// memref.alloca at the start of that loop's body, and its memref.deallocs
// are erased, so that once the loop is a GPU kernel every thread keeps its
// scratch in local memory (or registers) instead of allocating from the
// device heap per block. Allocations outside parallel loops stay on the
// host side. An allocation of dynamic size in a parallel loop, or more
// private memory than the option allows, is refused at its location. See
// Passes.td for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/DenseMap.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNPRIVATIZETILESCRATCH
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// Bytes of a statically shaped memref of int or float elements.
int64_t staticBytes(MemRefType type) {
  unsigned bits = type.getElementTypeBitWidth();
  return type.getNumElements() * int64_t((bits + 7) / 8);
}

struct AttnPrivatizeTileScratchPass
    : public attn::impl::AttnPrivatizeTileScratchBase<
          AttnPrivatizeTileScratchPass> {
  using AttnPrivatizeTileScratchBase::AttnPrivatizeTileScratchBase;

  void runOnOperation() override {
    llvm::SmallVector<memref::AllocOp> scratch;
    bool refused = false;
    getOperation().walk([&](memref::AllocOp alloc) {
      if (!alloc->getParentOfType<scf::ParallelOp>())
        return;
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat()) {
        alloc.emitError()
            << "the cuda target does not support scratch memory of dynamic "
               "size per query tile yet ("
            << type << " in the parallel loop of the tiled form)";
        refused = true;
        return;
      }
      scratch.push_back(alloc);
    });
    if (refused)
      return signalPassFailure();

    // The private bytes of each parallel loop's iteration, to refuse what
    // would not fit a thread's stack.
    llvm::DenseMap<Operation *, int64_t> bytesPerLoop;
    for (memref::AllocOp alloc : scratch) {
      auto loop = alloc->getParentOfType<scf::ParallelOp>();
      int64_t &bytes = bytesPerLoop[loop];
      bytes += staticBytes(alloc.getType());
      if (bytes > maxPrivateBytes) {
        alloc.emitError() << "the cuda target keeps per-tile scratch in "
                             "private memory, and this parallel loop needs "
                             "more than "
                          << static_cast<int64_t>(maxPrivateBytes)
                          << " bytes of it (at " << alloc.getType() << ")";
        return signalPassFailure();
      }
    }

    for (memref::AllocOp alloc : scratch) {
      // At the start of the iteration: an alloca inside an inner loop would
      // be a dynamic stack allocation, which the NVPTX backend lowers
      // poorly. A fresh allocation's contents are undefined, so one buffer
      // per iteration of the parallel loop is the same program.
      auto loop = alloc->getParentOfType<scf::ParallelOp>();
      OpBuilder builder(loop.getBody(), loop.getBody()->begin());
      auto alloca = builder.create<memref::AllocaOp>(
          alloc.getLoc(), alloc.getType(), alloc.getAlignmentAttr());
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      alloc.replaceAllUsesWith(alloca.getResult());
      alloc.erase();
    }
  }
};

} // namespace
