//===- DeviceBuffers.cpp - Host buffers of a CUDA library -> device memory -===//
//
// -attn-device-buffers: in a host function of a CUDA library (kernels
// outlined), memref.alloc -> gpu.alloc and memref.dealloc -> gpu.dealloc;
// any other host op that reads or writes a memref is refused at its
// location (the memory is the device's). See Passes.td for the IR before
// and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "DeviceMemory.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDEVICEBUFFERS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

struct AttnDeviceBuffersPass
    : public attn::impl::AttnDeviceBuffersBase<AttnDeviceBuffersPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    bool refused = false;
    // Post-order: erasing the op being visited is safe.
    function.walk([&](Operation *op) {
      auto alloc = dyn_cast<memref::AllocOp>(op);
      if (alloc && attn::isDeviceData(alloc.getMemref())) {
        OpBuilder builder(alloc);
        auto device = builder.create<gpu::AllocOp>(
            alloc.getLoc(), alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/false);
        alloc.replaceAllUsesWith(device.getMemref());
        alloc.erase();
        return WalkResult::advance();
      }
      auto dealloc = dyn_cast<memref::DeallocOp>(op);
      if (dealloc && attn::isDeviceData(dealloc.getMemref())) {
        OpBuilder builder(dealloc);
        builder.create<gpu::DeallocOp>(dealloc.getLoc(), /*asyncToken=*/Type(),
                                       /*asyncDependencies=*/ValueRange(),
                                       dealloc.getMemref());
        dealloc.erase();
        return WalkResult::advance();
      }
      // Launches and the gpu ops made here: device work, not host access.
      if (isa_and_nonnull<gpu::GPUDialect>(op->getDialect()))
        return WalkResult::advance();
      if (attn::accessesDeviceData(op)) {
        op->emitError() << "the cuda target does not support '"
                        << op->getName()
                        << "' in the host code of a library yet (it would "
                           "read or write device memory on the host)";
        refused = true;
      }
      return WalkResult::advance();
    });
    if (refused)
      signalPassFailure();
  }
};

} // namespace
