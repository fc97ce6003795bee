//===- FuseKeyProjections.cpp - Project each key tile in the key loop -----===//
//
// Moves an additive score's key projection (attn.linear k' = W2 k, made by
// -attn-decompose-scores into a [B, H, Nk, Dw] buffer before the tiled
// form) into the key loop: each attn.online_softmax_update that reads the
// projected keys gets, right before it, an attn.linear of its own key
// tile's rows (subviews of the input and of a per-iteration scratch of
// key_tile rows) and reads its keys from the scratch (key_row(0)). The
// key rows a tile projects are then still in the caches when the update
// reads them again as its values (V = K in Bahdanau's model), and the
// projected keys never go to memory. See Passes.td for the IR before and
// after, and for what is fused.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNFUSEKEYPROJECTIONS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Whether `op` may write memory that `root` is a view of: any write to a
/// view of it, or to an unknown buffer, or an op with unknown effects.
bool mayWrite(Operation *op, Value root) {
  if (isMemoryEffectFree(op))
    return false;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return true;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::any_of(instances, [&](const MemoryEffects::EffectInstance &e) {
    if (!isa<MemoryEffects::Write>(e.getEffect()))
      return false;
    Value written = e.getValue();
    return !written || loops::viewRoot(written) == root;
  });
}

/// Whether a tile-level op's score is a plain softmax's: no modifier
/// function, so that the scores an update stores are the weights' scores.
template <typename TileOp>
bool plainSoftmax(TileOp op) {
  return op.getAlign() == AlignKind::softmax && !op.getScoreModAttr() &&
         !op.getMaskModAttr() && !op.getWeightModAttr();
}

/// The tile-level ops that read a projection's output as their keys.
struct KeyReaders {
  SmallVector<OnlineSoftmaxUpdateOp> updates;
  /// The weights output of their query tiles (at most one, in the same
  /// parallel loop): its scores are then stored by the updates.
  TileWeightsOp weights;
};

/// The ops that read `projection`'s output as their keys, when the
/// projection can move into their key loop (see Passes.td); no updates
/// otherwise.
KeyReaders fusableReaders(LinearOp projection) {
  auto outType = cast<MemRefType>(projection.getOutput().getType());
  auto inType = cast<MemRefType>(projection.getInput().getType());
  auto weightType = cast<MemRefType>(projection.getWeight().getType());
  if (!weightType.hasStaticShape() || inType.getRank() != 4 ||
      outType.getRank() != 4 || ShapedType::isDynamic(inType.getDimSize(3)) ||
      ShapedType::isDynamic(outType.getDimSize(3)))
    return {};
  auto alloc = projection.getOutput().getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != projection->getBlock())
    return {};
  KeyReaders readers;
  scf::ParallelOp loop;
  // The outermost parallel loop around `op`, in the projection's block
  // (the tiled form's), the same for every reader.
  auto inTheLoop = [&](Operation *op) {
    scf::ParallelOp outer = loops::outermostParallelLoop(op);
    if (!outer || outer->getBlock() != projection->getBlock() ||
        (loop && loop != outer))
      return false;
    loop = outer;
    return true;
  };
  for (OpOperand &use : alloc->getUses()) {
    Operation *user = use.getOwner();
    if (user == projection.getOperation() || isa<memref::DeallocOp>(user))
      continue;
    if (auto weights = dyn_cast<TileWeightsOp>(user)) {
      // Its scores must be the updates' (a plain softmax), stored by them.
      if (readers.weights || &use != &weights.getKeysMutable()[0] ||
          !plainSoftmax(weights) || !inTheLoop(weights))
        return {};
      readers.weights = weights;
      continue;
    }
    auto update = dyn_cast<OnlineSoftmaxUpdateOp>(user);
    if (!update || &use != &update.getKeysMutable() ||
        update.getCombine() != ScoreCombine::additive || update.getKeyRow() ||
        !inTheLoop(update))
      return {};
    readers.updates.push_back(update);
  }
  if (readers.updates.empty() || !projection->isBeforeInBlock(loop))
    return {};
  // With a weights output, every update stores the scores it computes
  // there (it does not yet) and its query tile's batch entry is known
  // where it runs.
  if (TileWeightsOp weights = readers.weights) {
    DominanceInfo dominance(loop);
    for (OnlineSoftmaxUpdateOp update : readers.updates)
      if (!plainSoftmax(update) || update.getScoresOut() ||
          update.getSampleBatch() ||
          !dominance.properlyDominates(weights.getBatch(), update))
        return {};
  }
  // Nothing between the projection and the loop may change its input.
  Value input = loops::viewRoot(projection.getInput());
  for (Operation *op = projection->getNextNode(); op != loop.getOperation();
       op = op->getNextNode())
    if (mayWrite(op, input))
      return {};
  return readers;
}

