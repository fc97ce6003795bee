//===- DialectFuzzer.cpp - libFuzzer target: attn-opt's parser + verifiers -===//
//
// Feeds the bytes to MLIR's parser as attn-opt reads its input: the attn
// dialect and the upstream dialects attnc registers, then the verifiers
// (parsing verifies; the attn ops' custom parsers, printers and verifiers are
// the code under test). A module that contains attn ops and verifies must
// also print and parse back (the custom assembly formats round-trip).
// Rejections are diagnostics, swallowed; a crash, a sanitizer report, a leak
// or a hang is a defect.
//
//===----------------------------------------------------------------------===//

#include "FuzzDialects.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

bool containsAttnOps(mlir::ModuleOp module) {
  bool found = false;
  module->walk([&](mlir::Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "attn")
      found = true;
  });
  return found;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext context(attnc::fuzz::dialectRegistry(),
                            mlir::MLIRContext::Threading::DISABLED);
  // Diagnostics are formatted (that code runs too) but not shown.
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler swallow(
      &context, [&](mlir::Diagnostic &diagnostic) {
        diagnostics += diagnostic.str();
        return mlir::success();
      });
  // MLIR's lexer expects the NUL after the text that every file buffer
  // has (attn-opt reads files): give it one.
  std::string text(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, &context, "fuzz.mlir");
  if (!module || !containsAttnOps(*module))
    return 0;

  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  os.flush();
  mlir::OwningOpRef<mlir::ModuleOp> reparsed =
      mlir::parseSourceString<mlir::ModuleOp>(printed, &context, "printed.mlir");
  if (!reparsed) {
    std::fprintf(stderr,
                 "a verified module does not parse back after printing:\n"
                 "%s\n-- diagnostics --\n%s\n",
                 printed.c_str(), diagnostics.c_str());
    std::abort();
  }
  return 0;
}
