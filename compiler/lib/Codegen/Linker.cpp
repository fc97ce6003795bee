//===- Linker.cpp - Object file + runtime -> shared library ---------------===//
//
// Links the model's object files (one per part of the module:
// PartitionedBackend.cpp), the attnc runtime archive and LLVM's OpenMP
// runtime into a shared library. attnc runs the linker itself, with the C
// runtime's files that a C compiler driver would add (crti.o, crtbeginS.o,
// libm, libc, libgcc, crtendS.o, crtn.o: asked of the C compiler attnc was
// built with, at configure time), which saves the driver's process per
// compile. The linker is ATTNC_LD, else the system's `ld` (found at
// configure time). With ATTNC_CC set, or where the build found no C runtime
// files, the C compiler links instead: `cc -shared -o lib.so model*.o
// libattnc_runtime.a -lm -pthread -lomp` (ATTNC_CC, else the compiler attnc
// was built with, else `cc`). The runtime archive is the one built with
// attnc (its path is compiled in; ATTNC_RUNTIME_LIB overrides it).
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
#ifndef ATTNC_DEFAULT_LD
#define ATTNC_DEFAULT_LD ""
#endif
#ifndef ATTNC_LINK_FILES
#define ATTNC_LINK_FILES ""
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

static std::string findProgram(llvm::StringRef name) {
  if (name.empty())
    return "";
  if (llvm::sys::fs::can_execute(name))
    return name.str();
  if (llvm::ErrorOr<std::string> path = llvm::sys::findProgramByName(name))
    return *path;
  return "";
}

/// The linker to run directly, or "" to link through the C compiler.
static std::string findLinker() {
  if (const char *env = std::getenv("ATTNC_LD")) {
    // Run as given when not found, so that the failure names it.
    std::string path = findProgram(env);
    return path.empty() ? env : path;
  }
  if (std::getenv("ATTNC_CC"))
    return "";
  return findProgram(ATTNC_DEFAULT_LD);
}

static LogicalResult run(llvm::StringRef program,
                         llvm::ArrayRef<llvm::StringRef> argv,
                         std::string &error) {
  std::string message;
  int status = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, {}, 0, 0,
                                         &message);
  if (status != 0) {
    error = "linking with '" + program.str() + "' failed" +
            (message.empty() ? "" : ": " + message);
    return failure();
  }
  return success();
}

LogicalResult attnc::linkSharedLibrary(llvm::ArrayRef<std::string> objects,
                                       llvm::StringRef outputPath, bool openmp,
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
  // The C runtime's files, in the order of the link line: crti.o,
  // crtbeginS.o, libm, libc, libgcc, crtendS.o, crtn.o.
  llvm::SmallVector<llvm::StringRef, 7> files;
  llvm::StringRef(ATTNC_LINK_FILES).split(files, '|', -1, false);
  std::string linker = files.size() == 7 ? findLinker() : "";
  if (!linker.empty()) {
    llvm::SmallVector<llvm::StringRef> argv = {
        linker, "--hash-style=gnu", "--build-id", "--eh-frame-hdr", "-shared",
        "-o", outputPath, files[0], files[1]};
    argv.append(objects.begin(), objects.end());
    argv.push_back(runtime);
    // LLVM's OpenMP runtime, for the parallel loops.
    if (openmp)
      argv.append({"-L" ATTNC_OPENMP_LIB_DIR, "-lomp", "-rpath",
                   ATTNC_OPENMP_LIB_DIR});
    argv.append({files[2], files[3], files[4], files[5], files[6]});
    return run(linker, argv, error);
  }

  std::string cc = findCCompiler();
  if (cc.empty()) {
    error = "no C compiler found to link the shared library (set ATTNC_CC)";
    return failure();
  }
  llvm::SmallVector<llvm::StringRef> argv = {cc, "-shared", "-o", outputPath};
  argv.append(objects.begin(), objects.end());
  argv.append({runtime, "-lm", "-pthread"});
  // LLVM's OpenMP runtime, for the parallel loops.
  if (openmp)
    argv.append({"-L" ATTNC_OPENMP_LIB_DIR, "-lomp",
                 "-Wl,-rpath," ATTNC_OPENMP_LIB_DIR});
  return run(cc, argv, error);
}
