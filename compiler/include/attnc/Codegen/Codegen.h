//===- Codegen.h - LLVM dialect -> object code and shared library -*- C++
//-*-===//
//
// The back half of attnc: add the C ABI entry points to a lowered module,
// translate it to LLVM IR, optimize it for a target, write assembly or an
// object file, and link a shared library with the attnc runtime.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_CODEGEN_H
#define ATTNC_CODEGEN_CODEGEN_H

#include "attnc/Codegen/Signature.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "mlir/Support/Timing.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace attnc {

/// Reads the C ABI of every model of `module` from the ABI attributes of
/// its kernel functions (`attn.model`, `attn.arg`: see
/// attnc/MLIRGen/MLIRGen.h), in module order. Call it on the module before
/// lowering (func.func kernels over memrefs). Missing or malformed
/// attributes, and ABIs the runtime could not check, are reported as errors
/// located at the function or argument.
mlir::FailureOr<std::vector<ModelABI>> readModelABIs(mlir::ModuleOp module);

/// Adds, for each model M, the exported functions of the ABI (attnc_M,
/// attnc_M_signature, attnc_M_last_error; see runtime/include/attnc/attnc.h)
/// to `module`, the module that `models` were read from (readModelABIs)
/// after it was lowered to the LLVM dialect. attnc_M forwards to the
/// runtime's argument checker, which calls the kernel through a thunk.
/// With `cuda` (a CUDA library), attnc_M takes host pointers (the runtime
/// copies to and from the device) and attnc_M_cuda(args, nargs, stream)
/// device pointers.
mlir::LogicalResult addEntryPoints(mlir::ModuleOp module,
                                   llvm::ArrayRef<ModelABI> models,
                                   bool cuda = false);

/// --target=cuda: replaces the PTX object of each gpu.binary in `module`
/// (nvvm-to-ptx's, for chips[0], the lowest architecture) by a fat binary
/// with a cubin for each of `chips` (ptxas) and the PTX (fatbinary), for the
/// translation to embed. Without the CUDA toolkit the PTX stays and `note`
/// says so; a tool's failure is an error at the gpu.binary.
mlir::LogicalResult embedCudaKernels(mlir::ModuleOp module,
                                     llvm::ArrayRef<std::string> chips,
                                     std::string &note);

/// Creates the target machine for `target` ("host": the CPU attnc runs on,
/// with all its features). Returns null and sets `error` when unsupported.
std::unique_ptr<llvm::TargetMachine> createTargetMachine(llvm::StringRef target,
                                                         unsigned optLevel,
                                                         std::string &error);

/// Translates an LLVM-dialect module to LLVM IR for `machine` (its data
/// layout, triple, CPU and features on every function) and hides every
/// symbol but the ABI's. Returns null after emitting a diagnostic.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module,
                                                llvm::LLVMContext &context,
                                                llvm::TargetMachine &machine);

/// Runs LLVM's optimization pipeline at `optLevel` on `module`; LLVM's loop
/// and SLP vectorizers only with `autoVectorize` (off for code the pipeline
/// left scalar on purpose). With a valid `timing` scope, each LLVM pass gets
/// a timer nested in it (its own time, without the passes it runs; one line
/// per pass name).
void optimizeLLVMModule(llvm::Module &module, llvm::TargetMachine &machine,
                        unsigned optLevel, bool autoVectorize = true,
                        mlir::TimingScope *timing = nullptr);

/// Drops the functions no path reaches: LLVM's interprocedural constant
/// propagation, then global dead code elimination. The whole module's
/// optimization deletes them too (the Transformer example has a parallel
/// region whose fork call it proves unreachable); a module split into parts
/// runs this first, since a part may not delete what has become an
/// external symbol.
void dropUnreachableFunctions(llvm::Module &module);

/// Writes assembly (`assembly` true) or an object file.
mlir::LogicalResult emitMachineCode(llvm::Module &module,
                                    llvm::TargetMachine &machine,
                                    llvm::raw_pwrite_stream &os, bool assembly,
                                    std::string &error);

/// What the back end of a shared library does with the LLVM module.
struct BackendOptions {
  /// createTargetMachine's target and optimization level.
  std::string target = "host";
  unsigned codegenLevel = 2;
  /// optimizeLLVMModule's.
  unsigned optLevel = 2;
  bool autoVectorize = true;
  /// The parts the module is split into (fewer where it has fewer groups of
  /// functions); 1 compiles it whole.
  unsigned parts = 1;
};

/// Optimizes `module` and compiles it to object files, one per part of it
/// (PartitionedBackend.cpp: the parts compile side by side, a thread each,
/// at most one per core). `objects` gets the paths of the temporary object
/// files, which the caller links and removes. With `timing`, the LLVM
/// passes' and the code generation's times nest in it, summed over the
/// parts. `module` may be changed (its local functions made hidden ones).
mlir::LogicalResult emitObjectFiles(llvm::Module &module,
                                    const BackendOptions &options,
                                    llvm::StringRef stem,
                                    llvm::SmallVectorImpl<std::string> &objects,
                                    std::string &error,
                                    mlir::TimingScope *timing = nullptr);

/// Links `objects` and the attnc runtime into the shared library
/// `outputPath`: runs the linker directly with the C runtime's files (ATTNC_LD
/// overrides the linker), or the system C compiler where those files are
/// unknown or ATTNC_CC is set. With `openmp`, LLVM's OpenMP runtime too
/// (the CPU's parallel loops; a CUDA library's host code has none, so that
/// it loads where only the NVIDIA driver is installed).
mlir::LogicalResult linkSharedLibrary(llvm::ArrayRef<std::string> objects,
                                      llvm::StringRef outputPath, bool openmp,
                                      std::string &error);

} // namespace attnc

#endif // ATTNC_CODEGEN_CODEGEN_H
