//===- Pipelines.cpp - attnc's named pass pipelines -----------------------===//

#include "attnc/Pipeline/Pipelines.h"

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/BufferizableOpInterfaceImpl.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/AMX/AMXToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void attnc::buildBufferizePipeline(OpPassManager &pm) {
  // MLIRGen's tensors become buffers: each output computed in its argument
  // (empty-tensor elimination makes the init of the value that is
  // materialized into an output that output), the other values allocated
  // and freed by the ownership-based deallocation.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizationOptions bufferization;
  // Copies (into the slices of a concatenation, or into an output that
  // could not be written in place) as loops, not calls of MLIR's runtime
  // library, which compiled models do not link.
  bufferization.memCpyFn = [](OpBuilder &b, Location loc, Value from,
                              Value to) {
    b.create<linalg::CopyOp>(loc, from, to);
    return success();
  };
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);
  pm.addPass(createBufferizationToMemRefPass());
  pm.addPass(createCanonicalizerPass());
}

void attnc::buildAttnToLoopsPipeline(OpPassManager &pm,
                                     const PipelineOptions &options) {
  if (options.bufferize)
    buildBufferizePipeline(pm);
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  funcPm.addPass(attn::createAttnDecomposeScores());
  // One query per head of a group: the group's heads become the queries of
  // one head, whose tile reads the keys once for the group.
  if (options.vectorize)
    funcPm.addPass(attn::createAttnGroupQueryHeads());
  // The schedule (query tiles in parallel, key tiles in sequence, masks as
  // loop bounds) is explicit IR before the kernels are chosen.
  attn::AttnTileAttentionOptions tileOptions;
  tileOptions.tileSize = options.tileSize;
  tileOptions.vectorize = options.vectorize;
  tileOptions.queryTilesPerGroup = options.queryTilesPerGroup;
  tileOptions.splitKeys = options.splitKeys;
  tileOptions.singleQueryCopy = options.singleQueryCopy;
  tileOptions.amxTiles = options.amxTiles;
  tileOptions.vectorISA = options.vectorISA;
  funcPm.addPass(attn::createAttnTileAttention(tileOptions));
  // An additive score's key projection moves into the key loop, a tile at
  // a time; then static-size projections become vector loops (W packed
  // before the parallel loop for those inside it), the others go through
  // linalg.
  if (options.vectorize) {
    if (options.fuseKeyProjections)
      funcPm.addPass(attn::createAttnFuseKeyProjections());
    attn::ConvertAttnLinearToLoopsOptions linearOptions;
    linearOptions.vectorISA = options.vectorISA;
    funcPm.addPass(attn::createConvertAttnLinearToLoops(linearOptions));
  }
  funcPm.addPass(attn::createConvertAttnToLinalg());
  attn::ConvertAttnToLoopsOptions loopOptions;
  loopOptions.tileSize = options.tileSize;
  loopOptions.vectorize = options.vectorize;
  loopOptions.queryTilesPerGroup = options.queryTilesPerGroup;
  loopOptions.splitKeys = options.splitKeys;
  loopOptions.singleQueryCopy = options.singleQueryCopy;
  loopOptions.bf16DotProducts = options.bf16DotProducts;
  loopOptions.amxTiles = options.amxTiles;
  loopOptions.bf16VectorDots = options.bf16VectorDots;
  loopOptions.vectorISA = options.vectorISA;
  funcPm.addPass(attn::createConvertAttnToLoops(loopOptions));
  if (options.parallelLinalgLoops)
    funcPm.addPass(createConvertLinalgToParallelLoopsPass());
  else
    funcPm.addPass(createConvertLinalgToLoopsPass());
  if (options.optLevel > 0) {
    funcPm.addPass(attn::createAttnApproximateMath());
    funcPm.addPass(createCanonicalizerPass());
    funcPm.addPass(createCSEPass());
    funcPm.addPass(attn::createAttnHoistLoopInvariants());
  }
  // The blocked kernel's score modifiers and mask predicates of a vector
  // of keys (attn.lanewise_call): the scalar functions' bodies on vectors.
  pm.addPass(attn::createAttnExpandLanewiseCalls());
  // Score modifiers and mask predicates are functions the kernels call per
  // key: inline them into the key loops and drop them. Without the
  // inliner's default simplification (canonicalize on every function): it
  // changed no model's machine code, loops-to-llvm canonicalizes anyway.
  pm.addPass(createInlinerPass(/*opPipelines=*/{},
                               /*defaultPipelineBuilder=*/[](OpPassManager &) {}));
  pm.addPass(createSymbolDCEPass());
  // The query groups of the tiled form are sized by the thread count: the
  // OpenMP runtime's, or 1 without threads.
  pm.addPass(attn::createAttnLowerThreadCount(
      attn::AttnLowerThreadCountOptions{options.threads}));
}

