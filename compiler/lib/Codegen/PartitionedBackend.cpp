//===- PartitionedBackend.cpp - LLVM's back end on a module's parts ------===//
//
// The back end of a shared library on several cores. The translated LLVM
// module is split into parts of about the same size: functions that call
// each other directly (the ABI's thunk, its C-interface wrapper and the
// kernel) stay together, and the groups go, the largest first, each onto
// the part with the fewest instructions so far. Each part is then
// optimized (optimizeLLVMModule) and compiled to an object file of its own,
// in an LLVMContext of its own, the parts side by side on a thread each;
// the linker puts the objects together.
//
// The functions that were local to the module (the parallel regions the
// OpenMP lowering outlined, which the kernel hands to __kmpc_fork_call)
// become hidden symbols, defined in one part and declared in the others,
// so that the parts link; the library exports what it exported before.
// Local constants (the OpenMP source locations, the signature's JSON) are
// copied into every part that uses them; other globals are defined in the
// first part. A module with anything else (aliases, comdats, appending
// globals) is not split.
//
// The caller fixes the number of parts (attnc: the cores it may use, at
// most 4); the threads only decide how many compile at once. What differs
// from one part is what LLVM does across functions, and attnc's functions
// meet only through the OpenMP runtime and the ABI's wrappers. One part
// compiles in place, with no copy.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Codegen.h"

#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Transforms/Utils/Cloning.h"

using namespace mlir;

namespace {

/// A local global that every part using it gets a private copy of.
bool copiedIntoEachPart(const llvm::GlobalValue &value) {
  auto *variable = dyn_cast<llvm::GlobalVariable>(&value);
  return variable && variable->hasLocalLinkage() && variable->isConstant();
}

/// Whether the module holds only what the split handles: functions and
/// global variables, no comdat, no appending linkage.
bool splittable(const llvm::Module &module) {
  if (!module.alias_empty() || !module.ifunc_empty() ||
      !module.getComdatSymbolTable().empty())
    return false;
  for (const llvm::GlobalVariable &global : module.globals())
    if (global.hasAppendingLinkage())
      return false;
  return true;
}

/// The part of each defined function: groups of functions joined by direct
/// calls, the largest first, each onto the part with the fewest
/// instructions so far (the lowest index among equals). Returns the number
/// of parts that got a function (at most `parts`).
unsigned assignFunctions(const llvm::Module &module, unsigned parts,
                         llvm::DenseMap<const llvm::Function *, unsigned> &part) {
  llvm::EquivalenceClasses<const llvm::Function *> groups;
  llvm::SmallVector<const llvm::Function *> functions;
  for (const llvm::Function &fn : module) {
    if (fn.isDeclaration())
      continue;
    functions.push_back(&fn);
    groups.insert(&fn);
    for (const llvm::BasicBlock &block : fn)
      for (const llvm::Instruction &inst : block)
        if (auto *call = dyn_cast<llvm::CallBase>(&inst))
          if (const llvm::Function *callee = call->getCalledFunction();
              callee && !callee->isDeclaration())
            groups.unionSets(&fn, callee);
  }
  // Each group's leader and size, in the order of the group's first
  // function in the module.
  llvm::SmallVector<std::pair<const llvm::Function *, size_t>> sizes;
  llvm::DenseMap<const llvm::Function *, size_t> indexOfLeader;
  for (const llvm::Function *fn : functions) {
    const llvm::Function *leader = groups.getLeaderValue(fn);
    auto [it, inserted] = indexOfLeader.try_emplace(leader, sizes.size());
    if (inserted)
      sizes.push_back({leader, 0});
    sizes[it->second].second += fn->getInstructionCount();
  }
  // Largest first; module order among equals, so that the split is the same
  // on every run.
  llvm::stable_sort(sizes, [](const auto &a, const auto &b) {
    return a.second > b.second;
  });
  unsigned used = std::min<unsigned>(parts, sizes.size());
  llvm::SmallVector<size_t> load(used, 0);
  llvm::DenseMap<const llvm::Function *, unsigned> partOfLeader;
  for (const auto &[leader, size] : sizes) {
    unsigned lightest = std::min_element(load.begin(), load.end()) -
                        load.begin();
    load[lightest] += size;
    partOfLeader[leader] = lightest;
  }
  for (const llvm::Function *fn : functions)
    part[fn] = partOfLeader.lookup(groups.getLeaderValue(fn));
  return used;
}

/// Optimizes and compiles `module` to the object file `objectPath`.
LogicalResult compileModule(llvm::Module &module,
                            const attnc::BackendOptions &options,
                            llvm::StringRef objectPath, TimingScope *timing,
                            std::string &error) {
  auto machine = attnc::createTargetMachine(options.target,
                                            options.codegenLevel, error);
  if (!machine)
    return failure();
  {
    TimingScope optimization;
    if (timing && *timing)
      optimization = timing->nest(
          ("LLVM optimization (-O" + llvm::Twine(options.optLevel) + ")")
              .str());
    attnc::optimizeLLVMModule(module, *machine, options.optLevel,
                              options.autoVectorize, &optimization);
  }
  TimingScope codegen;
  if (timing && *timing)
    codegen = timing->nest("LLVM code generation (object file)");
  std::error_code ec;
  llvm::raw_fd_ostream os(objectPath, ec);
  if (ec) {
    error = "cannot write '" + objectPath.str() + "': " + ec.message();
    return failure();
  }
  return attnc::emitMachineCode(module, *machine, os, /*assembly=*/false,
                                error);
}

/// compileModule on a part given as bitcode, read into a context of its own
/// (a thread's).
LogicalResult compilePart(llvm::StringRef bitcode,
                          const attnc::BackendOptions &options,
                          llvm::StringRef objectPath, TimingScope *timing,
                          std::string &error) {
  llvm::LLVMContext context;
  llvm::Expected<std::unique_ptr<llvm::Module>> module =
      llvm::parseBitcodeFile(llvm::MemoryBufferRef(bitcode, "part"), context);
  if (!module) {
    error = "cannot read a part of the module back: " +
            llvm::toString(module.takeError());
    return failure();
  }
  return compileModule(**module, options, objectPath, timing, error);
}

} // namespace

