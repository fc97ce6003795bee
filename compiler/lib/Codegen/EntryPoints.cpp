//===- EntryPoints.cpp - The C ABI functions of each model ----------------===//
//
// For each model M, in the LLVM dialect:
//
//   attnc_M(args, nargs)  -> attnc_rt_invoke_cached(signature, &cache, args,
//                                                nargs, thunk)
//                            (attnc_rt_invoke_amx_cached when the kernels
//                            use the AMX tile unit: it asks the OS for the
//                            tile state first)
//   thunk(descriptors)    -> _mlir_ciface_<kernel>(descriptors[0], ...)
//   attnc_M_signature()   -> the signature JSON (a constant string)
//   attnc_M_last_error()  -> attnc_rt_last_error()
//
// and for a CUDA library (--target=cuda), whose kernel works on device
// memory:
//
//   attnc_M(args, nargs)  -> attnc_rt_invoke_cuda_host_cached(signature,
//                              &cache, args, nargs, thunk)  (host pointers:
//                              copied to the device and back)
//   attnc_M_cuda(args, nargs, stream)
//                         -> attnc_rt_invoke_cuda_cached(signature, &cache,
//                              args, nargs, stream, thunk)  (device pointers)
//
// The runtime checks every argument against the signature (parsed on the
// first call into `cache`, a pointer-sized global of the model) and builds
// the memref descriptors; the thunk spreads them into the kernel's C
// interface. Everything comes from the ModelABIs, which readModelABIs took
// from the module's ABI attributes before lowering.
//
//===----------------------------------------------------------------------===//

#include "attnc/Codegen/Codegen.h"
#include "attnc/Codegen/Signature.h"
#include "attnc/MLIRGen/MLIRGen.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace {

/// Returns the declaration of external function `name`, creating it.
LLVM::LLVMFuncOp declareFunction(OpBuilder &b, ModuleOp module, StringRef name,
                                 LLVM::LLVMFunctionType type) {
  if (auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return fn;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  return b.create<LLVM::LLVMFuncOp>(module.getLoc(), name, type);
}

/// Creates `name` with an entry block and leaves the builder in it.
LLVM::LLVMFuncOp defineFunction(OpBuilder &b, ModuleOp module, Location loc,
                                StringRef name, LLVM::LLVMFunctionType type,
                                LLVM::Linkage linkage) {
  b.setInsertionPointToEnd(module.getBody());
  auto fn = b.create<LLVM::LLVMFuncOp>(loc, name, type, linkage);
  b.setInsertionPointToStart(fn.addEntryBlock(b));
  return fn;
}

} // namespace

