//===- OpenMPThreadScratch.cpp - Per-thread stack scratch -----------------===//
//
// -attn-omp-thread-scratch: a static memref.alloc made at the start of each
// iteration of an omp.loop_nest and freed at its end (the kernels' per-tile
// scratch) becomes one memref.alloca per thread at the start of the
// enclosing omp.parallel region: no malloc, free or runtime bookkeeping per
// tile. The memref.alloca_scope around each loop body is then inlined when
// it holds no alloca (the canonicalizer keeps those that hold a
// memref.prefetch). See Passes.td for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNOPENMPTHREADSCRATCH
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

struct AttnOpenMPThreadScratchPass
    : public attn::impl::AttnOpenMPThreadScratchBase<
          AttnOpenMPThreadScratchPass> {
  using AttnOpenMPThreadScratchBase::AttnOpenMPThreadScratchBase;

  void runOnOperation() override {
    SmallVector<std::pair<memref::AllocOp, memref::DeallocOp>> moves;
    getOperation().walk([&](memref::AllocOp alloc) {
      if (memref::DeallocOp dealloc = perIterationScratch(alloc))
        moves.emplace_back(alloc, dealloc);
    });
    for (auto [alloc, dealloc] : moves) {
      auto parallel = alloc->getParentOfType<omp::ParallelOp>();
      OpBuilder b(&parallel.getRegion().front(),
                  parallel.getRegion().front().begin());
      auto alloca = b.create<memref::AllocaOp>(alloc.getLoc(), alloc.getType(),
                                               b.getI64IntegerAttr(64));
      dealloc.erase();
      alloc.getResult().replaceAllUsesWith(alloca.getResult());
      alloc.erase();
    }
    inlineScopesWithoutAllocas();
  }

  /// The memref.alloca_scope that convert-scf-to-openmp wraps each loop
  /// body in must go before scf-to-cf (a scope holds one block). The
  /// canonicalizer inlines only scopes whose ops all declare they allocate
  /// no stack memory, and memref.prefetch declares no memory effects at
  /// all: a kernel that prefetches would keep its scope. Inlined here: the
  /// scopes of a loop nest's body with no result and no memref.alloca in
  /// them.
  void inlineScopesWithoutAllocas() {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation().walk([&](memref::AllocaScopeOp scope) {
      bool allocates =
          scope
              .walk([](memref::AllocaOp) { return WalkResult::interrupt(); })
              .wasInterrupted();
      if (isa<omp::LoopNestOp>(scope->getParentOp()) &&
          scope->getNumResults() == 0 && !allocates &&
          scope.getBodyRegion().hasOneBlock())
        scopes.push_back(scope);
    });
    for (memref::AllocaScopeOp scope : scopes) {
      Block &body = scope.getBodyRegion().front();
      body.getTerminator()->erase();
      scope->getBlock()->getOperations().splice(Block::iterator(scope),
                                                body.getOperations());
      scope.erase();
    }
  }

  /// The dealloc of `alloc` when it is per-iteration scratch this pass
  /// moves: a static shape within maxBytes, made directly in an
  /// omp.loop_nest's body (or in the alloca_scope that wraps it) inside an
  /// omp.wsloop of an omp.parallel, freed once in the same block.
  memref::DeallocOp perIterationScratch(memref::AllocOp alloc) const {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !type.getElementType().isIntOrFloat() ||
        type.getNumElements() * type.getElementTypeBitWidth() >
            8 * static_cast<int64_t>(maxBytes))
      return nullptr;
    Operation *parent = alloc->getParentOp();
    if (isa<memref::AllocaScopeOp>(parent))
      parent = parent->getParentOp();
    auto nest = dyn_cast<omp::LoopNestOp>(parent);
    if (!nest || !isa_and_nonnull<omp::WsloopOp>(nest->getParentOp()) ||
        !isa_and_nonnull<omp::ParallelOp>(nest->getParentOp()->getParentOp()))
      return nullptr;
    memref::DeallocOp dealloc;
    for (Operation *user : alloc->getUsers()) {
      auto free = dyn_cast<memref::DeallocOp>(user);
      if (!free)
        continue;
      if (dealloc || free->getBlock() != alloc->getBlock())
        return nullptr;
      dealloc = free;
    }
    return dealloc;
  }
};

} // namespace