/// Head `head` of a per-head parameter ([H, ...] -> [1, ...]) as a view;
/// a shared one (rank `sharedRank`) as it is.
Value headOf(ImplicitLocOpBuilder &b, Value param, int64_t sharedRank,
             Value head) {
  auto type = cast<MemRefType>(param.getType());
  if (type.getRank() == sharedRank)
    return param;
  OpFoldResult one = b.getIndexAttr(1), none = b.getIndexAttr(0);
  SmallVector<OpFoldResult> offsets(type.getRank(), none), sizes, strides;
  offsets[0] = head;
  sizes.push_back(one);
  for (int64_t d = 1; d < type.getRank(); ++d)
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  strides.assign(type.getRank(), one);
  return b.create<memref::SubViewOp>(param, offsets, sizes, strides);
}

/// Projects `update`'s key tile into a scratch right before it, and points
/// the update's keys there; with a weights output, the update stores its
/// scores in it.
void fuseIntoKeyLoop(LinearOp projection, OnlineSoftmaxUpdateOp update,
                     TileWeightsOp weights, IRRewriter &rewriter) {
  Location loc = update.getLoc();
  auto outType = cast<MemRefType>(projection.getOutput().getType());
  auto inType = cast<MemRefType>(projection.getInput().getType());
  int64_t tile = update.getKeyTile(), width = outType.getDimSize(3);
  Type f32 = rewriter.getF32Type();
  Value scratch = loops::allocateTileScratch(
      rewriter, update, MemRefType::get({1, 1, tile, width}, f32));

  rewriter.setInsertionPoint(update);
  ImplicitLocOpBuilder b(loc, rewriter);
  loops::Emitter e{b};
  Value zero = e.index(0), j0 = update.getFirstKey();
  Value input = projection.getInput();
  // The tile's keys that exist and that the update may see: up to
  // key_end and Nk, at most a tile, none when the tile starts past them.
  Value last = e.minIdx(update.getKeyEnd(), e.dim(input, 2));
  Value rows = e.maxIdx(
      e.minIdx(b.create<arith::SubIOp>(last, j0), e.index(tile)), zero);
  // The update's key head is a head of the output, of per-head weights and
  // bias, and of the input unless it has one head (which serves them all).
  Value head = update.getKeyHead();
  Value inputHead = inType.getDimSize(1) == 1 ? zero : head;
  OpFoldResult one = b.getIndexAttr(1), none = b.getIndexAttr(0);
  SmallVector<OpFoldResult> unitStrides(4, one);
  Value keyRows = b.create<memref::SubViewOp>(
      input,
      SmallVector<OpFoldResult>{update.getKeyBatch(), inputHead, j0, none},
      SmallVector<OpFoldResult>{one, one, rows,
                                b.getIndexAttr(inType.getDimSize(3))},
      unitStrides);
  Value projected = b.create<memref::SubViewOp>(
      scratch, SmallVector<OpFoldResult>(4, none),
      SmallVector<OpFoldResult>{one, one, rows, b.getIndexAttr(width)},
      unitStrides);
  Value bias = projection.getBias();
  b.create<LinearOp>(keyRows, headOf(b, projection.getWeight(), 2, head),
                     bias ? headOf(b, bias, 1, head) : Value(), projected);
  rewriter.modifyOpInPlace(update, [&] {
    update.getKeysMutable().assign(scratch);
    update.getKeyBatchMutable().assign(zero);
    update.getKeyHeadMutable().assign(zero);
    update.getKeyRowMutable().assign(zero);
    if (weights) {
      update.getScoresOutMutable().assign(weights.getWeights());
      update.getSampleBatchMutable().assign(weights.getBatch());
    }
  });
}

struct AttnFuseKeyProjectionsPass
    : public attn::impl::AttnFuseKeyProjectionsBase<
          AttnFuseKeyProjectionsPass> {
  void runOnOperation() override {
    SmallVector<std::pair<LinearOp, KeyReaders>> work;
    getOperation().walk([&](LinearOp projection) {
      KeyReaders readers = fusableReaders(projection);
      if (!readers.updates.empty())
        work.emplace_back(projection, std::move(readers));
    });
    IRRewriter rewriter(&getContext());
    for (auto &[projection, readers] : work) {
      for (OnlineSoftmaxUpdateOp update : readers.updates)
        fuseIntoKeyLoop(projection, update, readers.weights, rewriter);
      // The weights normalize the stored scores, without keys.
      if (TileWeightsOp weights = readers.weights)
        rewriter.modifyOpInPlace(weights, [&] {
          weights.getKeysMutable().clear();
          weights.getKeyBatchMutable().clear();
          weights.getKeyHeadMutable().clear();
          weights.setScoresStored(true);
        });
      // The projected keys' buffer is now only allocated and freed.
      Operation *alloc = projection.getOutput().getDefiningOp();
      rewriter.eraseOp(projection);
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        rewriter.eraseOp(user);
      rewriter.eraseOp(alloc);
    }
  }
};

} // namespace
