//===- OpenMPSchedule.cpp - A cyclic schedule for the parallel loops ------===//
//
// -attn-omp-schedule: every omp.wsloop without a schedule or reductions
// gets `schedule(static, chunk)` (chunk 1 by default), an i64 constant made
// right before it, and its omp.parallel is put under an scf.if that skips
// it when the loop nest has no iteration (libomp's static chunked
// schedule divides by the trip count: SIGFPE on an empty loop).
// -convert-scf-to-openmp leaves the schedule to the runtime's default,
// contiguous blocks of iterations, which splits the query tiles of a causal
// attention 1/4 : 3/4 between two threads; taken in turn they split about
// evenly. See Passes.td for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNOPENMPSCHEDULE
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

struct AttnOpenMPSchedulePass
    : public attn::impl::AttnOpenMPScheduleBase<AttnOpenMPSchedulePass> {
  using AttnOpenMPScheduleBase::AttnOpenMPScheduleBase;

  void runOnOperation() override {
    if (chunk < 1) {
      getOperation().emitError() << "attn-omp-schedule: chunk must be at "
                                    "least 1, not "
                                 << static_cast<int64_t>(chunk);
      return signalPassFailure();
    }
    SmallVector<omp::WsloopOp> loops;
    getOperation().walk([&](omp::WsloopOp loop) { loops.push_back(loop); });
    for (omp::WsloopOp loop : loops) {
      // A schedule someone chose, or reductions, stay as they are.
      if (loop.getScheduleValAttr() || !loop.getReductionVars().empty())
        continue;
      auto nest = dyn_cast<omp::LoopNestOp>(loop.getWrappedLoop());
      auto parallel = dyn_cast<omp::ParallelOp>(loop->getParentOp());
      if (!nest || !parallel || !guardNonEmpty(parallel, nest))
        continue;
      OpBuilder b(loop);
      Value size = b.create<LLVM::ConstantOp>(
          loop.getLoc(), b.getI64Type(), b.getI64IntegerAttr(chunk));
      loop.setScheduleValAttr(omp::ClauseScheduleKindAttr::get(
          b.getContext(), omp::ClauseScheduleKind::Static));
      loop.getScheduleChunkVarMutable().assign(size);
    }
  }

  /// Moves `parallel` into `scf.if (lb_0 < ub_0 && ...)` over the bounds of
  /// `nest`; false (nothing changed) when a bound is defined inside it.
  static bool guardNonEmpty(omp::ParallelOp parallel, omp::LoopNestOp nest) {
    for (ValueRange bounds : {nest.getLowerBound(), nest.getUpperBound()})
      for (Value bound : bounds)
        if (parallel.getRegion().isAncestor(bound.getParentRegion()))
          return false;
    OpBuilder b(parallel);
    Location loc = parallel.getLoc();
    Value nonEmpty;
    for (auto [lb, ub] :
         llvm::zip(nest.getLowerBound(), nest.getUpperBound())) {
      Value dim = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lb,
                                          ub);
      nonEmpty = nonEmpty ? b.create<arith::AndIOp>(loc, nonEmpty, dim) : dim;
    }
    auto guard = b.create<scf::IfOp>(loc, nonEmpty, /*withElseRegion=*/false);
    parallel->moveBefore(guard.thenBlock()->getTerminator());
    return true;
  }
};

} // namespace
