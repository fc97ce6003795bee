//===- Diagnostics.cpp - Source-located error messages --------------------===//
//
// Diagnostics go through llvm::SourceMgr so that every message has the
// familiar `file:line:col: error: msg` form followed by the source line and a
// caret, which is what the lit tests check.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Frontend.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace attnc;

DiagnosticReporter::DiagnosticReporter(llvm::SourceMgr &sourceMgr,
                                       llvm::raw_ostream &os)
    : sourceMgr(sourceMgr), os(os) {}

void DiagnosticReporter::error(const SourceLoc &loc,
                               const llvm::Twine &message) {
  ++errors;
  report(loc, llvm::SourceMgr::DK_Error, message);
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
