//===- SerialHostKernels.cpp - Leftover host loops -> 1-thread kernels ----===//
//
// -attn-serial-host-kernels: after the parallel loops became gpu.launch
// ops, each op at the top of a host function that still reads or writes
// a memref (sequential glue loops) is moved into a gpu.launch of one block
// of one thread, so that the host code of a CUDA library never touches
// device memory. A memref.load read only by kernels moves into them; any
// other op whose results the host uses after it is refused. See
// Passes.td for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Conversion/Passes.h"
#include "DeviceMemory.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSERIALHOSTKERNELS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// Whether `op` (or an op in it) uses a view of `root`.
bool usesBuffer(Operation *op, Value root) {
  return op
      ->walk([&](Operation *nested) {
        for (Value operand : nested->getOperands())
          if (isa<MemRefType>(operand.getType()) &&
              attn::loops::viewRoot(operand) == root)
            return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// Moves a host memref.load whose users are all inside gpu.launch ops into
/// those launches (a copy at the start of each body): a scalar param read
/// before the attention loop. Only when no op between the load and its
/// last user touches the buffer, so that the load reads the same value.
bool sinkLoadIntoLaunches(memref::LoadOp load) {
  Block *block = load->getBlock();
  SmallVector<gpu::LaunchOp> launches;
  Operation *last = nullptr;
  for (Operation *user : load->getUsers()) {
    auto launch = user->getParentOfType<gpu::LaunchOp>();
    if (!launch || launch->getBlock() != block)
      return false;
    if (!llvm::is_contained(launches, launch))
      launches.push_back(launch);
    if (!last || last->isBeforeInBlock(launch))
      last = launch;
  }
  if (launches.empty())
    return false;
  Value root = attn::loops::viewRoot(load.getMemRef());
  for (Operation *op = load->getNextNode(); op && op != last;
       op = op->getNextNode())
    if (!llvm::is_contained(launches, dyn_cast<gpu::LaunchOp>(op)) &&
        usesBuffer(op, root))
      return false;
  for (gpu::LaunchOp launch : launches) {
    OpBuilder builder(&launch.getBody().front(),
                      launch.getBody().front().begin());
    Operation *copy = builder.clone(*load);
    load->getResult(0).replaceUsesWithIf(
        copy->getResult(0), [&](OpOperand &use) {
          return launch->isProperAncestor(use.getOwner());
        });
  }
  load->erase();
  return true;
}

struct AttnSerialHostKernelsPass
    : public attn::impl::AttnSerialHostKernelsBase<AttnSerialHostKernelsPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    SmallVector<Operation *> serial;
    for (Operation &op : function.getBody().getOps()) {
      if (isa<gpu::LaunchOp, memref::AllocOp, memref::DeallocOp>(op))
        continue;
      bool touches = op.walk([](Operation *nested) {
                         return attn::accessesDeviceData(nested)
                                    ? WalkResult::interrupt()
                                    : WalkResult::advance();
                       }).wasInterrupted();
      if (touches)
        serial.push_back(&op);
    }
    bool refused = false;
    for (Operation *op : serial) {
      auto load = dyn_cast<memref::LoadOp>(op);
      if (load && sinkLoadIntoLaunches(load))
        continue;
      if (!op->use_empty()) {
        op->emitError() << "the cuda target does not support '"
                        << op->getName()
                        << "' in the host code yet (it reads device memory "
                           "and the host uses its result)";
        refused = true;
        continue;
      }
      OpBuilder builder(op);
      Value one = builder.create<arith::ConstantIndexOp>(op->getLoc(), 1);
      auto launch = builder.create<gpu::LaunchOp>(op->getLoc(), one, one, one,
                                                  one, one, one);
      Block &body = launch.getBody().front();
      builder.setInsertionPointToEnd(&body);
      auto terminator = builder.create<gpu::TerminatorOp>(op->getLoc());
      op->moveBefore(terminator);
    }
    if (refused)
      signalPassFailure();
  }
};

} // namespace
