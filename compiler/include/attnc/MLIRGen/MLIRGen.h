//===- MLIRGen.h - ModelSpec -> attn dialect --------------------*- C++ -*-===//

#ifndef ATTNC_MLIRGEN_MLIRGEN_H
#define ATTNC_MLIRGEN_MLIRGEN_H

#include "attnc/Frontend/ModelSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace attnc {

/// The name of the function computing model `name`; it takes one memref per
/// argument in ABI order and has a C interface (`_mlir_ciface_<kernel>`).
std::string kernelName(llvm::StringRef modelName);

/// Emits one kernel function per model, with attn ops located at the .attn
/// source. Returns null (after emitting a diagnostic) on failure.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          llvm::ArrayRef<ModelSpec> models);

} // namespace attnc

#endif // ATTNC_MLIRGEN_MLIRGEN_H
