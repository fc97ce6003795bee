//===- attnc.cpp - The attnc compiler driver ------------------------------===//
//
//   attnc model.attn|model.mlir [-o libmodel.so] [--emit=STAGE] [-O0..-O3]
//         [--target=host|cuda[:sm_NN[,sm_MM...]]] [--tile-size=N]
//         [--print-ir-after-all] [--print-ir-after=PASS] [--time-passes]
//
// Stages: ast -> attn (MLIRGen) -> loops (attn-to-loops) -> llvm-dialect
// (loops-to-llvm + ABI entry points) -> llvm-ir -> asm | obj -> so; header
// is the C header of the ABI. With --target=cuda the stages after loops
// are gpu (loops-to-gpu: the tiled form's parallel loops as kernels
// launched from the host code) -> nvvm (gpu-to-nvvm) -> ptx (nvvm-to-ptx,
// LLVM's NVPTX backend) -> the kernels embedded as a fat binary (ptxas and
// fatbinary of the CUDA toolkit: a cubin per named architecture and the
// PTX) -> llvm-dialect (gpu-host-to-llvm + ABI entry points, attnc_M_cuda
// too) -> llvm-ir -> asm | obj -> so. A .mlir input is a module of the attn dialect
// (as --emit=attn prints it) and enters at the attn stage. The C ABI (entry
// points, signature, header) is read from the kernels' ABI attributes
// (attn.model, attn.arg) of the attn module, whatever the input. Outputs are
// written to a temporary file and renamed at the end, so a failing compile
// leaves no output behind. --time-passes prints one timing report (MLIR's
// DefaultTimingManager) whose top level is the compiler's phases in order:
// the front end, each pass pipeline (its passes nested), LLVM translation,
// LLVM's passes, code generation and linking.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Codegen.h"
#include "attnc/Codegen/Signature.h"
#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Frontend.h"
#include "attnc/MLIRGen/MLIRGen.h"
#include "attnc/Pipeline/Pipelines.h"
#include "attn/Target/TargetDescription.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Pass.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum class Stage {
  AST,
  Attn,
  Loops,
  GPU,
  NVVM,
  PTX,
  LLVMDialect,
  LLVMIR,
  Asm,
  Obj,
  Header,
  SO
};

cl::OptionCategory attncCategory("attnc options");

cl::opt<std::string> inputFilename(cl::Positional,
                                   cl::desc("<model.attn | model.mlir>"),
                                   cl::Required, cl::cat(attncCategory));
cl::opt<std::string> outputFilename(
    "o",
    cl::desc("Output file (default: lib<stem>.so, <stem>.o, <stem>.s, "
             "<stem>.h, where <stem> is the input file's name without "
             "extension, whatever models it holds; '-' or none for the other "
             "text stages: stdout)"),
    cl::value_desc("file"), cl::cat(attncCategory));
cl::opt<Stage> emitStage(
    "emit", cl::desc("What to produce"), cl::init(Stage::SO),
    cl::values(
        clEnumValN(Stage::AST, "ast", "the parsed program (.attn input only)"),
        clEnumValN(Stage::Attn, "attn", "the attn dialect (after MLIRGen)"),
        clEnumValN(Stage::Loops, "loops", "fused loops (after attn-to-loops)"),
        clEnumValN(Stage::GPU, "gpu",
                   "--target=cuda: host code launching the kernels of the "
                   "tiled form's parallel loops (gpu dialect)"),
        clEnumValN(Stage::NVVM, "nvvm",
                   "--target=cuda: the kernels in the NVVM dialect"),
        clEnumValN(Stage::PTX, "ptx", "--target=cuda: the kernels' PTX"),
        clEnumValN(Stage::LLVMDialect, "llvm-dialect",
                   "the LLVM dialect, with the ABI entry points"),
        clEnumValN(Stage::LLVMIR, "llvm-ir", "optimized LLVM IR"),
        clEnumValN(Stage::Asm, "asm", "assembly for the target"),
        clEnumValN(Stage::Obj, "obj", "an object file"),
        clEnumValN(Stage::Header, "header", "the C header of the ABI"),
        clEnumValN(Stage::SO, "so", "a shared library (default)")),
    cl::cat(attncCategory));
enum OptLevel { O0 = 0, O1 = 1, O2 = 2, O3 = 3 };
/// Lists the levels as they are spelled, -O0..-O3 (LLVM's help would print
/// "--O0" for a name longer than one letter, which is not what users type;
/// both spellings are accepted).
struct OptLevelParser : cl::parser<OptLevel> {
  using cl::parser<OptLevel>::parser;
  void printOptionInfo(const cl::Option &option,
                       size_t globalWidth) const override {
    llvm::outs() << "  " << option.HelpStr << "\n";
    for (unsigned i = 0, e = getNumOptions(); i != e; ++i) {
      std::string flag = ("      -" + getOption(i)).str();
      llvm::outs() << flag;
      cl::Option::printHelpStr(getDescription(i), globalWidth, flag.size());
    }
  }
};
cl::opt<OptLevel, false, OptLevelParser> optLevel(
    cl::desc("Optimization level (default -O2)"), cl::init(O2),
    cl::values(clEnumVal(O0, "no optimization"), clEnumVal(O1, "light"),
               clEnumVal(O2, "default"), clEnumVal(O3, "aggressive")),
    cl::cat(attncCategory));
