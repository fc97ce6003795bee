//===- NarrowArguments.cpp - Packing from bf16/f16 arguments in place -----===//
//
// A model's bf16 or f16 inputs reach the kernels as f32 buffers: MLIRGen
// widens each into an allocation with a linalg.generic of arith.extf. The
// blocked kernel packs its operands again (into bf16 panels and pairs), so
// packing from the f32 copy reads every element twice and writes it once
// more. narrowSourceOf finds the argument behind such a copy (through the
// reshapes between the allocation and the kernel's operand), so that
// packRows (BlockedPanels.cpp) reads the argument itself; once every kernel
// has chosen, sinkWideningCopies (AttnToLoops.cpp) erases the copies that
// nothing reads any more and moves those read in one branch of an scf.if
// only (the single-query copy of a dynamic n_q) into that branch.
//
// Test: test/Conversion/attn-to-loops-narrow-arguments.mlir.
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

/// Calls `visit` on each op that uses `memref` or a reshape of it (the
/// memref.expand_shape and collapse_shape ops are followed, not visited);
/// false as soon as `visit` is.
static bool allUsers(Value memref,
                     function_ref<bool(Operation *, Value)> visit) {
  for (Operation *user : memref.getUsers()) {
    if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(user)) {
      if (!allUsers(user->getResult(0), visit))
        return false;
      continue;
    }
    if (!visit(user, memref))
      return false;
  }
  return true;
}

FailureOr<Operation *> mlir::attn::loops::elementwiseCopyCast(
    linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 1 ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }) ||
      op.getNumLoops() != op.getNumParallelLoops())
    return failure();
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1)
    return failure();
  Value yielded = yield.getOperand(0);
  if (yielded == body.getArgument(0) && body.getOperations().size() == 1)
    return static_cast<Operation *>(nullptr);
  Operation *cast = yielded.getDefiningOp();
  if (!isa_and_nonnull<arith::ExtFOp, arith::TruncFOp>(cast) ||
      cast->getOperand(0) != body.getArgument(0) ||
      body.getOperations().size() != 2)
    return failure();
  return cast;
}

/// Whether `op` copies a function argument of a narrower float type into
/// `widened`, element by element (identity maps, the body one arith.extf).
static bool isWideningCopy(linalg::GenericOp op, Value widened) {
  FailureOr<Operation *> cast = elementwiseCopyCast(op);
  if (failed(cast) || !isa_and_nonnull<arith::ExtFOp>(*cast) ||
      op.getDpsInits()[0] != widened ||
      !isa<BlockArgument>(op.getDpsInputs()[0]))
    return false;
  // An argument nothing writes (an input or a parameter, not an output):
  // reading it later reads the same values.
  return allUsers(op.getDpsInputs()[0], [](Operation *user, Value memref) {
    return isa<MemoryEffectOpInterface>(user) &&
           !hasEffect<MemoryEffects::Write, MemoryEffects::Free>(user, memref);
  });
}

/// The copy of a narrower argument that fills `widened` (an allocation),
/// when that copy is its only writer and nothing but reshapes views it;
/// null otherwise.
static linalg::GenericOp wideningCopyOf(Value widened) {
  if (!widened.getDefiningOp<memref::AllocOp>())
    return {};
  linalg::GenericOp copy;
  bool onlyRead = allUsers(widened, [&](Operation *user, Value memref) {
    if (auto generic = dyn_cast<linalg::GenericOp>(user)) {
      if (copy || memref != widened || !isWideningCopy(generic, widened))
        return false;
      copy = generic;
      return true;
    }
    if (isa<memref::DeallocOp, memref::DimOp>(user))
      return true;
    return isa<MemoryEffectOpInterface>(user) &&
           !isa<ViewLikeOpInterface>(user) &&
           !hasEffect<MemoryEffects::Write, MemoryEffects::Free>(user, memref);
  });
  return onlyRead ? copy : linalg::GenericOp();
}

Value mlir::attn::loops::narrowSourceOf(OpBuilder &builder, Value widened) {
  // The reshapes from the allocation to `widened`, innermost first.
  SmallVector<Operation *> reshapes;
  Value root = widened;
  while (Operation *def = root.getDefiningOp()) {
    if (!isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(def))
      break;
    reshapes.push_back(def);
    root = def->getOperand(0);
  }
  linalg::GenericOp copy = wideningCopyOf(root);
  if (!copy)
    return {};
  // The same reshapes of the argument, each right after the original.
  Value narrow = copy.getDpsInputs()[0];
  Type elem = cast<MemRefType>(narrow.getType()).getElementType();
  for (Operation *reshape : llvm::reverse(reshapes)) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointAfter(reshape);
    IRMapping mapping;
    mapping.map(reshape->getOperand(0), narrow);
    Operation *clone = builder.clone(*reshape, mapping);
    auto type = cast<MemRefType>(reshape->getResult(0).getType());
    clone->getResult(0).setType(MemRefType::Builder(type).setElementType(elem));
    narrow = clone->getResult(0);
  }
  return narrow;
}

Value mlir::attn::loops::packingSourceOf(OpBuilder &builder, Value src) {
  Value narrow = narrowSourceOf(builder, src);
  return narrow ? narrow : src;
}

void mlir::attn::loops::sinkWideningCopies(Operation *root) {
  SmallVector<std::pair<linalg::GenericOp, Region *>> moves;
  root->walk([&](linalg::GenericOp op) {
    if (op.getNumDpsInits() != 1)
      return;
    Value widened = op.getDpsInits()[0];
    if (wideningCopyOf(widened) != op)
      return;
    // The region of an scf.if after the copy (in its block) that holds
    // every reader; null when there are readers elsewhere.
    Region *target = nullptr;
    bool readers = false;
    bool oneRegion = allUsers(widened, [&](Operation *user, Value) {
      if (user == op.getOperation() ||
          isa<memref::DeallocOp, memref::DimOp>(user))
        return true;
      bool first = !readers;
      readers = true;
      Operation *ancestor = op->getBlock()->findAncestorOpInBlock(*user);
      auto branch = dyn_cast_or_null<scf::IfOp>(ancestor);
      if (!branch || branch == user || !op->isBeforeInBlock(branch))
        return false;
      Region *region = user->getParentRegion();
      while (region->getParentOp() != branch)
        region = region->getParentOp()->getParentRegion();
      if (!first && region != target)
        return false;
      target = region;
      return true;
    });
    if (!readers)
      moves.push_back({op, nullptr});
    else if (oneRegion)
      moves.push_back({op, target});
  });
  for (auto [op, region] : moves) {
    if (region)
      op->moveBefore(&region->front(), region->front().begin());
    else
      op.erase();
  }
}
