//===- CudaBinary.cpp - The kernels of a CUDA library, as embedded --------===//
//
// nvvm-to-ptx leaves each gpu.binary holding one object: the PTX of the
// kernels for the lowest architecture named by --target=cuda:sm_AA,sm_BB.
// For a shared library that object becomes a fat binary made by the CUDA
// toolkit's own tools:
//
//   ptxas -arch=sm_AA -O3 kernels.ptx -o a.cubin        (one per architecture)
//   fatbinary -64 --create=k.fatbin --image3=kind=elf,sm=AA,file=a.cubin ...
//             --image3=kind=ptx,sm=AA,file=kernels.ptx
//
// so that the driver loads the cubin of the GPU it runs on, and JIT-compiles
// the PTX on a newer one. The translation to LLVM IR then embeds the object
// as a constant and loads it with mgpuModuleLoad (the attnc runtime caches
// the module per context). Without the toolkit (no ptxas or fatbinary
// found) the PTX stays the object (loaded with mgpuModuleLoadJIT: compiled
// by the driver at first use) and a note says so.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Codegen.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {

/// `tool` of the CUDA toolkit: $ATTNC_CUDA_PATH/bin only, when set (so that
/// a build can be told where the toolkit is, or that there is none);
/// otherwise $CUDA_HOME/bin, $CUDA_PATH/bin, /usr/local/cuda/bin, then
/// PATH. "" if not found.
std::string findCudaTool(llvm::StringRef tool) {
  llvm::SmallVector<std::string> dirs;
  const char *only = std::getenv("ATTNC_CUDA_PATH");
  if (only) {
    dirs.push_back((llvm::Twine(only) + "/bin").str());
  } else {
    for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
      if (const char *value = std::getenv(var))
        dirs.push_back((llvm::Twine(value) + "/bin").str());
    dirs.push_back("/usr/local/cuda/bin");
  }
  for (const std::string &dir : dirs) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, tool);
    if (llvm::sys::fs::can_execute(path))
      return path.str().str();
  }
  if (!only)
    if (auto path = llvm::sys::findProgramByName(tool))
      return *path;
  return "";
}

/// A temporary file removed when this goes out of scope.
struct TempFile {
  llvm::SmallString<128> path;
  std::optional<llvm::FileRemover> remover;
  LogicalResult create(llvm::StringRef prefix, llvm::StringRef suffix,
                       std::string &error) {
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile(prefix, suffix, path)) {
      error = "cannot create a temporary file: " + ec.message();
      return failure();
    }
    remover.emplace(path);
    return success();
  }
};

/// Runs the commands of `commands` (argv[0] the program) at the same time
/// and waits for all; on a failure `error` says which and what it printed.
LogicalResult runTools(llvm::ArrayRef<llvm::SmallVector<llvm::StringRef>> commands,
                       std::string &error) {
  std::vector<TempFile> logs(commands.size());
  std::vector<llvm::sys::ProcessInfo> processes;
  std::vector<std::string> startErrors(commands.size());
  for (auto [argv, log, startError] : llvm::zip(commands, logs, startErrors)) {
    if (failed(log.create("attnc-cuda-tool", "log", error)))
      return failure();
    std::optional<llvm::StringRef> redirects[] = {
        std::nullopt, log.path.str(), log.path.str()};
    bool notStarted = false;
    processes.push_back(llvm::sys::ExecuteNoWait(
        argv[0], argv, std::nullopt, redirects, 0, &startError, &notStarted));
  }
  LogicalResult result = success();
  for (auto [argv, log, process, startError] :
       llvm::zip(commands, logs, processes, startErrors)) {
    std::string message = startError;
    int status = -1;
    if (process.Pid != llvm::sys::ProcessInfo::InvalidPid)
      status = llvm::sys::Wait(process, std::nullopt, &message).ReturnCode;
    if (status == 0 || failed(result))
      continue;
    std::string output;
    if (auto text = llvm::MemoryBuffer::getFile(log.path))
      output = (*text)->getBuffer().trim().str();
    error = "'" + llvm::join(argv, " ") + "' failed" +
            (message.empty() ? "" : " (" + message + ")") +
            (output.empty() ? "" : ":\n" + output);
    result = failure();
  }
  return result;
}