cl::opt<unsigned> backendParts(
    "backend-parts",
    cl::desc("Split a shared library's LLVM module into this many parts, "
             "which LLVM optimizes and compiles side by side, a thread each "
             "(at most one per core), and the linker puts together (default "
             "0: as many as the cores attnc may use, at most 4; 1: one "
             "module, as --emit=llvm-ir and --emit=obj show it)"),
    cl::init(0), cl::cat(attncCategory));
cl::opt<std::string> target(
    "target",
    cl::desc("Code generation target: host (the CPU attnc runs on, with all "
             "its features), or cuda[:sm_NN[,sm_MM...]] (NVIDIA GPUs: a "
             "cubin for each architecture named, sm_80 unless named, and "
             "the PTX of the lowest for newer ones)"),
    cl::init("host"), cl::cat(attncCategory));
/// The key tile of --target=cuda (and --gpu-schedule-on-host) unless
/// --tile-size says otherwise: each thread keeps its query tile's scores
/// (8 x tile floats) in private memory.
constexpr int64_t kGPUKeyTile = 64;
cl::opt<int64_t> tileSize(
    "tile-size",
    cl::desc("Keys per tile of the online softmax (default: the target's, "
             "128 on the host CPU; for a dot or cosine softmax up to 512 "
             "while a tile's packed keys and values fit 256 KiB with "
             "AVX-512 (512 at d = 64, 256 at d = 128) or 128 KiB with AVX2 "
             "(256 at d = 64, 512 at d = 16); 64 with --target=cuda, whose "
             "threads keep a tile's scores in their private memory)"),
    cl::init(0), cl::cat(attncCategory));
cl::opt<int64_t> queryTilesPerGroup(
    "query-tiles-per-group",
    cl::desc("At most this many query tiles take each key tile in turn "
             "while its keys and values are in cache (a dot or cosine "
             "softmax with vectors; the tiles are shared evenly among the "
             "groups, more of them with more threads; default: the "
             "target's, 16 on the host CPU; 1: each query tile streams "
             "every key tile)"),
    cl::init(0), cl::cat(attncCategory));
cl::opt<bool> splitKeys(
    "split-keys",
    cl::desc("Also split the keys of a dot or cosine softmax (vectors, no "
             "weights output) in chunks computed in parallel and merged in "
             "a fixed order, when batch x heads x query tiles are fewer than "
             "16 (default true; the splits depend on the shapes only, so "
             "results do not depend on the thread count)"),
    cl::init(true), cl::cat(attncCategory));
cl::opt<std::string> vectorISA(
    "vector-isa",
    cl::desc("The vector registers the CPU kernels are sized for: host (the "
             "CPU attnc runs on: avx512 where it has AVX-512F, else avx2), "
             "avx512 (16 f32 lanes, 32 registers) or avx2 (8 lanes, 16 "
             "registers). The code is generated for the host's features in "
             "every case (default host)"),
    cl::init("host"), cl::cat(attncCategory));
cl::opt<bool> fuseKeyProjections(
    "fuse-key-projections",
    cl::desc("Project an additive score's keys a key tile at a time inside "
             "the key loop, where the tile's rows are in cache when they are "
             "read again as values, instead of all of them before it "
             "(default true)"),
    cl::init(true), cl::cat(attncCategory));
cl::opt<bool> singleQueryCopy(
    "single-query-copy",
    cl::desc("With a dynamic query count, also compile the attention for "
             "one query (the single-query kernel, keys read in place), "
             "taken when n_q is 1 at the call (a dot or cosine softmax with "
             "vectors; default true)"),
    cl::init(true), cl::cat(attncCategory));
cl::opt<bool> vectorize(
    "vectorize",
    cl::desc("Keep vectors in registers in the fused loops when sizes are "
             "static (default true; --vectorize=false: scalar loops, and "
             "LLVM's loop and SLP vectorizers off)"),
    cl::init(true), cl::cat(attncCategory));
enum class DotPrecision { Auto, F32, BF16 };
cl::opt<DotPrecision> dotPrecision(
    "dot-precision",
    cl::desc("Operands of attention's dot products Q.K^T and P.V (blocked "
             "dot-score kernel; sums and the softmax stay f32)"),
    cl::init(DotPrecision::Auto),
    cl::values(
        clEnumValN(DotPrecision::Auto, "auto",
                   "bf16 for a bf16 model (every float input and param "
                   "bf16) where bf16 products are faster than f32 FMAs: "
                   "with AVX512-BF16 on AMD Zen, on the AMX tile unit "
                   "(whole tiles only) where the host has AMX-BF16; f32 "
                   "otherwise (default; attnc --version says)"),
        clEnumValN(DotPrecision::F32, "f32", "f32 operands"),
        clEnumValN(DotPrecision::BF16, "bf16",
                   "bf16-rounded operands, f32 accumulation: AVX512-BF16 "
                   "vdpbf16ps, twice the products per instruction; needs a "
                   "host with avx512bf16")),
    cl::cat(attncCategory));