/// The last steps of every host function to the LLVM dialect: memrefs
/// (allocations through _mlir_memref_to_llvm_alloc/free, which the attnc
/// runtime defines so that a failed allocation is reported, not a crash),
/// OpenMP when threads are on, arith, index, func and cf.
static void addHostToLLVMPasses(OpPassManager &pm,
                                const attnc::PipelineOptions &options) {
  FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  memrefOptions.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  if (options.threads)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (options.optLevel > 0) {
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
}

void attnc::buildLoopsToLLVMPipeline(OpPassManager &pm,
                                     const PipelineOptions &options) {
  // Without AVX512-BF16, LLVM would round each element to bf16 with a call
  // of __truncsfbf2, which the model cannot resolve: integer ops instead.
  if (options.expandBF16Conversions)
    pm.addPass(attn::createAttnExpandBF16Conversions());
  pm.addPass(createLowerAffinePass());
  // The parallel loop of the tiled form (batch x head x query tile) runs on
  // the threads of LLVM's OpenMP runtime (libomp; OMP_NUM_THREADS); every
  // tile is computed by one thread in one order, so results do not depend
  // on the thread count.
  if (options.threads) {
    pm.addPass(createConvertSCFToOpenMPPass());
    // The threads take the tiles in turn (tiles differ in cost: causal).
    pm.addPass(attn::createAttnOpenMPSchedule());
    // One stack copy of each tile's scratch per thread, not a malloc per
    // tile; and the memref.alloca_scope each loop body comes wrapped in,
    // which must not hold the several blocks scf-to-cf makes, inlined
    // (the kernels allocate no stack memory there).
    pm.addPass(attn::createAttnOpenMPThreadScratch());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createConvertSCFToCFPass());
  // exp, sqrt, ... become LLVM intrinsics (vectorizable); what LLVM has no
  // intrinsic for (tanh) becomes a libm call.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  ConvertVectorToLLVMPassOptions vectorOptions;
  vectorOptions.reassociateFPReductions = true;
  // The amx dialect's tile ops (the bf16 kernel on AMX tiles) to LLVM's
  // AMX intrinsics.
  vectorOptions.amx = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  addHostToLLVMPasses(pm, options);
}

/// The tiled form's parallel loops -> gpu.launch ops in the functions.
static void addMapToGPUPasses(OpPassManager &funcPm,
                              const attnc::PipelineOptions &options) {
  // exp, log, tanh as polynomials whatever the optimization level: the
  // kernels are compiled without libdevice (-attn-nvvm-native-math).
  if (options.optLevel == 0)
    funcPm.addPass(attn::createAttnApproximateMath());
  // Per-tile scratch on each thread's stack (dynamic sizes: a slot of a
  // workspace per tile), before the tiles are split among threads.
  funcPm.addPass(attn::createAttnPrivatizeTileScratch());
  // The last dimension of each parallel loop (the query tiles, a
  // projection's output features) in blocks of threads: neighbouring tiles
  // on the threads of a warp.
  attn::AttnGPUThreadTilesOptions threadTiles;
  threadTiles.threadsPerBlock = options.gpuThreadsPerBlock;
  funcPm.addPass(attn::createAttnGPUThreadTiles(threadTiles));
  // Folds the tile bounds to affine.min of a constant, which the mapping
  // takes as the block size (with a guard).
  funcPm.addPass(createCanonicalizerPass());
  // The outer parallel loops' dimensions (batch, head, groups of query
  // tiles) to the grid's x, y, z, the inner ones to the threads; each
  // thread runs a query tile's kernel.
  funcPm.addPass(createGpuMapParallelLoopsPass());
  funcPm.addPass(createParallelLoopToGpuPass());
  // Glue that no parallel loop covers runs as one-thread kernels: on the
  // device the host code must not touch the buffers.
  funcPm.addPass(attn::createAttnSerialHostKernels());
  // Constants and index arithmetic go into the launch body instead of
  // becoming kernel arguments.
  funcPm.addPass(createGpuLauchSinkIndexComputationsPass());
}

void attnc::buildLoopsToGPUPipeline(OpPassManager &pm,
                                    const PipelineOptions &options) {
  addMapToGPUPasses(pm.nest<func::FuncOp>(), options);
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(attn::createAttnMergeGPUModules());
  // The host functions of a CUDA library work on device pointers: their
  // buffers in device memory, allocated, launched on and freed in order on
  // the call's stream (the runtime's mgpuStreamCreate returns it).
  OpPassManager &hostPm = pm.nest<func::FuncOp>();
  hostPm.addPass(attn::createAttnDeviceBuffers());
  hostPm.addPass(createGpuAsyncRegionPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void attnc::buildGPUScheduleOnHostPipeline(OpPassManager &pm,
                                           const PipelineOptions &options) {
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  addMapToGPUPasses(funcPm, options);
  funcPm.addPass(attn::createAttnGPULaunchToLoops());
  funcPm.addPass(createCanonicalizerPass());
}

std::string attnc::ptxFeatureFor(llvm::StringRef chip) {
  unsigned version = 0;
  llvm::StringRef digits = chip;
  digits.consume_front("sm_");
  bool archSpecific = digits.consume_back("a");
  digits.getAsInteger(10, version);
  if (version >= 90)
    return archSpecific ? "+ptx80" : "+ptx78";
  if (version >= 89)
    return "+ptx78";
  if (version >= 86)
    return "+ptx71";
  return "+ptx70";
}

void attnc::buildGPUToNVVMPipeline(OpPassManager &pm,
                                   const PipelineOptions &options) {
  GpuNVVMAttachTargetOptions target;
  target.chip = options.gpuChip;
  target.features = ptxFeatureFor(options.gpuChip);
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernelPm = pm.nest<gpu::GPUModuleOp>();
  kernelPm.addPass(createConvertSCFToCFPass());
  // The kernels of some forms (multi-dimensional scores) keep small static
  // vectors; LLVM's NVPTX backend splits them into scalar instructions.
  kernelPm.addPass(createConvertVectorToLLVMPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  kernelPm.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  // What convert-gpu-to-nvvm leaves of math (fma) is one instruction.
  kernelPm.addPass(createConvertMathToLLVMPass());
  kernelPm.addPass(attn::createAttnNVVMNativeMath());
  kernelPm.addPass(createReconcileUnrealizedCastsPass());
  kernelPm.addPass(createCanonicalizerPass());
  kernelPm.addPass(createCSEPass());
}

void attnc::buildNVVMToPTXPipeline(OpPassManager &pm,
                                   const PipelineOptions &options) {
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void attnc::buildGPUHostToLLVMPipeline(OpPassManager &pm,
                                       const PipelineOptions &options) {
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Launches, allocations and the stream tokens -> calls of the mgpu*
  // functions, which the attnc runtime implements on the CUDA driver
  // (opened at first use); the gpu.binary stays, for the translation to
  // embed.
  pm.addPass(createGpuToLLVMConversionPass());
  addHostToLLVMPasses(pm, options);
}

void attnc::registerDialects(DialectRegistry &registry) {
  registry.insert<attn::AttnDialect>();
  attn::registerBufferizableOpInterfaceExternalModels(registry);
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerAMXDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  // gpu.binary's #gpu.select_object: embeds the kernels and loads them at
  // each gpu.launch_func (a CUDA library).
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  registerNVVMDialectTranslation(registry);
}

void attnc::registerPassesAndPipelines() {
  registerAllPasses();
  attn::registerAttnPasses();
  attn::registerAttnConversionPasses();
  PassPipelineRegistration<PipelineOptions>(
      "attn-to-loops",
      "Lower attn ops to fused loops (decompose scores, online softmax)",
      buildAttnToLoopsPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "loops-to-llvm", "Lower attnc's loops to the LLVM dialect",
      buildLoopsToLLVMPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "attn-to-llvm", "Lower attn ops all the way to the LLVM dialect",
      [](OpPassManager &pm, const PipelineOptions &options) {
        buildAttnToLoopsPipeline(pm, options);
        buildLoopsToLLVMPipeline(pm, options);
      });
  PassPipelineRegistration<PipelineOptions>(
      "loops-to-gpu",
      "Map the tiled form's parallel loops to GPU kernels (--target=cuda)",
      buildLoopsToGPUPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "gpu-schedule-on-host",
      "The GPU mapping of the tiled form, its launches run as loops on the "
      "host (testing without a GPU)",
      buildGPUScheduleOnHostPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "gpu-to-nvvm", "Lower the kernels' gpu.module to NVVM for gpu-chip",
      buildGPUToNVVMPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "gpu-host-to-llvm",
      "Lower the host code of a CUDA library (launches, device buffers) "
      "to the LLVM dialect",
      buildGPUHostToLLVMPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "nvvm-to-ptx", "Serialize the NVVM gpu.module to PTX (gpu.binary)",
      buildNVVMToPTXPipeline);
}
