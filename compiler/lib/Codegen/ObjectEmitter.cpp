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

#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/PassInstrumentation.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/IPO/GlobalDCE.h"
#include "llvm/Transforms/IPO/SCCP.h"

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
attnc::translateToLLVMIR(ModuleOp module, llvm::LLVMContext &context,
                         llvm::TargetMachine &machine) {
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
  return llvmModule;
}

namespace {

/// Times LLVM's passes in an MLIR timing scope: one timer per pass name,
/// nested in the scope, counting a pass's own time (a pass that runs other
/// passes, as the inliner's CGSCC walk does, is paused while they run).
/// Pass managers and adaptors only dispatch, and the Require/Invalidate
/// helpers only run analyses: their time stays with the enclosing pass, or
/// the scope's remainder.
class LLVMPassTimer {
public:
  LLVMPassTimer(TimingScope &scope, llvm::PassInstrumentationCallbacks &pic)
      : scope(scope) {
    pic.registerBeforeNonSkippedPassCallback(
        [this](llvm::StringRef pass, llvm::Any) { begin(pass); });
    pic.registerAfterPassCallback(
        [this](llvm::StringRef pass, llvm::Any,
               const llvm::PreservedAnalyses &) { end(pass); });
    pic.registerAfterPassInvalidatedCallback(
        [this](llvm::StringRef pass, const llvm::PreservedAnalyses &) {
          end(pass);
        });
  }

private:
  static bool dispatchesOnly(llvm::StringRef pass) {
    return pass.contains("PassManager") || pass.contains("PassAdaptor") ||
           pass.contains("AnalysisManagerProxy") ||
           pass.starts_with("DevirtSCCRepeatedPass") ||
           pass.starts_with("ModuleInlinerWrapperPass") ||
           pass.starts_with("RequireAnalysisPass") ||
           pass.starts_with("InvalidateAnalysisPass");
  }
  void begin(llvm::StringRef pass) {
    if (dispatchesOnly(pass))
      return;
    running.stop();
    stack.push_back(pass.str());
    running = scope.nest(stack.back());
  }
  void end(llvm::StringRef pass) {
    if (dispatchesOnly(pass) || stack.empty())
      return;
    running.stop();
    stack.pop_back();
    if (!stack.empty())
      running = scope.nest(stack.back());
  }

