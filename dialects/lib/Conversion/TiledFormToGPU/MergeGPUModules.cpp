//===- MergeGPUModules.cpp - One gpu.module for all kernels ---------------===//
//
// -attn-merge-gpu-modules: the gpu.modules that -gpu-kernel-outlining makes,
// one per kernel, become one gpu.module (named by the module-name option)
// holding every kernel, renamed where two would clash, and every
// gpu.launch_func names the kernel in its new place. One module is one PTX
// file and one cubin per architecture. See Passes.td for the IR before and
// after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNMERGEGPUMODULES
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

struct AttnMergeGPUModulesPass
    : public attn::impl::AttnMergeGPUModulesBase<AttnMergeGPUModulesPass> {
  using AttnMergeGPUModulesBase::AttnMergeGPUModulesBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::SmallVector<gpu::GPUModuleOp> kernelModules(
        module.getOps<gpu::GPUModuleOp>());
    if (kernelModules.empty())
      return;
    MLIRContext *context = &getContext();
    if (SymbolTable::lookupSymbolIn(module, moduleName) &&
        !llvm::any_of(kernelModules, [&](gpu::GPUModuleOp m) {
          return m.getName() == moduleName;
        })) {
      module.emitError() << "attn-merge-gpu-modules: the symbol @"
                         << moduleName << " is taken";
      return signalPassFailure();
    }

    OpBuilder builder(kernelModules.front());
    auto merged = builder.create<gpu::GPUModuleOp>(
        kernelModules.front().getLoc(), "__attn_merging");
    Block &body = merged.getBodyRegion().front();
    llvm::StringSet<> taken;
    // (old module, old kernel) -> new kernel name.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp kernelModule : kernelModules) {
      StringAttr moduleSym = kernelModule.getNameAttr();
      for (Operation &op : llvm::make_early_inc_range(
               kernelModule.getBodyRegion().front().without_terminator())) {
        if (auto symbol = SymbolTable::getSymbolName(&op)) {
          std::string name = symbol.str();
          for (unsigned suffix = 1; taken.contains(name); ++suffix)
            name = (symbol.getValue() + "_" + llvm::Twine(suffix)).str();
          taken.insert(name);
          StringAttr newName = StringAttr::get(context, name);
          renamed[{moduleSym, symbol}] = newName;
          SymbolTable::setSymbolName(&op, newName);
        }
        op.moveBefore(body.getTerminator());
      }
    }
    for (gpu::GPUModuleOp kernelModule : kernelModules)
      kernelModule.erase();
    merged.setName(moduleName);

    bool dangling = false;
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it = renamed.find({launch.getKernelModuleName(),
                              launch.getKernelName()});
      if (it == renamed.end()) {
        launch.emitError() << "attn-merge-gpu-modules: the kernel "
                           << launch.getKernel() << " is in no gpu.module";
        dangling = true;
        return;
      }
      launch.setKernelAttr(SymbolRefAttr::get(
          merged.getNameAttr(), {FlatSymbolRefAttr::get(it->second)}));
    });
    if (dangling)
      signalPassFailure();
  }
};

} // namespace
