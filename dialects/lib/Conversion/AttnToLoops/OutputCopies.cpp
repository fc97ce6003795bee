//===- OutputCopies.cpp - Kernels store into the output arguments ---------===//
//
// Bufferization gives an attention's context its own allocation W and
// copies W into the output argument O after the kernels are done (a
// linalg.copy, or a linalg.generic of arith.truncf for a bf16 or f16
// output): the tensor reshapes between the two keep one-shot bufferization
// from writing O in place. That copy runs on one thread after the parallel
// loop, and W's pages are fresh ones the kernel has to clear first.
//
// storeOutputsInPlace rewrites, once the kernels are loops:
//
//   %w = memref.alloc                       %w = memref.alloc (now unused)
//   %v = memref.expand_shape %w ...         %v = memref.expand_shape %w ...
//   scf.parallel {                          %o' = memref.expand_shape %O ...
//     vector.store %x, %v[...]       ==>    scf.parallel {
//   }                                         %t = arith.truncf %x
//   %r = memref.reshape %w(...)               vector.store %t, %o'[...]
//   linalg.generic ins(%r) outs(%O)         }
//     { arith.truncf }
//
// when W (through memref.reshape, expand_shape and collapse_shape views)
// is only stored into, by vector.store, vector.maskedstore and memref.store
// ops before the copy, and read by the copy alone; and O, a function
// argument, only by the copy. Each store then goes to the same view of O
// (rounded as the copy rounds), and the copy goes away. When the copy does
// not round, the kernels may also read W back before it (vector.load,
// vector.maskedload, memref.load: the weights output, whose scores the key
// loop stores and attn.tile_weights normalizes in place); those loads then
// read the same view of O, which holds what the stores wrote. All these
// views keep the row-major order of a contiguous buffer, and W and O have the same shape (the
// copy's operands: MLIRGen's from the model's dims, the ABI's checks of
// each argument's shape), so an element lands where the copy put it.
// Outputs do not overlap other arguments (the ABI refuses that), so no
// kernel reads what the stores now write early.
//
// Test: test/Conversion/attn-to-loops-output-in-place.mlir.
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// A copy of an allocation into an output argument, as bufferization
/// leaves it after the kernels.
struct OutputCopy {
  Operation *copy;
  Value source;  // what the copy reads (a view of the allocation)
  Value output;  // the function argument it writes
  bool narrows;  // arith.truncf on the way (a bf16 or f16 output)
};

bool isView(Operation *op) {
  return isa<memref::ReshapeOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp>(op);
}

/// `op` as an element-by-element copy of one memref into another (a
/// linalg.copy, a linalg.generic of identity maps that yields its input or
/// its arith.truncf); nullopt otherwise.
std::optional<OutputCopy> asOutputCopy(Operation *op) {
  if (auto copy = dyn_cast<linalg::CopyOp>(op)) {
    if (copy.getInputs().size() != 1 || copy.getOutputs().size() != 1 ||
        !copy.hasPureBufferSemantics())
      return std::nullopt;
    return OutputCopy{op, copy.getInputs()[0], copy.getOutputs()[0], false};
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic)
    return std::nullopt;
  FailureOr<Operation *> cast = elementwiseCopyCast(generic);
  if (failed(cast) || (*cast && !isa<arith::TruncFOp>(*cast)))
    return std::nullopt;
  bool narrows = *cast != nullptr;
  return OutputCopy{op, generic.getDpsInputs()[0], generic.getDpsInits()[0],
                    narrows};
}

/// The buffer that `op` accesses when it is a VectorOp, a MaskedOp (both
/// with a base) or a ScalarOp (with a memref); null otherwise.
template <typename VectorOp, typename MaskedOp, typename ScalarOp>
Value accessedBuffer(Operation *op) {
  if (auto access = dyn_cast<VectorOp>(op))
    return access.getBase();
  if (auto access = dyn_cast<MaskedOp>(op))
    return access.getBase();
  if (auto access = dyn_cast<ScalarOp>(op))
    return access.getMemref();
  return Value();
}

/// The buffer `op` stores into, or null.
Value storedBuffer(Operation *op) {
  return accessedBuffer<vector::StoreOp, vector::MaskedStoreOp,
                        memref::StoreOp>(op);
}

/// The buffer `op` loads from, or null.
Value loadedBuffer(Operation *op) {
  return accessedBuffer<vector::LoadOp, vector::MaskedLoadOp,
                        memref::LoadOp>(op);
}

/// The stores into `memref` and its views (and the loads from them, when
/// `loads` allows: a weights output whose kernel reads back the scores it
/// stored), each with the views between the two (outermost first); false
/// when something else uses them (a view of another kind, a load that is
/// not allowed), `copy` and memref.dim / dealloc aside.
bool collectAccesses(
    Value memref, Operation *copy, bool loads, SmallVector<Operation *> &views,
    SmallVector<std::pair<Operation *, SmallVector<Operation *>>> &accesses) {
  for (Operation *user : memref.getUsers()) {
    if (user == copy || isa<memref::DimOp, memref::DeallocOp>(user))
      continue;
    if (isView(user) && user->getOperand(0) == memref) {
      views.push_back(user);
      bool ok = collectAccesses(user->getResult(0), copy, loads, views,
                                accesses);
      views.pop_back();
      if (!ok)
        return false;
      continue;
    }
    if (storedBuffer(user) == memref ||
        (loads && loadedBuffer(user) == memref)) {
      accesses.push_back({user, views});
      continue;
    }
    return false;
  }
  return true;
}

