//===- ModelABI.cpp - Reading the C ABI of models from the IR -------------===//
//
// The models of a module are its functions with an `attn.model` attribute,
// in module order; their arguments' `attn.arg` attributes and memref types
// give the ABI (schema in compiler/lib/MLIRGen/ABIAttributes.cpp). Everything
// that the signature, the header or the runtime could not represent is
// reported here, located at the function or argument, so that a hand-written
// or edited .mlir file fails before any lowering.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Codegen.h"
#include "attnc/Codegen/Signature.h"
#include "attnc/MLIRGen/MLIRGen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace attnc;

namespace {

// Limits of the runtime (runtime/include/attnc/runtime.h and attnc.h): a
// signature beyond them could not be checked at call time.
constexpr unsigned kMaxArgs = 64; // ATTNC_RT_MAX_ARGS
constexpr unsigned kMaxRank = 8;  // ATTNC_MAX_RANK

bool isIdentifier(StringRef s) {
  if (s.empty() || !(llvm::isAlpha(s[0]) || s[0] == '_'))
    return false;
  return llvm::all_of(s, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

/// The supported element types, for messages: "f32, bf16, f16, i32".
std::string supportedElementTypes(MLIRContext *ctx) {
  std::vector<std::string> names;
  for (DType d : {DType::F32, DType::BF16, DType::F16, DType::F64, DType::I32,
                  DType::I64})
    if (Type t = abiElementType(ctx, d))
      names.push_back(typeString(t));
  return llvm::join(names, ", ");
}

/// Reads argument `i` of `func` (model `model`) into `arg`.
LogicalResult readArg(func::FuncOp func, StringRef model, unsigned i,
                      ArgSpec &arg) {
  Location loc =
      func.isExternal() ? func.getLoc() : func.getArgument(i).getLoc();
  auto fail = [&]() {
    return emitError(loc) << "argument #" << i << " of model '" << model
                          << "': ";
  };
  Type type = func.getArgumentTypes()[i];
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref)
    return fail() << "the type must be a memref, not " << type;
  if (!memref.getLayout().isIdentity() || memref.getMemorySpace())
    return fail() << "the memref must have the default (row-major) layout and "
                     "memory space, not "
                  << type;
  auto dict = func.getArgAttrOfType<DictionaryAttr>(i, kArgAttrName);
  if (!dict) {
    if (func.getArgAttr(i, kArgAttrName))
      return fail() << "'" << kArgAttrName
                    << "' must be a dictionary {name, role, dims}";
    return fail() << "no '" << kArgAttrName
                  << "' attribute: every argument of a kernel needs "
                     "{name = \"X\", role = \"input\"|\"param\"|\"output\", "
                     "dims = [...]}";
  }
  for (NamedAttribute entry : dict)
    if (!llvm::is_contained({"name", "role", "dims"}, entry.getName().strref()))
      return fail() << "unknown key '" << entry.getName().strref() << "' in '"
                    << kArgAttrName << "' (keys: name, role, dims)";

  auto name = dict.getAs<StringAttr>("name");
  if (!name)
    return fail() << "'" << kArgAttrName << "' needs a string 'name'";
  if (!isIdentifier(name.getValue()))
    return fail() << "name '" << name.getValue() << "' is not a C identifier";
  arg.name = name.getValue().str();

  auto role = dict.getAs<StringAttr>("role");
  if (!role)
    return fail() << "'" << kArgAttrName
                  << "' needs a 'role': \"input\", \"param\" or \"output\"";
  std::optional<Role> r = abiRole(role.getValue());
  if (!r)
    return fail() << "role '" << role.getValue()
                  << "' is not \"input\", \"param\" or \"output\"";
  arg.role = *r;

  std::optional<DType> dtype = abiDType(memref.getElementType());
  if (!dtype)
    return fail() << "element type " << memref.getElementType()
                  << " is not supported (supported: "
                  << supportedElementTypes(func.getContext()) << ")";
  arg.dtype = *dtype;

  auto dims = dict.getAs<ArrayAttr>("dims");
  if (!dims)
    return fail() << "'" << kArgAttrName
                  << "' needs 'dims', an array of dimension names (dynamic) "
                     "and sizes (static)";
  if (memref.getRank() > kMaxRank)
    return fail() << "rank " << memref.getRank() << " exceeds the maximum of "
                  << kMaxRank;
  if ((int64_t)dims.size() != memref.getRank())
    return fail() << "'dims' has " << dims.size()
                  << " entries but the memref has rank " << memref.getRank();
  arg.shape.clear();
  for (auto [d, attr] : llvm::enumerate(dims)) {
    int64_t size = memref.getDimSize(d);
    ShapeEntry entry;
    if (auto dyn = dyn_cast<StringAttr>(attr)) {
      if (dyn.getValue().empty())
        return fail() << "dimension " << d << " has an empty name";
      if (!ShapedType::isDynamic(size))
        return fail() << "dimension " << d << " is named '" << dyn.getValue()
                      << "' (dynamic) but has the static size " << size
                      << " in " << type;
      entry.dynName = dyn.getValue().str();
    } else if (auto fixed = dyn_cast<IntegerAttr>(attr)) {
      int64_t value = fixed.getValue().getSExtValue();
      if (!fixed.getType().isInteger(64) || value < 0)
        return fail() << "dimension " << d
                      << " must be a dimension name or a size (i64 >= 0), not "
                      << attr;
      if (value != size)
        return fail() << "dimension " << d << " is " << value
                      << " in 'dims' but "
                      << (ShapedType::isDynamic(size) ? std::string("dynamic")
                                                      : std::to_string(size))
                      << " in " << type;
      entry.staticSize = value;
    } else {
      return fail() << "dimension " << d
                    << " must be a dimension name (string) or a size (i64), "
                       "not "
                    << attr;
    }
    arg.shape.push_back(entry);
  }
  return success();
}

} // namespace

FailureOr<std::vector<ModelABI>> attnc::readModelABIs(ModuleOp module) {
  std::vector<ModelABI> models;
  llvm::StringMap<func::FuncOp> byName;
  for (func::FuncOp func : module.getOps<func::FuncOp>()) {
    Attribute modelAttr = func->getAttr(kModelAttrName);
    if (!modelAttr)
      continue;
    auto nameAttr = dyn_cast<StringAttr>(modelAttr);
    if (!nameAttr || !isIdentifier(nameAttr.getValue()))
      return emitError(func.getLoc())
             << "'" << kModelAttrName
             << "' must be a string naming the model with a C identifier, not "
             << modelAttr;
    StringRef name = nameAttr.getValue();
    auto [it, inserted] = byName.try_emplace(name, func);
    if (!inserted) {
      InFlightDiagnostic diag = emitError(func.getLoc())
                                << "model '" << name << "' is defined twice";
      diag.attachNote(it->second.getLoc()) << "first defined here";
      return diag;
    }
    if (func.isExternal())
      return emitError(func.getLoc())
             << "the kernel of model '" << name << "' has no body";
    if (func.getNumResults() != 0)
      return emitError(func.getLoc())
             << "the kernel of model '" << name
             << "' must return nothing (outputs are arguments)";
    if (!func->hasAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName()))
      return emitError(func.getLoc())
             << "the kernel of model '" << name << "' needs the '"
             << LLVM::LLVMDialect::getEmitCWrapperAttrName()
             << "' attribute (the entry points call its C interface)";
    if (func.getNumArguments() > kMaxArgs)
      return emitError(func.getLoc())
             << "model '" << name << "' has " << func.getNumArguments()
             << " arguments, more than the maximum of " << kMaxArgs;

    ModelABI abi;
    abi.name = name.str();
    abi.kernel = func.getSymName().str();
    abi.args.resize(func.getNumArguments());
    llvm::StringMap<unsigned> argIndex;
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      ArgSpec &arg = abi.args[i];
      if (failed(readArg(func, name, i, arg)))
        return failure();
      Location loc = func.getArgument(i).getLoc();
      auto [prev, fresh] = argIndex.try_emplace(arg.name, i);
      if (!fresh)
        return emitError(loc)
               << "argument #" << i << " of model '" << name << "': the name '"
               << arg.name << "' is also the name of argument #"
               << prev->second;
      if (i > 0 && arg.role != Role::Output &&
          abi.args[i - 1].role == Role::Output)
        return emitError(loc)
               << "argument #" << i << " of model '" << name
               << "': " << (arg.role == Role::Input ? "an input" : "a param")
               << " after an output (the ABI order is inputs and params, "
                  "then outputs)";
    }
    models.push_back(std::move(abi));
  }
  if (models.empty()) {
    auto funcs = module.getOps<func::FuncOp>();
    return emitError(funcs.empty() ? module.getLoc()
                                   : (*funcs.begin()).getLoc())
           << "no model in the module: no function has an '" << kModelAttrName
           << "' attribute (the kernels printed by attnc --emit=attn carry "
              "their ABI as attributes)";
  }
  return models;
}
