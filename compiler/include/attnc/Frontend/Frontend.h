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

#include "llvm/ADT/ArrayRef.h"
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
/// The warnings attnc gives, each a group that `-Wno-GROUP` silences
/// (docs/language.md, "Diagnostics").
enum class WarningGroup {
  Unused,    ///< -Wunused: an input or param no computation reads
  UnusedDim, ///< -Wunused-dim: a dimension declared and never used
  EmptyMask  ///< -Wempty-mask: a mask that masks nothing
};

/// The name of a warning group as the flags spell it (`unused-dim`).
const char *warningGroupName(WarningGroup group);
std::optional<WarningGroup> parseWarningGroup(llvm::StringRef name);

/// ` (did you mean 'x'?)` with x the candidate closest to `name` (edit
/// distance counting a swap of neighbours as one edit) when it is close
/// enough to be a likely misspelling (at most a third of the name, rounded
/// up); empty if none is.
std::string didYouMean(llvm::StringRef name,
                       llvm::ArrayRef<std::string> candidates);

class DiagnosticReporter {
public:
  DiagnosticReporter(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os);
  void error(const SourceLoc &loc, const llvm::Twine &message);
  void note(const SourceLoc &loc, const llvm::Twine &message);
  /// A warning of `group` (`warning: ... [-Wgroup]`), nothing when the group
  /// is disabled, an error with `-Werror` (`[-Werror,-Wgroup]`).
  void warning(const SourceLoc &loc, WarningGroup group,
               const llvm::Twine &message);
  void disable(WarningGroup group) { disabled |= 1u << unsigned(group); }
  void disableAllWarnings() { disabled = ~0u; }
  void setWarningsAreErrors(bool value) { werror = value; }
  unsigned numErrors() const { return errors; }
  unsigned numWarnings() const { return warnings; }

private:
  void report(const SourceLoc &loc, llvm::SourceMgr::DiagKind kind,
              const llvm::Twine &message);
  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned errors = 0;
  unsigned warnings = 0;
  unsigned disabled = 0;
  bool werror = false;
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
