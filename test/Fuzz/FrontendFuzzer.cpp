//===- FrontendFuzzer.cpp - libFuzzer target: .attn text -> verified IR ---===//
//
// Feeds the bytes to attnc's front end as a .attn file, the way the driver
// does: parse (ANTLR) -> AST (also dumped, as --emit=ast would) -> Sema ->
// MLIRGen -> mlir::verify. Every rejection must be a diagnostic; a crash,
// a sanitizer report, a leak or a hang is a defect. A program that Sema
// accepts must give a module that verifies (else the driver would hand
// invalid IR to the passes): that aborts too.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Frontend.h"
#include "attnc/MLIRGen/MLIRGen.h"

#include "FuzzDialects.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.attn"),
      llvm::SMLoc());
  // Diagnostics are formatted (that code runs too) but not shown.
  std::string diagnostics;
  llvm::raw_string_ostream diagnosticStream(diagnostics);
  attnc::DiagnosticReporter diag(sourceMgr, diagnosticStream);

  std::unique_ptr<attnc::ast::File> file = attnc::parseFile(sourceMgr, diag);
  if (!file)
    return 0;
  std::string dump;
  llvm::raw_string_ostream dumpStream(dump);
  attnc::dumpAST(*file, dumpStream);
  std::optional<std::vector<attnc::ModelSpec>> models =
      attnc::analyzeFile(*file, diag);
  if (!models)
    return 0;

  mlir::MLIRContext context(attnc::fuzz::dialectRegistry(),
                            mlir::MLIRContext::Threading::DISABLED);
  mlir::SourceMgrDiagnosticHandler mlirDiagnostics(sourceMgr, &context,
                                                   diagnosticStream);
  mlir::OwningOpRef<mlir::ModuleOp> module = attnc::mlirGen(context, *models);
  if (!module)
    return 0;
  if (mlir::failed(mlir::verify(*module))) {
    diagnosticStream.flush();
    std::fprintf(stderr,
                 "Sema accepted the program but MLIRGen's module does not "
                 "verify:\n%s\n",
                 diagnostics.c_str());
    std::abort();
  }
  std::string printed;
  llvm::raw_string_ostream printedStream(printed);
  attnc::printWithArgumentNames(*module, printedStream);
  return 0;
}
