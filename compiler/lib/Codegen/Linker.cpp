//===- Linker.cpp - Object file + runtime -> shared library ---------------===//
//
// Runs the system C compiler as the linker: `cc -shared -o lib.so model.o
// libattnc_runtime.a -lm -pthread`. The runtime archive is the one built with
// attnc (its path is compiled in; ATTNC_RUNTIME_LIB overrides it), and the C
// compiler is ATTNC_CC, else the one attnc was built with, else `cc`.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Codegen.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace mlir;

#ifndef ATTNC_RUNTIME_LIB_PATH
#define ATTNC_RUNTIME_LIB_PATH ""
#endif
#ifndef ATTNC_DEFAULT_CC
#define ATTNC_DEFAULT_CC "cc"
#endif

static std::string findCCompiler() {
  if (const char *env = std::getenv("ATTNC_CC"))
    return env;
  for (llvm::StringRef candidate :
       {ATTNC_DEFAULT_CC, "cc", "clang-19", "gcc"}) {
    if (llvm::sys::fs::can_execute(candidate))
      return candidate.str();
    if (llvm::ErrorOr<std::string> path =
            llvm::sys::findProgramByName(candidate))
      return *path;
  }
  return "";
}

LogicalResult attnc::linkSharedLibrary(llvm::StringRef objectPath,
                                       llvm::StringRef outputPath,
                                       std::string &error) {
  // The archive beside the executable (bin/attnc -> lib/libattnc_runtime.a:
  // an installed attnc, and a build tree too), else the one it was built
  // with; ATTNC_RUNTIME_LIB overrides both.
  std::string runtime = ATTNC_RUNTIME_LIB_PATH;
  std::string self = llvm::sys::fs::getMainExecutable(
      nullptr, reinterpret_cast<void *>(&attnc::linkSharedLibrary));
  if (!self.empty()) {
    llvm::SmallString<256> installed(llvm::sys::path::parent_path(
        llvm::sys::path::parent_path(self)));
    llvm::sys::path::append(installed, "lib", "libattnc_runtime.a");
    if (llvm::sys::fs::exists(installed))
      runtime = installed.str().str();
  }
  if (const char *env = std::getenv("ATTNC_RUNTIME_LIB"))
    runtime = env;
  if (!llvm::sys::fs::exists(runtime)) {
    error = "the attnc runtime library '" + runtime +
            "' does not exist (set ATTNC_RUNTIME_LIB)";
    return failure();
  }
  std::string cc = findCCompiler();
  if (cc.empty()) {
    error = "no C compiler found to link the shared library (set ATTNC_CC)";
    return failure();
  }
  llvm::SmallVector<llvm::StringRef> argv = {
      cc,      "-shared", "-o",      outputPath, objectPath, runtime,
      "-lm",   "-pthread",
      // LLVM's OpenMP runtime, for the parallel loops.
      "-L" ATTNC_OPENMP_LIB_DIR, "-lomp", "-Wl,-rpath," ATTNC_OPENMP_LIB_DIR};
  std::string message;
  int status =
      llvm::sys::ExecuteAndWait(cc, argv, std::nullopt, {}, 0, 0, &message);
  if (status != 0) {
    error = "linking with '" + cc + "' failed" +
            (message.empty() ? "" : ": " + message);
    return failure();
  }
  return success();
}
