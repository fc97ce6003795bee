//===- Frontend.h - Parse and check .attn files ------------------*- C++
//-*-===//
//
// The front end's public face: source text -> AST -> checked ModelSpecs.
// ANTLR types never appear here; the parser is built with exceptions enabled
// in its own target and turns every failure into a diagnostic.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_FRONTEND_H
#define ATTNC_FRONTEND_FRONTEND_H

#include "attnc/Frontend/ModelSpec.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <vector>

namespace attnc {

namespace ast {
struct File;
} // namespace ast

/// Prints `file:line:col: error: message`, the source line and a caret, for
/// locations in the main buffer of a SourceMgr.
class DiagnosticReporter {
public:
  DiagnosticReporter(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os);
  void error(const SourceLoc &loc, const llvm::Twine &message);
  void note(const SourceLoc &loc, const llvm::Twine &message);
  unsigned numErrors() const { return errors; }

private:
  void report(const SourceLoc &loc, llvm::SourceMgr::DiagKind kind,
              const llvm::Twine &message);
  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned errors = 0;
};

/// Parses the main buffer of `sourceMgr` (its identifier is the file name
/// used in locations). Returns null after reporting every syntax error.
std::unique_ptr<ast::File> parseFile(llvm::SourceMgr &sourceMgr,
                                     DiagnosticReporter &diag);

/// Prints the AST in a readable, stable, indented form (`attnc --emit=ast`).
void dumpAST(const ast::File &file, llvm::raw_ostream &os);

/// Checks names, shapes and combinations; returns one ModelSpec per model in
/// source order, or std::nullopt after reporting the errors.
std::optional<std::vector<ModelSpec>> analyzeFile(const ast::File &file,
                                                  DiagnosticReporter &diag);

} // namespace attnc

#endif // ATTNC_FRONTEND_FRONTEND_H
