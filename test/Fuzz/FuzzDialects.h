//===- FuzzDialects.h - The dialect registry of the fuzz targets -*- C++ -*-===//
//
// The dialects attnc and attn-opt register (attnc::registerDialects without
// the LLVM IR translations, which parsing and verifying never use), built
// once per fuzzer process. Defined in FuzzDialects.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TEST_FUZZ_FUZZDIALECTS_H
#define ATTNC_TEST_FUZZ_FUZZDIALECTS_H

#include "mlir/IR/DialectRegistry.h"

namespace attnc::fuzz {

const mlir::DialectRegistry &dialectRegistry();

} // namespace attnc::fuzz

#endif // ATTNC_TEST_FUZZ_FUZZDIALECTS_H