/// Rewrites one copy if it qualifies (see the file comment).
void storeInPlace(const OutputCopy &c) {
  // The output: an argument of the function nothing else uses.
  auto arg = dyn_cast<BlockArgument>(c.output);
  if (!arg || !isa<func::FuncOp>(arg.getOwner()->getParentOp()) ||
      !llvm::all_of(arg.getUsers(), [&](Operation *user) {
        return user == c.copy || isa<memref::DimOp>(user);
      }))
    return;
  auto outputType = cast<MemRefType>(c.output.getType());
  if (!outputType.getLayout().isIdentity())
    return;
  // The allocation behind the views the copy reads.
  Value root = c.source;
  while (Operation *def = root.getDefiningOp()) {
    if (!isView(def))
      break;
    root = def->getOperand(0);
  }
  auto alloc = root.getDefiningOp<memref::AllocOp>();
  if (!alloc || !alloc.getType().getLayout().isIdentity() ||
      alloc->getBlock() != c.copy->getBlock())
    return;
  // The output has the allocation's shape, or the copy collapses the
  // allocation into it (the heads of a multi-head context, [.., h, d]
  // copied into [.., h d]).
  auto collapse = c.source.getDefiningOp<memref::CollapseShapeOp>();
  bool collapsed = alloc.getType().getShape() != outputType.getShape();
  if (collapsed && (!collapse || collapse.getSrc() != root ||
                    collapse.getType().getShape() != outputType.getShape()))
    return;
  // Its stores (and loads, unless the copy rounds: a load must see what
  // was stored), all before the copy; no other use.
  SmallVector<Operation *> views;
  SmallVector<std::pair<Operation *, SmallVector<Operation *>>> accesses;
  if (!collectAccesses(root, c.copy, /*loads=*/!c.narrows, views, accesses))
    return;
  // The copy's own views lead to it, not to an access.
  for (auto &[access, path] : accesses) {
    Operation *ancestor = c.copy->getBlock()->findAncestorOpInBlock(*access);
    if (!ancestor || !ancestor->isBeforeInBlock(c.copy))
      return;
  }

  // The output viewed as the allocation (expanded as the copy collapses,
  // right after the allocation), then the same views of it as the
  // accesses', each right after the original.
  Type elem = outputType.getElementType();
  OpBuilder builder(c.copy->getContext());
  Value target = c.output;
  if (collapsed) {
    builder.setInsertionPointAfter(alloc);
    SmallVector<OpFoldResult> sizes =
        getMixedValues(alloc.getType().getShape(), alloc.getDynamicSizes(),
                       builder);
    target = builder.create<memref::ExpandShapeOp>(
        alloc.getLoc(), MemRefType::Builder(alloc.getType()).setElementType(elem),
        c.output, collapse.getReassociationIndices(), sizes);
  }
  IRMapping mapping;
  mapping.map(root, target);
  for (auto &[access, path] : accesses) {
    Operation *store = access;
    for (Operation *view : path) {
      if (mapping.contains(view->getResult(0)))
        continue;
      builder.setInsertionPointAfter(view);
      Operation *clone = builder.clone(*view, mapping);
      auto type = cast<MemRefType>(view->getResult(0).getType());
      clone->getResult(0).setType(
          MemRefType::Builder(type).setElementType(elem));
    }
    if (!c.narrows) {
      // The same access of the same view of the output.
      Value buffer = storedBuffer(store);
      if (!buffer)
        buffer = loadedBuffer(store);
      store->replaceUsesOfWith(buffer, mapping.lookup(buffer));
      continue;
    }
    // A rounding copy: the store (there are no loads) of the rounded value.
    builder.setInsertionPoint(store);
    auto narrow = [&](Value x) -> Value {
      Type type = elem;
      if (auto vector = dyn_cast<VectorType>(x.getType()))
        type = vector.clone(elem);
      return builder.create<arith::TruncFOp>(store->getLoc(), type, x);
    };
    if (auto vectorStore = dyn_cast<vector::StoreOp>(store))
      builder.create<vector::StoreOp>(
          store->getLoc(), narrow(vectorStore.getValueToStore()),
          mapping.lookup(vectorStore.getBase()), vectorStore.getIndices());
    else if (auto maskedStore = dyn_cast<vector::MaskedStoreOp>(store))
      builder.create<vector::MaskedStoreOp>(
          store->getLoc(), mapping.lookup(maskedStore.getBase()),
          maskedStore.getIndices(), maskedStore.getMask(),
          narrow(maskedStore.getValueToStore()));
    else {
      auto scalarStore = cast<memref::StoreOp>(store);
      builder.create<memref::StoreOp>(
          store->getLoc(), narrow(scalarStore.getValueToStore()),
          mapping.lookup(scalarStore.getMemref()), scalarStore.getIndices());
    }
    store->erase();
  }
  c.copy->erase();
}

} // namespace

void mlir::attn::loops::storeOutputsInPlace(Operation *root) {
  SmallVector<OutputCopy> copies;
  root->walk([&](Operation *op) {
    if (std::optional<OutputCopy> copy = asOutputCopy(op))
      copies.push_back(*copy);
  });
  for (const OutputCopy &copy : copies)
    storeInPlace(copy);
}
