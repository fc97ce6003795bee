//===- OpenMPSchedule.cpp - A cyclic schedule for the parallel loops ------===//
//
// -attn-omp-schedule: every omp.wsloop without a schedule gets
// `schedule(static, chunk)` (chunk 1 by default), an i64 constant made
// right before it. -convert-scf-to-openmp leaves the schedule to the
// runtime's default, contiguous blocks of iterations, which splits the
// query tiles of a causal attention 1/4 : 3/4 between two threads; taken in
// turn they split about evenly. See Passes.td for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
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
    getOperation().walk([&](omp::WsloopOp loop) {
      if (loop.getScheduleValAttr())
        return; // A schedule someone chose.
      OpBuilder b(loop);
      Value size = b.create<LLVM::ConstantOp>(
          loop.getLoc(), b.getI64Type(), b.getI64IntegerAttr(chunk));
      loop.setScheduleValAttr(omp::ClauseScheduleKindAttr::get(
          b.getContext(), omp::ClauseScheduleKind::Static));
      loop.getScheduleChunkVarMutable().assign(size);
    });
  }
};

} // namespace