cl::opt<bool> amx(
    "amx",
    cl::desc("With bf16 dot products on a host with AMX-BF16: Q.K^T and "
             "P.V on the AMX tile unit where the tiles are whole (D a "
             "multiple of 32, Dv of 16; default true; --amx=false keeps "
             "them on vdpbf16ps)"),
    cl::init(true), cl::cat(attncCategory));
cl::opt<bool> openmp(
    "openmp",
    cl::desc("Run the parallel loop of the tiled form (batch x head x query "
             "tile) on OpenMP threads, as many as OMP_NUM_THREADS says "
             "(default true; --openmp=false: one thread)"),
    cl::init(true), cl::cat(attncCategory));
cl::opt<int64_t> gpuThreadsPerBlock(
    "gpu-threads-per-block",
    cl::desc("--target=cuda: threads per block; each runs one query tile "
             "(or one element of a projection), neighbouring ones in a warp "
             "(default 32, at most 1024)"),
    cl::init(32), cl::cat(attncCategory));
cl::opt<bool> gpuScheduleOnHost(
    "gpu-schedule-on-host",
    cl::desc("Compile the GPU schedule of --target=cuda (its tiles, index "
             "arithmetic, masks and private scratch) for the host CPU, the "
             "grid of each kernel run as loops: tests the GPU mapping "
             "without a GPU"),
    cl::init(false), cl::cat(attncCategory));
cl::opt<bool> printAfterAll("print-ir-after-all",
                            cl::desc("Print the IR after every pass (stderr)"),
                            cl::cat(attncCategory));
cl::opt<bool> verifyEachPass(
    "verify-each-pass",
    cl::desc("Verify the IR after every MLIR pass, to find the pass that "
             "breaks it (default: after each pipeline)"),
    cl::cat(attncCategory));
cl::list<std::string> printAfter(
    "print-ir-after",
    cl::desc("Print the IR after the named pass (stderr); repeatable"),
    cl::value_desc("pass"), cl::cat(attncCategory));

// Warnings: -Werror, -Wno-GROUP / -WGROUP and -w, spelled as in C
// compilers. LLVM's option registry already has a `-W` of its own, so main
// takes these out of argv before the registry parses it; this entry only
// documents them in --help.
cl::opt<bool> warningsHelp(
    "Werror",
    cl::desc("Warnings are errors. Also -Wno-GROUP silences GROUP (unused: "
             "an input or param nothing reads; unused-dim: a dimension "
             "never used; empty-mask: a mask that masks no key), -w "
             "silences all"),
    cl::cat(attncCategory));
std::vector<std::string> warningFlags;
bool noWarnings = false;

/// --time-passes. LLVM registers an option of this name in the same registry
/// (it times the passes of LLVM's legacy pass manager, which attnc uses for
/// code generation only, into llvm::TimePassesIsEnabled and a report of its
/// own); attnc adopts it: shown in its help with its own description, read
/// after parsing, and then turned off for LLVM, so that there is one report.
void adoptTimePassesOption() {
  cl::Option *option = cl::getRegisteredOptions().lookup("time-passes");
  if (!option)
    option = new cl::opt<bool, true>("time-passes",
                                     cl::location(llvm::TimePassesIsEnabled));
  option->setHiddenFlag(cl::NotHidden);
  option->addCategory(attncCategory);
  option->setDescription(
      "Print a timing report on stderr when attnc ends, also after an "
      "error (up to where it stopped): the front end (parse, Sema, MLIRGen), "
      "every MLIR pass, LLVM translation, each LLVM pass, code generation "
      "and linking; wall time, and user time too where threads ran");
}

/// Whether the CPU attnc runs on (the code generation target) has `feature`
/// ("avx512bf16", as LLVM names it).
bool hostHasFeature(llvm::StringRef feature) {
  return llvm::sys::getHostCPUFeatures().lookup(feature);
}

/// Whether the host has the AMX tile unit with bf16 products (and the OS
/// saves its state: LLVM reports the features only then).
bool hostHasAMXBF16() {
  return hostHasFeature("amx-tile") && hostHasFeature("amx-bf16");
}

/// Whether vdpbf16ps beats f32 FMAs on this host: AVX512-BF16 on an AMD
/// Zen core, where it issues at the FMA rate with twice the products
/// (1.67-1.83x the f32 kernel on Zen 5). On Intel's Sapphire Rapids it
/// issues on one port, and that kernel ran at 0.68-0.81x the f32 one
/// (docs/performance.md).
bool hostPrefersVectorBF16Dots() {
  return hostHasFeature("avx512bf16") &&
         llvm::sys::getHostCPUName().starts_with("znver");
}

/// Whether --dot-precision=auto gives a bf16 model bf16 dot products on
/// this host: where vdpbf16ps is the faster, or on the AMX tile unit (2.6-
/// 3.2x the f32 kernel on a Sapphire Rapids core), there only for the
/// products whose tiles are whole (the others stay f32).
bool hostPrefersBF16Dots() {
  return hostPrefersVectorBF16Dots() ||
         (hostHasFeature("avx512bf16") && hostHasAMXBF16());
}

