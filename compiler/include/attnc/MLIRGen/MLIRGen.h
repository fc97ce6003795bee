//===- MLIRGen.h - ModelSpec -> attn dialect --------------------*- C++ -*-===//

#ifndef ATTNC_MLIRGEN_MLIRGEN_H
#define ATTNC_MLIRGEN_MLIRGEN_H

#include "attnc/Frontend/ModelSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>
#include <string>

namespace attnc {

/// The name of the function computing model `name`; it takes one memref per
/// argument in ABI order and has a C interface (`_mlir_ciface_<kernel>`).
std::string kernelName(llvm::StringRef modelName);

/// Emits one kernel function per model, with attn ops located at the .attn
/// source. Returns null (after emitting a diagnostic) on failure.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          llvm::ArrayRef<ModelSpec> models);

/// The ABI attributes of a kernel function (ABIAttributes.cpp has the
/// schema): `attn.model = "<name>"` on the function and, on each argument,
/// `attn.arg = {name = "X", role = "input"|"param"|"output",
/// dims = ["b", "n", 64]}`.
inline constexpr llvm::StringLiteral kModelAttrName = "attn.model";
inline constexpr llvm::StringLiteral kArgAttrName = "attn.arg";

/// Sets the ABI attributes of `func`, the kernel of model `modelName` whose
/// arguments are `args` (in ABI order, one per function argument).
void setABIAttributes(mlir::func::FuncOp func, llvm::ArrayRef<ArgSpec> args,
                      llvm::StringRef modelName);

/// The memref element type of `dtype` (null when the ABI has none).
mlir::Type abiElementType(mlir::MLIRContext *context, DType dtype);
/// The dtype of a memref element type, if the ABI has one.
std::optional<DType> abiDType(mlir::Type type);
/// The role named "input", "param" or "output".
std::optional<Role> abiRole(llvm::StringRef text);

/// Prints `module` with each model function's arguments under the names of
/// their `attn.arg` attributes (`%X` rather than `%arg0`): `--emit=attn`,
/// `--emit=loops`.
void printWithArgumentNames(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace attnc

#endif // ATTNC_MLIRGEN_MLIRGEN_H
