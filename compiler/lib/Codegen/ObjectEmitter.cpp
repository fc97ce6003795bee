//===- ObjectEmitter.cpp - LLVM dialect -> optimized LLVM IR -> machine code
//===//
//
// Translates the lowered module to LLVM IR, tunes it for the target CPU
// (target-cpu/target-features on every function, so that the vectorizers
// use AVX-512 where the host has it), gives every symbol but the ABI's
// hidden visibility, optimizes it with LLVM's pipeline, and emits assembly
// or an object file with the target machine.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Codegen.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

std::unique_ptr<llvm::TargetMachine>
attnc::createTargetMachine(llvm::StringRef target, unsigned optLevel,
                           std::string &error) {
  if (target != "host") {
    error = ("unknown target '" + target +
             "' (supported: host; GPU targets are planned)")
                .str();
    return nullptr;
  }
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getProcessTriple();
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return nullptr;
  llvm::SubtargetFeatures features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features.AddFeature(feature.first(), feature.second);
  llvm::CodeGenOptLevel level = optLevel == 0   ? llvm::CodeGenOptLevel::None
                                : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                : optLevel == 2
                                    ? llvm::CodeGenOptLevel::Default
                                    : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(),
      llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt, level));
  if (!machine)
    error = "cannot create a target machine for " + triple;
  return std::unique_ptr<llvm::TargetMachine>(std::move(machine));
}

std::unique_ptr<llvm::Module>
attnc::translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                            llvm::TargetMachine &machine, unsigned optLevel) {
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "attnc");
  if (!llvmModule) {
    emitError(module.getLoc(), "failed to translate the module to LLVM IR");
    return nullptr;
  }
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple().getTriple());
  std::string cpu = machine.getTargetCPU().str();
  std::string features = machine.getTargetFeatureString().str();
  for (llvm::Function &fn : *llvmModule) {
    if (fn.isDeclaration())
      continue;
    fn.addFnAttr("target-cpu", cpu);
    fn.addFnAttr("target-features", features);
    if (!fn.getName().starts_with("attnc_") && !fn.hasLocalLinkage())
      fn.setVisibility(llvm::GlobalValue::HiddenVisibility);
  }
  for (llvm::GlobalVariable &global : llvmModule->globals())
    if (!global.isDeclaration() && !global.hasLocalLinkage())
      global.setVisibility(llvm::GlobalValue::HiddenVisibility);

  auto optimize =
      makeOptimizingTransformer(optLevel, /*sizeLevel=*/0, &machine);
  if (llvm::Error err = optimize(llvmModule.get())) {
    emitError(module.getLoc())
        << "LLVM optimization failed: " << llvm::toString(std::move(err));
    return nullptr;
  }
  return llvmModule;
}

LogicalResult attnc::emitMachineCode(llvm::Module &module,
                                     llvm::TargetMachine &machine,
                                     llvm::raw_pwrite_stream &os, bool assembly,
                                     std::string &error) {
  llvm::legacy::PassManager pm;
  auto fileType = assembly ? llvm::CodeGenFileType::AssemblyFile
                           : llvm::CodeGenFileType::ObjectFile;
  if (machine.addPassesToEmitFile(pm, os, nullptr, fileType)) {
    error = "the target cannot emit this file type";
    return failure();
  }
  pm.run(module);
  return success();
}