LogicalResult writeFile(llvm::StringRef path, llvm::StringRef data,
                        std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (!ec) {
    os << data;
    os.close();
    ec = os.error();
  }
  if (ec)
    error = "cannot write '" + path.str() + "': " + ec.message();
  return failure(bool(ec));
}

/// The fat binary of `ptx` for `chips`, made with `ptxas` and `fatbinary`.
FailureOr<std::string> makeFatbin(llvm::StringRef ptx,
                                  llvm::ArrayRef<std::string> chips,
                                  llvm::StringRef ptxas,
                                  llvm::StringRef fatbinary,
                                  std::string &error) {
  TempFile ptxFile, fatbinFile;
  if (failed(ptxFile.create("attnc-kernels", "ptx", error)) ||
      failed(writeFile(ptxFile.path, ptx, error)) ||
      failed(fatbinFile.create("attnc-kernels", "fatbin", error)))
    return failure();
  // One ptxas per architecture, at the same time.
  std::vector<TempFile> cubins(chips.size());
  std::vector<std::string> arches, images;
  for (auto [chip, cubin] : llvm::zip(chips, cubins)) {
    if (failed(cubin.create("attnc-kernels-" + chip, "cubin", error)))
      return failure();
    arches.push_back("-arch=" + chip);
    images.push_back("--image3=kind=elf,sm=" +
                     llvm::StringRef(chip).drop_front(3).str() +
                     ",file=" + cubin.path.str().str());
  }
  llvm::SmallVector<llvm::SmallVector<llvm::StringRef>> assemblies;
  for (auto [arch, cubin] : llvm::zip(arches, cubins))
    assemblies.push_back(
        {ptxas, arch, "-O3", ptxFile.path.str(), "-o", cubin.path.str()});
  if (failed(runTools(assemblies, error)))
    return failure();
  // The PTX, for the driver to compile on architectures newer than these.
  images.push_back("--image3=kind=ptx,sm=" +
                   llvm::StringRef(chips.front()).drop_front(3).str() +
                   ",file=" + ptxFile.path.str().str());
  std::string create = "--create=" + fatbinFile.path.str().str();
  llvm::SmallVector<llvm::StringRef> argv = {fatbinary, "-64", create};
  for (const std::string &image : images)
    argv.push_back(image);
  if (failed(runTools({argv}, error)))
    return failure();
  auto data = llvm::MemoryBuffer::getFile(fatbinFile.path);
  if (!data) {
    error = "cannot read '" + fatbinFile.path.str().str() +
            "': " + data.getError().message();
    return failure();
  }
  return (*data)->getBuffer().str();
}

} // namespace

LogicalResult attnc::embedCudaKernels(ModuleOp module,
                                      llvm::ArrayRef<std::string> chips,
                                      std::string &note) {
  std::string ptxas = findCudaTool("ptxas");
  std::string fatbinary = findCudaTool("fatbinary");
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    SmallVector<Attribute> objects;
    for (Attribute attr : binary.getObjects()) {
      auto object = llvm::cast<gpu::ObjectAttr>(attr);
      if (object.getFormat() != gpu::CompilationTarget::Assembly ||
          ptxas.empty() || fatbinary.empty()) {
        objects.push_back(object);
        continue;
      }
      std::string error;
      // The NVPTX backend's assembly ends in a NUL (a C string for the
      // driver's JIT), which ptxas reads as a truncated file.
      FailureOr<std::string> fatbin =
          makeFatbin(object.getObject().getValue().rtrim('\0'), chips, ptxas,
                     fatbinary, error);
      if (failed(fatbin))
        return binary.emitError() << "cannot build the kernels' fat binary: "
                                  << error;
      objects.push_back(gpu::ObjectAttr::get(
          module.getContext(), object.getTarget(),
          gpu::CompilationTarget::Fatbin,
          StringAttr::get(module.getContext(), *fatbin),
          object.getProperties()));
    }
    binary.setObjectsAttr(ArrayAttr::get(module.getContext(), objects));
  }
  if (ptxas.empty() || fatbinary.empty())
    note = "the CUDA toolkit's " +
           std::string(ptxas.empty() ? "ptxas" : "fatbinary") +
           " was not found ($ATTNC_CUDA_PATH, or $CUDA_HOME, $CUDA_PATH, "
           "/usr/local/cuda, PATH): the library embeds the kernels as PTX "
           "only, which the driver compiles when the library first runs";
  return success();
}
