//===- LowerThreadCount.cpp - attn.thread_count to the runtime's count ----===//
//
// -attn-lower-thread-count: each attn.thread_count (the threads the tiled
// form's parallel loops are shared by, which sizes its query groups)
// becomes `arith.index_cast (func.call @omp_get_max_threads())` when the
// parallel loops run on OpenMP, and `arith.constant 1 : index` when they
// run serially. See Passes.td for the IR before and after.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNLOWERTHREADCOUNT
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kThreadCountFunction = "omp_get_max_threads";

struct AttnLowerThreadCountPass
    : public attn::impl::AttnLowerThreadCountBase<AttnLowerThreadCountPass> {
  using AttnLowerThreadCountBase::AttnLowerThreadCountBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<attn::ThreadCountOp> counts;
    module.walk([&](attn::ThreadCountOp op) { counts.push_back(op); });
    if (counts.empty())
      return;
    OpBuilder b(module.getContext());
    func::FuncOp callee;
    if (openmp) {
      callee = module.lookupSymbol<func::FuncOp>(kThreadCountFunction);
      if (!callee) {
        b.setInsertionPointToEnd(module.getBody());
        callee =
            b.create<func::FuncOp>(module.getLoc(), kThreadCountFunction,
                                   b.getFunctionType({}, {b.getI32Type()}));
        callee.setPrivate();
      }
    }
    for (attn::ThreadCountOp op : counts) {
      b.setInsertionPoint(op);
      Value count;
      if (openmp) {
        Value threads =
            b.create<func::CallOp>(op.getLoc(), callee).getResult(0);
        count = b.create<arith::IndexCastOp>(op.getLoc(), b.getIndexType(),
                                             threads);
      } else {
        count = b.create<arith::ConstantIndexOp>(op.getLoc(), 1);
      }
      op.replaceAllUsesWith(count);
      op.erase();
    }
  }
};

} // namespace