LogicalResult attnc::addEntryPoints(ModuleOp module, ArrayRef<ModelABI> models,
                                    bool cuda) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  Type ptr = LLVM::LLVMPointerType::get(ctx);
  Type i32 = b.getI32Type();
  Type voidTy = LLVM::LLVMVoidType::get(ctx);

  // Kernels on the AMX tile unit need the process's tile state first.
  bool usesAMX = module
                     .walk([](Operation *op) {
                       return op->getName().getDialectNamespace() == "amx"
                                  ? WalkResult::interrupt()
                                  : WalkResult::advance();
                     })
                     .wasInterrupted();
  auto invoke = declareFunction(
      b, module,
      cuda      ? "attnc_rt_invoke_cuda_host_cached"
      : usesAMX ? "attnc_rt_invoke_amx_cached"
                : "attnc_rt_invoke_cached",
      LLVM::LLVMFunctionType::get(i32, {ptr, ptr, ptr, i32, ptr}));
  LLVM::LLVMFuncOp invokeCuda;
  if (cuda)
    invokeCuda = declareFunction(
        b, module, "attnc_rt_invoke_cuda_cached",
        LLVM::LLVMFunctionType::get(i32, {ptr, ptr, ptr, i32, ptr, ptr}));
  auto lastError = declareFunction(b, module, "attnc_rt_last_error",
                                   LLVM::LLVMFunctionType::get(ptr, {}));

  for (const ModelABI &spec : models) {
    std::string prefix = "attnc_" + spec.name;
    std::string kernel = "_mlir_ciface_" + spec.kernel;
    auto kernelFn = module.lookupSymbol<LLVM::LLVMFuncOp>(kernel);
    if (!kernelFn)
      return emitError(module.getLoc())
             << "internal error: no C interface '" << kernel << "' of model '"
             << spec.name << "' after lowering";
    Location loc = kernelFn.getLoc();
    if (kernelFn.getNumArguments() != spec.args.size())
      return emitError(loc)
             << "internal error: '" << kernel << "' takes "
             << kernelFn.getNumArguments() << " arguments but model '"
             << spec.name << "' has " << spec.args.size();

    // The signature string, NUL-terminated.
    std::string json = signatureJSON(spec);
    json.push_back('\0');
    std::string sigName = "__" + prefix + "_signature_json";
    b.setInsertionPointToEnd(module.getBody());
    b.create<LLVM::GlobalOp>(
        loc, LLVM::LLVMArrayType::get(b.getI8Type(), json.size()),
        /*isConstant=*/true, LLVM::Linkage::Internal, sigName,
        b.getStringAttr(json));

    // The parsed signature, set by the runtime on the first call.
    std::string cacheName = "__" + prefix + "_signature_cache";
    {
      auto cache = b.create<LLVM::GlobalOp>(loc, ptr, /*isConstant=*/false,
                                            LLVM::Linkage::Internal, cacheName,
                                            Attribute());
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(b.createBlock(&cache.getInitializerRegion()));
      b.create<LLVM::ReturnOp>(loc,
                               b.create<LLVM::ZeroOp>(loc, ptr).getResult());
    }

    // thunk(descriptors): load each descriptor pointer, call the kernel.
    std::string thunkName = "__" + prefix + "_thunk";
    defineFunction(b, module, loc, thunkName,
                   LLVM::LLVMFunctionType::get(voidTy, {ptr}),
                   LLVM::Linkage::Internal);
    Value descriptors = b.getInsertionBlock()->getArgument(0);
    SmallVector<Value> kernelArgs;
    for (size_t i = 0; i < spec.args.size(); ++i) {
      Value slot = b.create<LLVM::GEPOp>(loc, ptr, ptr, descriptors,
                                         ArrayRef<LLVM::GEPArg>{int32_t(i)});
      kernelArgs.push_back(b.create<LLVM::LoadOp>(loc, ptr, slot));
    }
    b.create<LLVM::CallOp>(loc, kernelFn, kernelArgs);
    b.create<LLVM::ReturnOp>(loc, ValueRange{});

    // attnc_M(args, nargs)
    auto entry = defineFunction(b, module, loc, prefix,
                                LLVM::LLVMFunctionType::get(i32, {ptr, i32}),
                                LLVM::Linkage::External);
    Value sig = b.create<LLVM::AddressOfOp>(loc, ptr, sigName);
    Value cache = b.create<LLVM::AddressOfOp>(loc, ptr, cacheName);
    Value thunk = b.create<LLVM::AddressOfOp>(loc, ptr, thunkName);
    Value status =
        b.create<LLVM::CallOp>(loc, invoke,
                               ValueRange{sig, cache, entry.getArgument(0),
                                          entry.getArgument(1), thunk})
            .getResult();
    b.create<LLVM::ReturnOp>(loc, status);

    // attnc_M_cuda(args, nargs, stream)
    if (cuda) {
      auto entry = defineFunction(
          b, module, loc, prefix + "_cuda",
          LLVM::LLVMFunctionType::get(i32, {ptr, i32, ptr}),
          LLVM::Linkage::External);
      Value sig = b.create<LLVM::AddressOfOp>(loc, ptr, sigName);
      Value cache = b.create<LLVM::AddressOfOp>(loc, ptr, cacheName);
      Value thunk = b.create<LLVM::AddressOfOp>(loc, ptr, thunkName);
      Value status =
          b.create<LLVM::CallOp>(
               loc, invokeCuda,
               ValueRange{sig, cache, entry.getArgument(0),
                          entry.getArgument(1), entry.getArgument(2), thunk})
              .getResult();
      b.create<LLVM::ReturnOp>(loc, status);
    }

    // attnc_M_signature()
    defineFunction(b, module, loc, prefix + "_signature",
                   LLVM::LLVMFunctionType::get(ptr, {}),
                   LLVM::Linkage::External);
    b.create<LLVM::ReturnOp>(
        loc, b.create<LLVM::AddressOfOp>(loc, ptr, sigName).getResult());

    // attnc_M_last_error()
    defineFunction(b, module, loc, prefix + "_last_error",
                   LLVM::LLVMFunctionType::get(ptr, {}),
                   LLVM::Linkage::External);
    b.create<LLVM::ReturnOp>(
        loc, b.create<LLVM::CallOp>(loc, lastError, ValueRange{}).getResult());
  }

  // The ABI attributes are consumed: upstream lowering copies them to the
  // kernels' LLVM functions and C wrappers, where LLVM IR has no use for
  // them (the translation would warn about the argument attributes).
  module.walk([](LLVM::LLVMFuncOp fn) {
    fn->removeAttr(kModelAttrName);
    for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i)
      fn.removeArgAttr(i, kArgAttrName);
  });
  return success();
}
