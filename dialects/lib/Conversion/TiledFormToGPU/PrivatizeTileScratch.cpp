//===- PrivatizeTileScratch.cpp - Tile scratch -> private memory ----------===//
//
// -attn-privatize-tile-scratch: a memref.alloc of static shape inside an
// scf.parallel (the kernels' per-tile scratch of the tiled form) becomes a
// memref.alloca at the start of that loop's body, and its memref.deallocs
// are erased, so that once the loop is a GPU kernel every thread keeps its
// scratch in local memory (or registers) instead of allocating from the
// device heap per block. Scratch of dynamic size (the sparse alignments'
// [QT, n_k] row of scores) becomes a slice of one workspace allocated
// before the loop, a slot per iteration (memref.view at the iteration's
// byte offset). Allocations outside parallel loops stay on the host side.
// More private memory than the option allows, or a dynamic size computed
// in the loop, is refused at its location. See Passes.td for the IR before
// and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/DenseMap.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNPRIVATIZETILESCRATCH
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// Bytes of a statically shaped memref of int or float elements.
int64_t staticBytes(MemRefType type) {
  unsigned bits = type.getElementTypeBitWidth();
  return type.getNumElements() * int64_t((bits + 7) / 8);
}

/// ceil(a / b) for a >= 0, b > 0, as (a + b - 1) / b (arith.ceildivui would
/// need -arith-expand before the LLVM lowering).
Value ceilDiv(OpBuilder &b, Location loc, Value a, Value d) {
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  return b.create<arith::DivUIOp>(
      loc, b.create<arith::SubIOp>(loc, b.create<arith::AddIOp>(loc, a, d), one),
      d);
}

/// The trip count of each dimension of `loop`, max(0, ceil((ub - lb) /
/// step)), computed before it (so that its iterations use them as they
/// are, kernel arguments once it is a kernel).
SmallVector<Value> tripCounts(OpBuilder &b, Location loc,
                              scf::ParallelOp loop) {
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  SmallVector<Value> trips;
  for (auto [lb, ub, step] : llvm::zip(
           loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = b.create<arith::MaxSIOp>(
        loc, b.create<arith::SubIOp>(loc, ub, lb), zero);
    trips.push_back(ceilDiv(b, loc, span, step));
  }
  return trips;
}

/// The row-major index of the current iteration of `loop` (in its body),
/// given its trip counts.
Value iterationIndex(OpBuilder &b, Location loc, scf::ParallelOp loop,
                     ArrayRef<Value> trips) {
  Value index = b.create<arith::ConstantIndexOp>(loc, 0);
  for (auto [iv, lb, step, count] :
       llvm::zip(loop.getInductionVars(), loop.getLowerBound(),
                 loop.getStep(), trips)) {
    Value position = b.create<arith::DivUIOp>(
        loc, b.create<arith::SubIOp>(loc, iv, lb), step);
    index = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, index, count), position);
  }
  return index;
}

/// Dynamic scratch `alloc` of `loop`'s iterations -> a view into one
/// workspace of a 64-byte-aligned slot per iteration, allocated before the
/// loop and freed after it.
void moveToWorkspace(memref::AllocOp alloc, scf::ParallelOp loop) {
  Location loc = alloc.getLoc();
  MemRefType type = alloc.getType();
  OpBuilder b(loop);
  // Bytes of a slot: the elements (dynamic sizes are defined before the
  // loop) times their size, rounded up to 64.
  Value bytes = b.create<arith::ConstantIndexOp>(
      loc, int64_t((type.getElementTypeBitWidth() + 7) / 8));
  unsigned next = 0;
  for (int64_t size : type.getShape()) {
    Value extent = ShapedType::isDynamic(size)
                       ? alloc.getDynamicSizes()[next++]
                       : b.create<arith::ConstantIndexOp>(loc, size);
    bytes = b.create<arith::MulIOp>(loc, bytes, extent);
  }
  Value c63 = b.create<arith::ConstantIndexOp>(loc, 63);
  Value c64 = b.create<arith::ConstantIndexOp>(loc, 64);
  Value slot = b.create<arith::MulIOp>(
      loc,
      b.create<arith::DivUIOp>(loc, b.create<arith::AddIOp>(loc, bytes, c63),
                               c64),
      c64);
  SmallVector<Value> trips = tripCounts(b, loc, loop);
  Value total = slot;
  for (Value count : trips)
    total = b.create<arith::MulIOp>(loc, total, count);
  auto workspaceType =
      MemRefType::get({ShapedType::kDynamic}, b.getIntegerType(8));
  auto workspace = b.create<memref::AllocOp>(loc, workspaceType,
                                             ValueRange{total},
                                             b.getI64IntegerAttr(64));
  b.setInsertionPointAfter(loop);
  b.create<memref::DeallocOp>(loc, workspace);

  b.setInsertionPointToStart(loop.getBody());
  Value offset = b.create<arith::MulIOp>(
      loc, iterationIndex(b, loc, loop, trips), slot);
  auto view = b.create<memref::ViewOp>(loc, type, workspace, offset,
                                       alloc.getDynamicSizes());
  for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
    if (isa<memref::DeallocOp>(user))
      user->erase();
  alloc.replaceAllUsesWith(view.getResult());
  alloc.erase();
}

