//===- NVVMNativeMath.cpp - libdevice calls -> PTX-native intrinsics ------===//
//
// -attn-nvvm-native-math: in a gpu.module after -convert-gpu-to-nvvm, a call
// of a libdevice function that is one PTX instruction (__nv_floorf,
// __nv_sqrtf, __nv_fabsf, ...) becomes the LLVM intrinsic that the NVPTX
// backend selects to that instruction, and the unused declaration goes, so
// that the PTX needs no libdevice (attnc links none: it produces PTX without
// the CUDA toolkit). A call of any other libdevice function is refused at
// its location. See Passes.td for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/StringSwitch.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNNVVMNATIVEMATH
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// The LLVM intrinsic op computing libdevice's `function` exactly, or "".
llvm::StringRef nativeIntrinsicOf(llvm::StringRef function) {
  llvm::StringRef base = function;
  if (!base.consume_front("__nv_"))
    return "";
  // The f32 forms end in 'f' (floorf); the f64 forms do not (floor), and
  // no f64 name below ends in 'f'.
  base.consume_back("f");
  return llvm::StringSwitch<llvm::StringRef>(base)
      .Case("floor", "llvm.intr.floor")
      .Case("ceil", "llvm.intr.ceil")
      .Case("trunc", "llvm.intr.trunc")
      .Case("rint", "llvm.intr.rint")
      .Case("sqrt", "llvm.intr.sqrt")
      .Case("fabs", "llvm.intr.fabs")
      .Case("fma", "llvm.intr.fma")
      .Case("fmin", "llvm.intr.minnum")
      .Case("fmax", "llvm.intr.maxnum")
      .Default("");
}

struct AttnNVVMNativeMathPass
    : public attn::impl::AttnNVVMNativeMathBase<AttnNVVMNativeMathPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp kernels = getOperation();
    bool refused = false;
    kernels.walk([&](LLVM::CallOp call) {
      std::optional<llvm::StringRef> callee = call.getCallee();
      if (!callee || !callee->starts_with("__nv_"))
        return;
      OpBuilder builder(call);
      // rsqrt(x) = 1 / sqrt(x), both correctly rounded in PTX (sqrt.rn,
      // div.rn): two instructions, no libdevice.
      if (callee->drop_back(callee->ends_with("rsqrtf") ? 1 : 0)
              .ends_with("__nv_rsqrt")) {
        Type type = call.getResultTypes().front();
        Value root = builder.create<LLVM::SqrtOp>(call.getLoc(),
                                                  call.getArgOperands()[0]);
        Value one = builder.create<LLVM::ConstantOp>(
            call.getLoc(), type, builder.getFloatAttr(type, 1.0));
        Value reciprocal =
            builder.create<LLVM::FDivOp>(call.getLoc(), one, root);
        call.replaceAllUsesWith(ValueRange{reciprocal});
        call.erase();
        return;
      }
      llvm::StringRef intrinsic = nativeIntrinsicOf(*callee);
      if (intrinsic.empty()) {
        call.emitError() << "the cuda target does not support the math "
                            "function '"
                         << callee->drop_front(5)
                         << "' in a kernel yet (it is no PTX instruction, "
                            "and attnc links no libdevice)";
        refused = true;
        return;
      }
      OperationState state(call.getLoc(), intrinsic);
      state.addOperands(call.getArgOperands());
      state.addTypes(call.getResultTypes());
      Operation *native = builder.create(state);
      call.replaceAllUsesWith(native->getResults());
      call.erase();
    });
    if (refused)
      return signalPassFailure();
    for (auto function :
         llvm::make_early_inc_range(kernels.getOps<LLVM::LLVMFuncOp>()))
      if (function.isExternal() && function.getName().starts_with("__nv_") &&
          function.symbolKnownUseEmpty(kernels))
        function.erase();
  }
};

} // namespace