LogicalResult attnc::emitObjectFiles(llvm::Module &module,
                                     const BackendOptions &options,
                                     llvm::StringRef stem,
                                     llvm::SmallVectorImpl<std::string> &objects,
                                     std::string &error, TimingScope *timing) {
  TimingScope splitting;
  if (options.parts > 1 && timing && *timing)
    splitting = timing->nest("Split into parts");
  llvm::DenseMap<const llvm::Function *, unsigned> partOf;
  if (options.parts > 1 && options.optLevel > 0)
    attnc::dropUnreachableFunctions(module);
  unsigned parts =
      splittable(module)
          ? std::max(assignFunctions(module, std::max(options.parts, 1u),
                                     partOf),
                     1u)
          : 1;

  // Every part as bitcode: the threads read them into contexts of their own.
  llvm::SmallVector<llvm::SmallString<0>> bitcode(parts);
  if (parts > 1) {
    for (llvm::Function &fn : module) {
      if (fn.isDeclaration() || !fn.hasLocalLinkage())
        continue;
      fn.setLinkage(llvm::GlobalValue::ExternalLinkage);
      fn.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
    for (llvm::GlobalVariable &global : module.globals()) {
      if (global.isDeclaration() || copiedIntoEachPart(global) ||
          !global.hasLocalLinkage())
        continue;
      if (!global.hasName())
        global.setName("__attnc_global");
      global.setLinkage(llvm::GlobalValue::ExternalLinkage);
      global.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
    for (unsigned index = 0; index < parts; ++index) {
      llvm::ValueToValueMapTy map;
      std::unique_ptr<llvm::Module> part = llvm::CloneModule(
          module, map, [&](const llvm::GlobalValue *value) {
            if (auto *fn = dyn_cast<llvm::Function>(value))
              return partOf.lookup(fn) == index;
            return copiedIntoEachPart(*value) || index == 0;
          });
      std::string problems;
      llvm::raw_string_ostream problemStream(problems);
      if (llvm::verifyModule(*part, &problemStream)) {
        error = "a part of the split module is invalid: " + problems;
        return failure();
      }
      llvm::raw_svector_ostream os(bitcode[index]);
      llvm::WriteBitcodeToFile(*part, os);
    }
  }

  splitting.stop();

  objects.clear();
  for (unsigned index = 0; index < parts; ++index) {
    llvm::SmallString<128> path;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "attnc-" + stem + "-" + llvm::Twine(index), "o", path)) {
      error = "cannot create a temporary file: " + ec.message();
      return failure();
    }
    objects.push_back(path.str().str());
  }

  // A single part compiles here, in place; more, a thread each, at most
  // one per core.
  if (parts == 1)
    return compileModule(module, options, objects[0], timing, error);
  llvm::SmallVector<std::string> errors(parts);
  llvm::SmallVector<bool> partFailed(parts, false);
  llvm::DefaultThreadPool pool(llvm::hardware_concurrency(parts));
  for (unsigned index = 0; index < parts; ++index)
    pool.async([&, index] {
      partFailed[index] = failed(compilePart(bitcode[index], options,
                                             objects[index], timing,
                                             errors[index]));
    });
  pool.wait();
  for (unsigned index = 0; index < parts; ++index)
    if (partFailed[index]) {
      error = errors[index];
      return failure();
    }
  return success();
}
