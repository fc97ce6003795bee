//===- Pipelines.h - attnc's named pass pipelines ---------------*- C++ -*-===//
//
// Pipelines, registered for attn-opt and used stage by stage by attnc:
//   attn-to-loops : attn ops -> fused scf/memref loops (online softmax)
//   loops-to-llvm : loops -> LLVM dialect
//   attn-to-llvm  : both
// and for --target=cuda:
//   loops-to-gpu  : the tiled form's parallel loops -> gpu.launch_func of
//                   kernels outlined into one gpu.module
//   gpu-to-nvvm   : the gpu.module -> NVVM/LLVM dialect, with its NVVM
//                   target (chip) attached
//   nvvm-to-ptx   : the gpu.module -> gpu.binary holding the PTX (LLVM's
//                   NVPTX backend; no CUDA toolkit needed)
//   gpu-host-to-llvm : the host functions of a CUDA library (launches on
//                   the call's stream, device buffers) -> LLVM dialect
//   gpu-schedule-on-host : loops-to-gpu's mapping with its launches run as
//                   sequential loops, for loops-to-llvm (tests without a GPU)
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_PIPELINE_PIPELINES_H
#define ATTNC_PIPELINE_PIPELINES_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace attnc {

struct PipelineOptions : public mlir::PassPipelineOptions<PipelineOptions> {
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("optimization level 0..3"),
                            llvm::cl::init(2)};
  Option<int64_t> tileSize{
      *this, "tile-size",
      llvm::cl::desc("keys per tile of the online softmax loop (0: the "
                     "target's)"),
      llvm::cl::init(0)};
  Option<int64_t> queryTilesPerGroup{
      *this, "query-tiles-per-group",
      llvm::cl::desc("query tiles that take each key tile in turn while it "
                     "is in cache (0: the target's)"),
      llvm::cl::init(0)};
  Option<bool> splitKeys{
      *this, "split-keys",
      llvm::cl::desc("split the keys when batch x heads x query tiles are "
                     "fewer than the target plans threads for"),
      llvm::cl::init(true)};
  Option<std::string> vectorISA{
      *this, "vector-isa",
      llvm::cl::desc("the target description the CPU kernels are sized for: "
                     "avx512, avx2 or host (the CPU the pipeline runs on)"),
      llvm::cl::init("avx512")};
  Option<bool> fuseKeyProjections{
      *this, "fuse-key-projections",
      llvm::cl::desc("project an additive score's keys a key tile at a time "
                     "inside the key loop (-attn-fuse-key-projections)"),
      llvm::cl::init(true)};
  Option<bool> singleQueryCopy{
      *this, "single-query-copy",
      llvm::cl::desc("with a dynamic n_q, also emit the form for n_q = 1 "
                     "(the single-query kernel) under an scf.if"),
      llvm::cl::init(true)};
  Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("keep vectors in registers in the fused loops"),
      llvm::cl::init(true)};
  Option<bool> bf16DotProducts{
      *this, "bf16-dot-products",
      llvm::cl::desc("attention's dot products (Q.K^T, P.V) on bf16-rounded "
                     "operands with f32 accumulation (AVX512-BF16)"),
      llvm::cl::init(false)};
  Option<bool> amxTiles{
      *this, "amx-tiles",
      llvm::cl::desc("with bf16-dot-products: the products on the AMX tile "
                     "unit where the tiles are whole (AMX-BF16)"),
      llvm::cl::init(false)};
  Option<bool> bf16VectorDots{
      *this, "bf16-vector-dots",
      llvm::cl::desc("with bf16-dot-products: bf16 products with vdpbf16ps "
                     "where the AMX tiles do not apply (false: f32 there)"),
      llvm::cl::init(true)};
  Option<bool> expandBF16Conversions{
      *this, "expand-bf16-conversions",
      llvm::cl::desc("round f32 to bf16 with integer ops before the LLVM "
                     "lowering (-attn-expand-bf16-conversions): for CPUs "
                     "without AVX512-BF16"),
      llvm::cl::init(false)};
  Option<bool> threads{
      *this, "threads",
      llvm::cl::desc("run the parallel loops on OpenMP threads (libomp)"),
      llvm::cl::init(true)};
  Option<bool> parallelLinalgLoops{
      *this, "parallel-linalg-loops",
      llvm::cl::desc("lower the linalg ops left after the attention kernels "
                     "(projections, glue, copies) to scf.parallel loops "
                     "rather than scf.for, so that the GPU mapping makes "
                     "them kernels"),
      llvm::cl::init(false)};
  Option<int64_t> gpuThreadsPerBlock{
      *this, "gpu-threads-per-block",
      llvm::cl::desc("GPU threads per block along the last dimension of "
                     "each parallel loop (the query tiles)"),
      llvm::cl::init(32)};
  Option<std::string> gpuChip{
      *this, "gpu-chip",
      llvm::cl::desc("the NVIDIA architecture of the GPU pipelines (sm_80, "
                     "sm_90)"),
      llvm::cl::init("sm_80")};
  Option<bool> bufferize{
      *this, "bufferize",
      llvm::cl::desc("start with one-shot bufferization (the input is the "
                     "tensor form of --emit=attn); false for input already "
                     "on memrefs"),
      llvm::cl::init(true)};
};

