//===- Signature.h - Signature JSON and C header of models ------*- C++ -*-===//
//
// The two descriptions of a compiled model's C ABI that attnc emits besides
// the code: the signature JSON (embedded in the .so, returned by
// attnc_M_signature() and read back by the runtime to check every call, see
// runtime/include/attnc/attnc.h) and the C header of `--emit=header`.
//
// Both are derived from a ModelABI: the model's name and arguments as the
// kernel function's ABI attributes give them (readModelABIs in Codegen.h reads
// them from the IR); the text is built without any IR, so it can be tested
// on hand-written ModelABIs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_CODEGEN_SIGNATURE_H
#define ATTNC_CODEGEN_SIGNATURE_H

#include "attnc/Frontend/ModelSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace attnc {

/// The C ABI of one model: what the attn.model / attn.arg attributes of its
/// kernel function say (see attnc/MLIRGen/MLIRGen.h). `args` use only name,
/// role, dtype and shape of ArgSpec.
struct ModelABI {
  std::string name;          ///< The model: attnc_<name>, ...
  std::string kernel;        ///< The kernel function's symbol.
  std::vector<ArgSpec> args; ///< In ABI order.
};

/// The lower-case name of an element type as used in signatures and in the
/// language ("f32", "bf16", ...).
llvm::StringRef dtypeName(DType dtype);

/// "input", "param" or "output".
llvm::StringRef roleName(Role role);

/// The signature JSON of `model`, without any whitespace:
///   {"name":"M","args":[{"name":"F","role":"input","dtype":"f32",
///    "shape":["N",256]},...]}
/// Arguments are in ABI order; a dynamic dimension is its name as a string,
/// a static one its size as a number. Names are JSON-escaped.
std::string signatureJSON(const ModelABI &model);

/// The C header declaring, for each model M, attnc_M, attnc_M_signature and
/// attnc_M_last_error, with a comment listing the arguments and an enum of
/// their indices (ATTNC_M_ARG_<name>, ATTNC_M_NUM_ARGS; M and the argument
/// names are used verbatim, so distinct names give distinct constants).
/// `guardName` is the include guard macro. With `cuda` (a CUDA library)
/// attnc_M_cuda too.
std::string headerText(llvm::ArrayRef<ModelABI> models,
                       llvm::StringRef guardName, bool cuda = false);

} // namespace attnc

#endif // ATTNC_CODEGEN_SIGNATURE_H
