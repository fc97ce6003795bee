//===- Diagnostics.cpp - Source-located error messages --------------------===//
//
// Diagnostics go through llvm::SourceMgr so that every message has the
// familiar `file:line:col: error: msg` form followed by the source line and a
// caret, which is what the lit tests check.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Frontend.h"

#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <vector>

using namespace attnc;

DiagnosticReporter::DiagnosticReporter(llvm::SourceMgr &sourceMgr,
                                       llvm::raw_ostream &os)
    : sourceMgr(sourceMgr), os(os) {}

void DiagnosticReporter::error(const SourceLoc &loc,
                               const llvm::Twine &message) {
  ++errors;
  report(loc, llvm::SourceMgr::DK_Error, message);
}

/// The optimal-string-alignment distance: insertions, deletions,
/// substitutions and swaps of adjacent characters, each 1.
static unsigned misspellingDistance(llvm::StringRef a, llvm::StringRef b) {
  size_t n = a.size(), m = b.size();
  std::vector<std::vector<unsigned>> d(n + 1, std::vector<unsigned>(m + 1));
  for (size_t i = 0; i <= n; ++i)
    d[i][0] = unsigned(i);
  for (size_t j = 0; j <= m; ++j)
    d[0][j] = unsigned(j);
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string attnc::didYouMean(llvm::StringRef name,
                              llvm::ArrayRef<std::string> candidates) {
  // Names are short; longer ones are not misspellings of these.
  if (name.size() > 64)
    return "";
  unsigned limit = std::max<unsigned>(1, (unsigned(name.size()) + 2) / 3);
  std::string best;
  unsigned bestDistance = limit + 1;
  for (const std::string &c : candidates) {
    if (c == name || c.size() > 64)
      continue;
    unsigned distance = misspellingDistance(name, c);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = c;
    }
  }
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

const char *attnc::warningGroupName(WarningGroup group) {
  switch (group) {
  case WarningGroup::Unused:
    return "unused";
  case WarningGroup::UnusedDim:
    return "unused-dim";
  case WarningGroup::EmptyMask:
    return "empty-mask";
  }
  return "unknown";
}

std::optional<WarningGroup> attnc::parseWarningGroup(llvm::StringRef name) {
  for (WarningGroup g : {WarningGroup::Unused, WarningGroup::UnusedDim,
                         WarningGroup::EmptyMask})
    if (name == warningGroupName(g))
      return g;
  return std::nullopt;
}

void DiagnosticReporter::warning(const SourceLoc &loc, WarningGroup group,
                                 const llvm::Twine &message) {
  if (disabled & (1u << unsigned(group)))
    return;
  std::string flag = std::string("-W") + warningGroupName(group);
  if (werror) {
    ++errors;
    report(loc, llvm::SourceMgr::DK_Error,
           message + " [-Werror," + flag + "]");
    return;
  }
  ++warnings;
  report(loc, llvm::SourceMgr::DK_Warning, message + " [" + flag + "]");
}

void DiagnosticReporter::note(const SourceLoc &loc,
                              const llvm::Twine &message) {
  report(loc, llvm::SourceMgr::DK_Note, message);
}

void DiagnosticReporter::report(const SourceLoc &loc,
                                llvm::SourceMgr::DiagKind kind,
                                const llvm::Twine &message) {
  unsigned mainID = sourceMgr.getMainFileID();
  if (mainID != 0 && loc.line != 0) {
    llvm::SMLoc smLoc =
        sourceMgr.FindLocForLineAndColumn(mainID, loc.line, loc.col);
    if (smLoc.isValid()) {
      sourceMgr.PrintMessage(os, smLoc, kind, message);
      return;
    }
  }
  // A location SourceMgr cannot map (no buffer, or a column past the end of
  // the buffer): still print `file:line:col:` so the format stays uniform.
  std::string file = loc.file;
  if (file.empty() && mainID != 0)
    file = sourceMgr.getMemoryBuffer(mainID)->getBufferIdentifier().str();
  llvm::SMDiagnostic diag(sourceMgr, llvm::SMLoc(), file,
                          loc.line ? int(loc.line) : -1,
                          loc.line ? int(loc.col) - 1 : -1, kind, message.str(),
                          /*LineStr=*/"", /*Ranges=*/{});
  diag.print(/*ProgName=*/nullptr, os, /*ShowColors=*/true,
             /*ShowKindLabel=*/true);
}