/// Whether every model of the file is a bf16 model: each of its float
/// inputs and params is bf16 (and it has one). --dot-precision=auto rounds
/// the dot products' operands to bf16 for those only: their Q, K and V hold
/// bf16 values already when they are arguments, and mixed signatures keep
/// the f32 products they ask for.
bool isBF16File(const std::vector<attnc::ModelSpec> &models) {
  if (models.empty())
    return false;
  for (const attnc::ModelSpec &model : models) {
    bool anyFloat = false;
    for (const attnc::ArgSpec &arg : model.args) {
      if (!attnc::isFloat(arg.dtype))
        continue;
      if (arg.dtype != attnc::DType::BF16)
        return false;
      anyFloat = true;
    }
    if (!anyFloat)
      return false;
  }
  return true;
}

bool isTextStage(Stage s) {
  return s == Stage::AST || s == Stage::Attn || s == Stage::Loops ||
         s == Stage::GPU || s == Stage::NVVM || s == Stage::PTX ||
         s == Stage::LLVMDialect || s == Stage::LLVMIR || s == Stage::Asm ||
         s == Stage::Header;
}

/// Binary outputs and the header are named after the input file, like the
/// library they belong to: a file with several models gives one header.
std::string defaultOutput(llvm::StringRef stem) {
  switch (emitStage) {
  case Stage::SO:
    return ("lib" + stem + ".so").str();
  case Stage::Obj:
    return (stem + ".o").str();
  case Stage::Asm:
    return (stem + ".s").str();
  case Stage::Header:
    return (stem + ".h").str();
  case Stage::PTX:
    return (stem + ".ptx").str();
  default:
    return "-";
  }
}

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "attnc") << message << "\n";
  return 1;
}

/// Runs `build`'s passes on `module`, printing IR after the requested ones.
LogicalResult runPipeline(ModuleOp module,
                          void (*build)(OpPassManager &,
                                        const attnc::PipelineOptions &),
                          const attnc::PipelineOptions &options,
                          TimingScope &timing) {
  PassManager pm(module.getContext());
  build(pm, options);
  if (timing)
    pm.enableTiming(timing);
  // The IR is verified once at the end of the pipeline; after every pass
  // (MLIR's default) only when asked: it was a tenth of the compile time.
  pm.enableVerifier(verifyEachPass);
  if (printAfterAll || !printAfter.empty()) {
    std::function<bool(Pass *, Operation *)> shouldPrint = [](Pass *pass,
                                                              Operation *) {
      if (printAfterAll)
        return true;
      return llvm::is_contained(printAfter, pass->getArgument());
    };
    module.getContext()->disableMultithreading();
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/[](Pass *, Operation *) { return false; },
        /*shouldPrintAfterPass=*/shouldPrint, /*printModuleScope=*/true,
        /*printAfterOnlyOnChange=*/false);
  }
  if (failed(pm.run(module)))
    return failure();
  TimingScope verifyTiming = timing.nest("Verifier");
  return verify(module);
}

/// The GPU architectures of `--target=cuda[:sm_NN[,sm_MM...]]`, lowest
/// first, without repeats; none for another target. An unknown name is
/// an error.
FailureOr<std::vector<std::string>> cudaChipsOf(llvm::StringRef targetName,
                                                std::string &error) {
  std::vector<std::string> chips;
  if (targetName == "cuda")
    return std::vector<std::string>{"sm_80"};
  if (!targetName.consume_front("cuda:"))
    return chips;
  llvm::SmallVector<llvm::StringRef> names;
  targetName.split(names, ',');
  std::vector<std::pair<unsigned, std::string>> versions;
  for (llvm::StringRef name : names) {
    llvm::StringRef digits = name.trim();
    unsigned version = 0;
    if (!digits.consume_front("sm_") ||
        (digits.consume_back("a"), digits.getAsInteger(10, version)) ||
        version < 50) {
      error = "--target=" + target + ": unknown NVIDIA architecture '" +
              name.str() + "' (expected sm_NN, e.g. sm_80 or sm_90)";
      return failure();
    }
    versions.push_back({version, name.trim().str()});
  }
  llvm::sort(versions);
  for (auto &[version, name] : versions)
    if (!llvm::is_contained(chips, name))
      chips.push_back(name);
  return chips;
}

/// Writes the PTX of the gpu.binary ops that nvvm-to-ptx made.
LogicalResult writePTX(ModuleOp module, llvm::raw_ostream &os) {
  bool any = false;
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute object : binary.getObjects()) {
      // The NVPTX backend's assembly ends in a NUL (a C string for the
      // driver's JIT), which ptxas reads as a truncated file.
      os << llvm::cast<gpu::ObjectAttr>(object).getObject().getValue().rtrim(
          '\0');
      any = true;
    }
  if (!any)
    return module.emitError("the model has no attention to run on the GPU: "
                            "no kernel, no PTX");
  return success();
}