  TimingScope &scope;
  TimingScope running;
  llvm::SmallVector<std::string> stack;
};

/// Whether `loop` (with the loops it holds) only moves data: loads, stores,
/// address and integer arithmetic, integer compares and selects, no
/// floating-point operation, no vector, no call but integer min/max. These
/// are the copies around the kernels (weights transposed once per call, keys
/// packed into panels, zero fills).
bool onlyMovesData(const llvm::Loop &loop) {
  bool stores = false;
  for (const llvm::BasicBlock *block : loop.blocks()) {
    for (const llvm::Instruction &inst : *block) {
      if (inst.getType()->isVectorTy())
        return false;
      if (auto *call = dyn_cast<llvm::IntrinsicInst>(&inst)) {
        switch (call->getIntrinsicID()) {
        case llvm::Intrinsic::smin:
        case llvm::Intrinsic::smax:
        case llvm::Intrinsic::umin:
        case llvm::Intrinsic::umax:
          continue;
        default:
          return false;
        }
      }
      if (auto *store = dyn_cast<llvm::StoreInst>(&inst)) {
        if (store->getValueOperand()->getType()->isVectorTy())
          return false;
        stores = true;
        continue;
      }
      // Loads, selects and phis may carry floats: they move them. Casts
      // must not compute on them.
      if (isa<llvm::LoadInst, llvm::GetElementPtrInst, llvm::PHINode,
              llvm::BranchInst, llvm::ICmpInst, llvm::SelectInst>(inst) ||
          (isa<llvm::BinaryOperator, llvm::CastInst>(inst) &&
           !inst.getType()->isFloatingPointTy() &&
           !inst.getOperand(0)->getType()->isFloatingPointTy()))
        continue;
      return false;
    }
  }
  return stores;
}

/// Keeps the loops that only move data rolled (llvm.loop.unroll.disable on
/// each loop of such a nest; the vectorizer still runs on them): they are
/// memory-bound, so unrolling them buys nothing, but with static sizes LLVM
/// unrolled them fully, and the loops around them (each [4, 16, 64] weight
/// of the Transformer example, transposed once per call, became 64
/// vectorized loops of 4 scatters, unrolled), which made most of the
/// machine code of a model and most of its compile time.
void keepCopyLoopsRolled(llvm::Module &module) {
  llvm::LLVMContext &context = module.getContext();
  llvm::MDNode *disable = llvm::MDNode::get(
      context, llvm::MDString::get(context, "llvm.loop.unroll.disable"));
  for (llvm::Function &fn : module) {
    if (fn.isDeclaration())
      continue;
    llvm::DominatorTree domTree(fn);
    llvm::LoopInfo loops(domTree);
    for (llvm::Loop *loop : loops.getLoopsInPreorder()) {
      if (!onlyMovesData(*loop))
        continue;
      // A loop ID is a distinct node whose first operand is itself.
      llvm::SmallVector<llvm::Metadata *> operands = {nullptr};
      if (llvm::MDNode *old = loop->getLoopID())
        operands.append(old->op_begin() + 1, old->op_end());
      operands.push_back(disable);
      llvm::MDNode *id = llvm::MDNode::getDistinct(context, operands);
      id->replaceOperandWith(0, id);
      loop->setLoopID(id);
    }
  }
}

/// LLVM's analyses, registered with `builder` and with each other, for a
/// module pass manager to run with.
struct Analyses {
  explicit Analyses(llvm::PassBuilder &builder) {
    builder.registerModuleAnalyses(moduleAM);
    builder.registerCGSCCAnalyses(cgsccAM);
    builder.registerFunctionAnalyses(functionAM);
    builder.registerLoopAnalyses(loopAM);
    builder.crossRegisterProxies(loopAM, functionAM, cgsccAM, moduleAM);
  }
  llvm::LoopAnalysisManager loopAM;
  llvm::FunctionAnalysisManager functionAM;
  llvm::CGSCCAnalysisManager cgsccAM;
  llvm::ModuleAnalysisManager moduleAM;
};

} // namespace

void attnc::dropUnreachableFunctions(llvm::Module &module) {
  llvm::PassBuilder builder;
  Analyses analyses(builder);
  llvm::ModulePassManager pm;
  pm.addPass(llvm::IPSCCPPass());
  pm.addPass(llvm::GlobalDCEPass());
  pm.run(module, analyses.moduleAM);
}

void attnc::optimizeLLVMModule(llvm::Module &module,
                               llvm::TargetMachine &machine, unsigned optLevel,
                               bool autoVectorize, TimingScope *timing) {
  llvm::OptimizationLevel level = optLevel == 0   ? llvm::OptimizationLevel::O0
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  // Scalar code stays scalar (--vectorize=false, the GPU schedule on the
  // host): LLVM's vectorizers took half of such a model's compile time
  // re-vectorizing loops the pipeline was asked to leave scalar.
  tuning.LoopVectorization = autoVectorize;
  tuning.SLPVectorization = autoVectorize;

  llvm::PassInstrumentationCallbacks callbacks;
  std::optional<LLVMPassTimer> passTimer;
  if (timing && *timing)
    passTimer.emplace(*timing, callbacks);
  llvm::PassBuilder builder(&machine, tuning, std::nullopt, &callbacks);
  Analyses analyses(builder);

  if (level != llvm::OptimizationLevel::O0)
    keepCopyLoopsRolled(module);
  llvm::ModulePassManager pm =
      level == llvm::OptimizationLevel::O0
          ? builder.buildO0DefaultPipeline(level)
          : builder.buildPerModuleDefaultPipeline(level);
  pm.run(module, analyses.moduleAM);
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