/// Tensors to buffers: empty-tensor elimination, one-shot bufferization,
/// deallocation; the first stage of attn-to-loops.
void buildBufferizePipeline(mlir::OpPassManager &pm);

/// attn.attention & co -> scf/memref/arith/math loops.
void buildAttnToLoopsPipeline(mlir::OpPassManager &pm,
                              const PipelineOptions &options);
/// scf/memref/arith/math loops -> LLVM dialect.
void buildLoopsToLLVMPipeline(mlir::OpPassManager &pm,
                              const PipelineOptions &options);

/// The tiled form's loops (attn-to-loops with vectorize=false) -> host code
/// launching GPU kernels: per-tile scratch made private, each parallel loop
/// mapped to a grid of blocks (batch, head, query tiles) of
/// gpuThreadsPerBlock threads (a query tile each),
/// kernels outlined into one gpu.module, the host functions' buffers in
/// device memory and their GPU work on one stream (gpu-async-region).
void buildLoopsToGPUPipeline(mlir::OpPassManager &pm,
                             const PipelineOptions &options);
/// The mapping of loops-to-gpu, each launch then a loop nest over its grid
/// on the host (attn-gpu-launch-to-loops): the GPU schedule on the CPU.
void buildGPUScheduleOnHostPipeline(mlir::OpPassManager &pm,
                                    const PipelineOptions &options);
/// The gpu.module of loops-to-gpu -> NVVM/LLVM dialect for `gpuChip`.
void buildGPUToNVVMPipeline(mlir::OpPassManager &pm,
                            const PipelineOptions &options);
/// The NVVM gpu.module -> a gpu.binary whose object is the PTX.
void buildNVVMToPTXPipeline(mlir::OpPassManager &pm,
                            const PipelineOptions &options);

/// The host functions of a CUDA library (after nvvm-to-ptx and the
/// embedding of the kernels) -> LLVM dialect: gpu-to-llvm's calls of the
/// mgpu* runtime functions, memref/func/arith to LLVM.
void buildGPUHostToLLVMPipeline(mlir::OpPassManager &pm,
                                const PipelineOptions &options);
/// The PTX ISA version (LLVM's "+ptxNN" feature) that `chip` ("sm_80")
/// needs: 7.0 up to sm_80, 7.8 for sm_90, 8.0 for sm_90a.
std::string ptxFeatureFor(llvm::StringRef chip);

/// Every dialect an attnc module can contain at any stage, plus the LLVM IR
/// translation interfaces.
void registerDialects(mlir::DialectRegistry &registry);

/// The attn passes, the upstream passes, and the pipelines above.
void registerPassesAndPipelines();

} // namespace attnc

#endif // ATTNC_PIPELINE_PIPELINES_H