/// Refuses, at its location, the first op in a kernel that gpu-to-nvvm
/// left outside the LLVM and NVVM dialects (what the NVPTX translation
/// would fail on with a message about dialect registration).
LogicalResult checkKernelsAreNVVM(ModuleOp module) {
  WalkResult result = module.walk([](gpu::GPUModuleOp kernels) {
    return kernels.walk([](Operation *op) {
      if (isa<gpu::GPUModuleOp>(op) || op->hasTrait<OpTrait::IsTerminator>())
        return WalkResult::advance();
      llvm::StringRef dialect = op->getDialect()
                                    ? op->getDialect()->getNamespace()
                                    : llvm::StringRef();
      if (dialect == "llvm" || dialect == "nvvm")
        return WalkResult::advance();
      op->emitError() << "the cuda target does not support '"
                      << op->getName() << "' in a kernel yet";
      return WalkResult::interrupt();
    });
  });
  return failure(result.wasInterrupted());
}

/// The pass names that --print-ir-after accepts.
llvm::SmallVector<std::string> knownPassNames(MLIRContext &context,
                                              const attnc::PipelineOptions &o,
                                              bool cuda) {
  PassManager pm(&context);
  attnc::buildAttnToLoopsPipeline(pm, o);
  if (gpuScheduleOnHost)
    attnc::buildGPUScheduleOnHostPipeline(pm, o);
  if (cuda) {
    attnc::buildLoopsToGPUPipeline(pm, o);
    attnc::buildGPUToNVVMPipeline(pm, o);
    attnc::buildNVVMToPTXPipeline(pm, o);
    attnc::buildGPUHostToLLVMPipeline(pm, o);
  } else {
    attnc::buildLoopsToLLVMPipeline(pm, o);
  }
  // The textual form is "anchor(pass1{options},anchor(pass2),...)".
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  llvm::SmallVector<std::string> names;
  std::string current;
  int braceDepth = 0;
  for (char c : text) {
    if (c == '{' || c == '}') {
      braceDepth += c == '{' ? 1 : -1;
      continue;
    }
    if (braceDepth > 0)
      continue;
    if (c == '(' || c == ')' || c == ',') {
      // A name followed by '(' is an anchor (builtin.module, func.func).
      if (!current.empty() && c != '(' && !llvm::is_contained(names, current))
        names.push_back(current);
      current.clear();
      continue;
    }
    if (c != ' ')
      current.push_back(c);
  }
  return names;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // --mlir-print-debuginfo & co. apply to every printed module.
  registerAsmPrinterCLOptions();
  cl::HideUnrelatedOptions(attncCategory);
  // Keep the one printing flag the README documents visible.
  if (auto *debugInfo =
          cl::getRegisteredOptions().lookup("mlir-print-debuginfo")) {
    debugInfo->setHiddenFlag(cl::NotHidden);
    debugInfo->addCategory(attncCategory);
  }
  adoptTimePassesOption();
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "attnc " << ATTNC_VERSION << " (LLVM/MLIR " << LLVM_VERSION_STRING
       << ")\n";
    os << "host: " << llvm::sys::getHostCPUName() << " (AVX512-BF16: "
       << (hostHasFeature("avx512bf16") ? "yes" : "no")
       << ", AMX-BF16: " << (hostHasAMXBF16() ? "yes" : "no") << ")\n";
    os << "--dot-precision=auto gives bf16 models "
       << (hostPrefersBF16Dots() ? "bf16" : "f32") << " dot products"
       << (hostPrefersBF16Dots() && !hostPrefersVectorBF16Dots()
               ? " on the AMX tile unit (f32 where its tiles are not whole)"
               : "")
       << "\n";
  });
  // -Wno-GROUP, -WGROUP and -w (see warningsHelp); -Werror stays for the
  // registry.
  std::vector<char *> args;
  for (int i = 0; i < argc; ++i) {
    llvm::StringRef arg(argv[i]);
    if (i > 0 && arg == "-w") {
      noWarnings = true;
      continue;
    }
    if (i > 0 && arg.starts_with("-W") && arg != "-Werror") {
      warningFlags.push_back(arg.drop_front(2).str());
      continue;
    }
    args.push_back(argv[i]);
  }
  argc = int(args.size());
  argv = args.data();
  cl::ParseCommandLineOptions(argc, argv,
                              "attnc: compiles attention models (.attn, or "
                              "the attn dialect in .mlir) to shared "
                              "libraries with a C ABI\n");

  // The timing report, printed when `timing` is destroyed, on every return:
  // `phase` is the running phase, a child of the root; assigning the next
  // phase stops the previous one.
  DefaultTimingManager timing;
  timing.setEnabled(llvm::TimePassesIsEnabled);
  llvm::TimePassesIsEnabled = false;
  TimingScope rootTiming = timing.getRootScope();
  TimingScope phase;

  if (tileSize.getNumOccurrences() && (tileSize < 1 || tileSize > 4096))
    return fail("--tile-size must be between 1 and 4096");
  if (queryTilesPerGroup.getNumOccurrences() &&
      (queryTilesPerGroup < 1 || queryTilesPerGroup > 64))
    return fail("--query-tiles-per-group must be between 1 and 64");
  if (gpuThreadsPerBlock < 1 || gpuThreadsPerBlock > 1024)
    return fail("--gpu-threads-per-block must be between 1 and 1024");
  std::string targetError;
  FailureOr<std::vector<std::string>> cudaChips =
      cudaChipsOf(target, targetError);
  if (failed(cudaChips))
    return fail(targetError);
  bool cuda = !cudaChips->empty();
  if (gpuScheduleOnHost && target != "host")
    return fail("--gpu-schedule-on-host runs on the host: it takes no "
                "--target");
  if (cuda) {
    if (dotPrecision == DotPrecision::BF16)
      return fail("--dot-precision=bf16 is a CPU kernel; --target=cuda "
                  "does not support it");
  } else if (emitStage == Stage::GPU || emitStage == Stage::NVVM ||
             emitStage == Stage::PTX) {
    return fail("--emit=gpu, nvvm and ptx need --target=cuda");
  }
  if (!mlir::attn::lookupTarget(vectorISA))
    return fail("--vector-isa: unknown value '" + vectorISA +
                "' (expected " + mlir::attn::knownTargetNames().str() + ")");
  if (cuda && vectorISA.getNumOccurrences())
    return fail("--vector-isa sizes the CPU kernels; --target=cuda does not "
                "take it");
  if (dotPrecision == DotPrecision::BF16 && !hostHasFeature("avx512bf16"))
    return fail("--dot-precision=bf16 needs a CPU with AVX512-BF16, and "
                "this host (" + llvm::sys::getHostCPUName().str() +
                ") has none");

  // Front end: a .attn file is parsed and checked here; a .mlir file is
  // parsed once the MLIR context exists.
  phase = rootTiming.nest("Parse");
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFilename);
  if (std::error_code ec = buffer.getError())
    return fail("cannot read '" + inputFilename + "': " + ec.message());
  bool mlirInput = llvm::sys::path::extension(inputFilename) == ".mlir";
  if (mlirInput && emitStage == Stage::AST)
    return fail("--emit=ast needs a .attn input; '" + inputFilename +
                "' is MLIR");
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  attnc::DiagnosticReporter diag(sourceMgr, llvm::errs());
  if (noWarnings)
    diag.disableAllWarnings();
  diag.setWarningsAreErrors(warningsHelp);
  for (const std::string &flag : warningFlags) {
    llvm::StringRef name(flag);
    bool off = name.consume_front("no-");
    std::optional<attnc::WarningGroup> group = attnc::parseWarningGroup(name);
    if (!group)
      return fail("unknown warning option '-W" + flag +
                  "' (expected -Werror or -W[no-]unused, -W[no-]unused-dim, "
                  "-W[no-]empty-mask)");
    if (off)
      diag.disable(*group);
  }
  std::unique_ptr<attnc::ast::File> ast;
  std::optional<std::vector<attnc::ModelSpec>> models;
  if (!mlirInput) {
    ast = attnc::parseFile(sourceMgr, diag);
    if (!ast)
      return 1;
    if (emitStage != Stage::AST) {
      phase = rootTiming.nest("Sema");
      models = attnc::analyzeFile(*ast, diag);
      if (!models)
        return 1;
    }
  }

  std::string stem = llvm::sys::path::stem(inputFilename).str();
  std::string output =
      outputFilename.empty() ? defaultOutput(stem) : outputFilename.getValue();
  bool toStdout = output == "-";
  if (toStdout && !isTextStage(emitStage))
    return fail("this --emit stage writes a binary file: give -o <file>");
  if (!toStdout) {
    // Fail before any work when the output cannot be created.
    llvm::StringRef dir = llvm::sys::path::parent_path(output);
    if (!dir.empty() && !llvm::sys::fs::is_directory(dir))
      return fail("cannot write '" + output + "': no directory '" + dir + "'");
  }

  // Everything is written to a temporary file that is renamed at the end.
  std::string tempPath;
  auto finish =
      [&](llvm::function_ref<LogicalResult(llvm::raw_pwrite_stream &)> write,
          llvm::StringRef phaseName = "Output") -> int {
    phase = rootTiming.nest(phaseName);
    if (toStdout)
      return failed(write(llvm::outs())) ? 1 : 0;
    std::string error;
    auto file = openOutputFile(output + ".tmp", &error);
    if (!file)
      return fail(error);
    if (failed(write(file->os())))
      return 1;
    file->keep();
    file->os().close();
    if (std::error_code ec = llvm::sys::fs::rename(output + ".tmp", output))
      return fail("cannot write '" + output + "': " + ec.message());
    return 0;
  };

  if (emitStage == Stage::AST)
    return finish([&](llvm::raw_pwrite_stream &os) {
      attnc::dumpAST(*ast, os);
      return success();
    });

  // Middle end.
  phase = rootTiming.nest("MLIR context");
  DialectRegistry registry;
  attnc::registerDialects(registry);
  // Dialects are loaded as the parser, MLIRGen and the passes need them.
  MLIRContext context(registry);
  SourceMgrDiagnosticHandler mlirDiagnostics(sourceMgr, &context);
  // A refusal of the GPU path is located at the .attn construct; the
  // lowered op it is about, printed in generic form, would be noise.
  if (cuda)
    context.printOpOnDiagnostic(false);

  attnc::PipelineOptions options;
  options.optLevel = optLevel.getValue();
  options.tileSize = tileSize.getValue();
  options.vectorize = vectorize.getValue();
  options.queryTilesPerGroup = queryTilesPerGroup.getValue();
  options.splitKeys = splitKeys.getValue();
  options.fuseKeyProjections = fuseKeyProjections.getValue();
  options.singleQueryCopy = singleQueryCopy.getValue();
  // The GPU paths keep the pipeline's default, so that their IR does not
  // depend on the machine that compiles them.
  if (!cuda && !gpuScheduleOnHost)
    options.vectorISA = mlir::attn::lookupTarget(vectorISA)->name.str();
  options.bf16DotProducts =
      dotPrecision == DotPrecision::BF16 ||
      (dotPrecision == DotPrecision::Auto && !cuda && !gpuScheduleOnHost &&
       models && isBF16File(*models) && hostPrefersBF16Dots());
  options.amxTiles = options.bf16DotProducts && amx.getValue() &&
                     hostHasAMXBF16();
  // auto: vdpbf16ps only where it beats f32 FMAs.
  options.bf16VectorDots = dotPrecision == DotPrecision::BF16 ||
                           !options.amxTiles || hostPrefersVectorBF16Dots();
  options.threads = openmp.getValue();
  options.expandBF16Conversions = !cuda && !hostHasFeature("avx512bf16");
  if (cuda || gpuScheduleOnHost) {
    // The GPU schedule starts from the scalar per-query kernel: one thread
    // per (batch, head, query tile) block, no vectors, no OpenMP.
    options.vectorize = false;
    options.threads = false;
    // Projections, glue values and copies become kernels too: on the
    // device, host code must not touch the buffers.
    options.parallelLinalgLoops = true;
    options.gpuThreadsPerBlock = gpuThreadsPerBlock.getValue();
    if (!tileSize.getNumOccurrences())
      options.tileSize = kGPUKeyTile;
    if (cuda)
      options.gpuChip = cudaChips->front();
  }
  if (!printAfter.empty()) {
    llvm::SmallVector<std::string> known =
        knownPassNames(context, options, cuda);
    for (const std::string &name : printAfter)
      if (!llvm::is_contained(known, name))
        return fail("--print-ir-after: no pass named '" + name +
                    "' in the pipeline (passes: " + llvm::join(known, ", ") +
                    ")");
  }

  OwningOpRef<ModuleOp> module;
  if (mlirInput) {
    phase = rootTiming.nest("Parse (MLIR)");
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  } else {
    phase = rootTiming.nest("MLIRGen");
    module = attnc::mlirGen(context, *models);
    if (module && printAfterAll)
      llvm::errs() << "// -----// IR after MLIRGen //----- //\n"
                   << *module << "\n";
  }
  if (!module)
    return 1;

  // The C ABI, from the kernels' attributes: read before lowering, used by
  // the header and the entry points.
  phase = rootTiming.nest("Read the ABI");
  FailureOr<std::vector<attnc::ModelABI>> abis = attnc::readModelABIs(*module);
  if (failed(abis))
    return 1;
  if (emitStage == Stage::Header)
    return finish([&](llvm::raw_pwrite_stream &os) {
      // ATTNC_<FILE STEM>_H, with what C does not allow in a name as '_'.
      std::string guard = "ATTNC_";
      for (char c : llvm::sys::path::stem(toStdout ? stem : output))
        guard.push_back(llvm::isAlnum(c) ? llvm::toUpper(c) : '_');
      guard += "_H";
      os << attnc::headerText(*abis, guard, cuda);
      return success();
    });
  if (emitStage == Stage::Attn)
    return finish([&](llvm::raw_pwrite_stream &os) {
      attnc::printWithArgumentNames(*module, os);
      return success();
    });

  phase = rootTiming.nest("attn-to-loops (pass pipeline)");
  if (failed(runPipeline(*module, attnc::buildAttnToLoopsPipeline, options,
                         phase)))
    return 1;
  if (gpuScheduleOnHost) {
    phase = rootTiming.nest("gpu-schedule-on-host (pass pipeline)");
    if (failed(runPipeline(*module, attnc::buildGPUScheduleOnHostPipeline,
                           options, phase)))
      return 1;
  }
  if (emitStage == Stage::Loops)
    return finish([&](llvm::raw_pwrite_stream &os) {
      attnc::printWithArgumentNames(*module, os);
      return success();
    });

  if (cuda) {
    phase = rootTiming.nest("loops-to-gpu (pass pipeline)");
    if (failed(runPipeline(*module, attnc::buildLoopsToGPUPipeline, options,
                           phase)))
      return 1;
    if (emitStage == Stage::GPU)
      return finish([&](llvm::raw_pwrite_stream &os) {
        attnc::printWithArgumentNames(*module, os);
        return success();
      });
    phase = rootTiming.nest("gpu-to-nvvm (pass pipeline)");
    if (failed(runPipeline(*module, attnc::buildGPUToNVVMPipeline, options,
                           phase)))
      return 1;
    if (emitStage == Stage::NVVM)
      return finish([&](llvm::raw_pwrite_stream &os) {
        attnc::printWithArgumentNames(*module, os);
        return success();
      });
    if (failed(checkKernelsAreNVVM(*module)))
      return 1;
    phase = rootTiming.nest("nvvm-to-ptx (pass pipeline)");
    if (failed(runPipeline(*module, attnc::buildNVVMToPTXPipeline, options,
                           phase)))
      return 1;
    if (emitStage == Stage::PTX)
      return finish([&](llvm::raw_pwrite_stream &os) {
        return writePTX(*module, os);
      });
    phase = rootTiming.nest("Embed the kernels (ptxas, fatbinary)");
    std::string note;
    if (failed(attnc::embedCudaKernels(*module, *cudaChips, note)))
      return 1;
    if (!note.empty())
      llvm::WithColor::note(llvm::errs(), "attnc") << note << "\n";
    phase = rootTiming.nest("gpu-host-to-llvm (pass pipeline)");
    if (failed(runPipeline(*module, attnc::buildGPUHostToLLVMPipeline, options,
                           phase)))
      return 1;
  } else {
    phase = rootTiming.nest("loops-to-llvm (pass pipeline)");
    if (failed(runPipeline(*module, attnc::buildLoopsToLLVMPipeline, options,
                           phase)))
      return 1;
  }
  phase = rootTiming.nest("ABI entry points");
  if (failed(attnc::addEntryPoints(*module, *abis, cuda)))
    return 1;
  if (printAfterAll)
    llvm::errs()
        << "// -----// IR after adding the ABI entry points //----- //\n"
        << *module << "\n";
  if (emitStage == Stage::LLVMDialect)
    return finish([&](llvm::raw_pwrite_stream &os) {
      module->print(os);
      return success();
    });

  // Back end.
  phase = rootTiming.nest("LLVM translation");
  std::string error;
  // A CUDA library's host code runs on this CPU too. Code on the AMX tile
  // unit takes at least -O1 instruction selection and register allocation:
  // LLVM 19's -O0 path (fast tile configuration) emits tile instructions
  // its encoder crashes on.
  unsigned codegenLevel =
      options.amxTiles ? std::max<unsigned>(optLevel, 1) : optLevel;
  auto machine = attnc::createTargetMachine(
      cuda ? std::string("host") : target.getValue(), codegenLevel, error);
  if (!machine)
    return fail(error);
  llvm::LLVMContext llvmContext;
  auto llvmModule = attnc::translateToLLVMIR(*module, llvmContext, *machine);
  if (!llvmModule)
    return 1;
  // The one-module path: what --emit=llvm-ir, asm and obj show.
  if (emitStage == Stage::LLVMIR || emitStage == Stage::Asm ||
      emitStage == Stage::Obj) {
    phase = rootTiming.nest(
        ("LLVM optimization (-O" + llvm::Twine(optLevel) + ")").str());
    attnc::optimizeLLVMModule(*llvmModule, *machine, optLevel,
                              /*autoVectorize=*/options.vectorize, &phase);
  }
  if (emitStage == Stage::LLVMIR)
    return finish([&](llvm::raw_pwrite_stream &os) {
      llvmModule->print(os, nullptr);
      return success();
    });
  if (emitStage == Stage::Asm || emitStage == Stage::Obj)
    return finish(
        [&](llvm::raw_pwrite_stream &os) {
          LogicalResult result = attnc::emitMachineCode(
              *llvmModule, *machine, os, emitStage == Stage::Asm, error);
          if (failed(result))
            fail(error);
          return result;
        },
        emitStage == Stage::Asm ? "LLVM code generation (assembly)"
                                : "LLVM code generation (object file)");

  // Shared library: object files (one per part) in a temporary directory,
  // then link.
  phase = rootTiming.nest("LLVM optimization and code generation");
  attnc::BackendOptions backend;
  backend.target = cuda ? std::string("host") : target.getValue();
  backend.codegenLevel = codegenLevel;
  backend.optLevel = optLevel;
  backend.autoVectorize = options.vectorize;
  backend.parts =
      backendParts ? backendParts.getValue()
                   : std::min(4u, llvm::hardware_concurrency().compute_thread_count());
  llvm::SmallVector<std::string> objects;
  LogicalResult compiled = attnc::emitObjectFiles(*llvmModule, backend, stem,
                                                  objects, error, &phase);
  llvm::SmallVector<std::unique_ptr<llvm::FileRemover>> removeObjects;
  for (const std::string &object : objects)
    removeObjects.push_back(std::make_unique<llvm::FileRemover>(object));
  if (failed(compiled))
    return fail(error);
  phase = rootTiming.nest("Link");
  std::string tempLib = output + ".tmp";
  llvm::FileRemover removeTempLib(tempLib);
  if (failed(attnc::linkSharedLibrary(objects, tempLib,
                                      /*openmp=*/!cuda && options.threads,
                                      error)))
    return fail(error);
  if (std::error_code ec = llvm::sys::fs::rename(tempLib, output))
    return fail("cannot write '" + output + "': " + ec.message());
  return 0;
}