struct AttnPrivatizeTileScratchPass
    : public attn::impl::AttnPrivatizeTileScratchBase<
          AttnPrivatizeTileScratchPass> {
  using AttnPrivatizeTileScratchBase::AttnPrivatizeTileScratchBase;

  void runOnOperation() override {
    llvm::SmallVector<memref::AllocOp> scratch, dynamicScratch;
    bool refused = false;
    getOperation().walk([&](memref::AllocOp alloc) {
      auto loop = alloc->getParentOfType<scf::ParallelOp>();
      if (!loop)
        return;
      MemRefType type = alloc.getType();
      bool sizesBeforeLoop = llvm::all_of(
          alloc.getDynamicSizes(), [&](Value size) {
            return !loop->isAncestor(size.getParentBlock()->getParentOp());
          });
      if (!type.getElementType().isIntOrFloat() || !type.getLayout().isIdentity() ||
          !sizesBeforeLoop ||
          (!type.hasStaticShape() && loop->getParentOfType<scf::ParallelOp>())) {
        alloc.emitError()
            << "the cuda target does not support this scratch memory of a "
               "query tile yet ("
            << type
            << " in the parallel loop of the tiled form: its size is "
               "computed in the loop)";
        refused = true;
        return;
      }
      (type.hasStaticShape() ? scratch : dynamicScratch).push_back(alloc);
    });
    if (refused)
      return signalPassFailure();
    for (memref::AllocOp alloc : dynamicScratch)
      moveToWorkspace(alloc, alloc->getParentOfType<scf::ParallelOp>());

    // The private bytes of each parallel loop's iteration, to refuse what
    // would not fit a thread's stack.
    llvm::DenseMap<Operation *, int64_t> bytesPerLoop;
    for (memref::AllocOp alloc : scratch) {
      auto loop = alloc->getParentOfType<scf::ParallelOp>();
      int64_t &bytes = bytesPerLoop[loop];
      bytes += staticBytes(alloc.getType());
      if (bytes > maxPrivateBytes) {
        alloc.emitError() << "the cuda target keeps per-tile scratch in "
                             "private memory, and this parallel loop needs "
                             "more than "
                          << static_cast<int64_t>(maxPrivateBytes)
                          << " bytes of it (at " << alloc.getType() << ")";
        return signalPassFailure();
      }
    }

    for (memref::AllocOp alloc : scratch) {
      // At the start of the iteration: an alloca inside an inner loop would
      // be a dynamic stack allocation, which the NVPTX backend lowers
      // poorly. A fresh allocation's contents are undefined, so one buffer
      // per iteration of the parallel loop is the same program.
      auto loop = alloc->getParentOfType<scf::ParallelOp>();
      OpBuilder builder(loop.getBody(), loop.getBody()->begin());
      auto alloca = builder.create<memref::AllocaOp>(
          alloc.getLoc(), alloc.getType(), alloc.getAlignmentAttr());
      for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      alloc.replaceAllUsesWith(alloca.getResult());
      alloc.erase();
    }
  }
};

} // namespace
