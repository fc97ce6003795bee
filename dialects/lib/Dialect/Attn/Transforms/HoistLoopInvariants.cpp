//===- HoistLoopInvariants.cpp - LICM that leaves AMX tiles in place ------===//
//
// Moves the loop-invariant, side-effect-free ops of every loop out of it,
// as upstream's -loop-invariant-code-motion does, except ops of the amx
// dialect: a tile value must stay inside the loops that use it (see the
// pass description in Passes.td: an amx.tile_zero hoisted out of the
// parallel loop crashes LLVM's instruction selection once OpenMP outlines
// the body).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNHOISTLOOPINVARIANTS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct AttnHoistLoopInvariantsPass
    : public attn::impl::AttnHoistLoopInvariantsBase<
          AttnHoistLoopInvariantsPass> {
  void runOnOperation() override {
    // Inner loops first, so that what leaves an inner loop can leave the
    // loops around it too.
    getOperation()->walk([](LoopLikeOpInterface loop) {
      moveLoopInvariantCode(
          loop.getLoopRegions(),
          [&](Value value, Region *) {
            return loop.isDefinedOutsideOfLoop(value);
          },
          [](Operation *op, Region *) {
            return !isa<amx::AMXDialect>(op->getDialect()) &&
                   isMemoryEffectFree(op) && isSpeculatable(op);
          },
          [&](Operation *op, Region *) { loop.moveOutOfLoop(op); });
    });
  }
};
} // namespace
