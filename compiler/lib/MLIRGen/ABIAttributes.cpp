//===- ABIAttributes.cpp - The C ABI of a model, carried by its kernel ----===//
//
// The kernel function of model M carries everything the back end needs to
// build the C ABI of M (entry points, signature JSON, header), so that the
// back end reads only the IR and attnc can start from a .mlir file:
//
//   func.func @__attnc_M_kernel(
//       %arg0: memref<?x?x64xf32> {attn.arg = {dims = ["b", "n", 64],
//                                              name = "X", role = "input"}},
//       ...) attributes {attn.model = "M", llvm.emit_c_interface}
//
//  * attn.model (function attribute, StringAttr): the model's name M.
//  * attn.arg (argument attribute, DictionaryAttr), one per argument, in ABI
//    order (inputs and params, then outputs):
//      name  StringAttr   the argument's name
//      role  StringAttr   "input", "param" or "output"
//      dims  ArrayAttr    per dimension: a StringAttr naming a dynamic
//                         dimension, or an i64 IntegerAttr, a static size
//    The element type (dtype) is the memref's element type (see kDTypes).
//
// The reader and its checks are in compiler/lib/Codegen/ModelABI.cpp.
//
//===----------------------------------------------------------------------===//

#include "attnc/MLIRGen/MLIRGen.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace attnc;

namespace {

/// The element types the compiled code supports and their MLIR types. The
/// ABI (attnc_dtype, the signature JSON, the runtime's checks) also knows f64
/// and i64: supporting one in the IR is adding its row here once MLIRGen and
/// the lowering handle it.
struct DTypeEntry {
  DType dtype;
  Type (*get)(MLIRContext *);
};

const DTypeEntry kDTypes[] = {
    {DType::F32, [](MLIRContext *c) -> Type { return Float32Type::get(c); }},
    {DType::BF16, [](MLIRContext *c) -> Type { return BFloat16Type::get(c); }},
    {DType::F16, [](MLIRContext *c) -> Type { return Float16Type::get(c); }},
    {DType::I32,
     [](MLIRContext *c) -> Type { return IntegerType::get(c, 32); }},
};

StringRef roleText(Role role) {
  switch (role) {
  case Role::Input:
    return "input";
  case Role::Param:
    return "param";
  case Role::Output:
    return "output";
  }
  llvm_unreachable("unknown role");
}

} // namespace

Type attnc::abiElementType(MLIRContext *context, DType dtype) {
  for (const DTypeEntry &entry : kDTypes)
    if (entry.dtype == dtype)
      return entry.get(context);
  return Type();
}

std::optional<DType> attnc::abiDType(Type type) {
  for (const DTypeEntry &entry : kDTypes)
    if (entry.get(type.getContext()) == type)
      return entry.dtype;
  return std::nullopt;
}

std::optional<Role> attnc::abiRole(StringRef text) {
  for (Role role : {Role::Input, Role::Param, Role::Output})
    if (roleText(role) == text)
      return role;
  return std::nullopt;
}

void attnc::setABIAttributes(func::FuncOp func, ArrayRef<ArgSpec> args,
                             StringRef modelName) {
  Builder b(func.getContext());
  func->setAttr(kModelAttrName, b.getStringAttr(modelName));
  for (auto [i, arg] : llvm::enumerate(args)) {
    if (i >= func.getNumArguments())
      break;
    SmallVector<Attribute> dims;
    for (const ShapeEntry &dim : arg.shape)
      dims.push_back(dim.isDynamic()
                         ? Attribute(b.getStringAttr(dim.dynName))
                         : Attribute(b.getI64IntegerAttr(dim.staticSize)));
    func.setArgAttr(
        i, kArgAttrName,
        b.getDictionaryAttr({
            b.getNamedAttr("name", b.getStringAttr(arg.name)),
            b.getNamedAttr("role", b.getStringAttr(roleText(arg.role))),
            b.getNamedAttr("dims", b.getArrayAttr(dims)),
        }));
  }
}
