//===- ExpandLanewiseCalls.cpp - attn.lanewise_call -> vector code --------===//
//
// -attn-expand-lanewise-calls: each attn.lanewise_call @f(args) (a scalar
// function applied to each lane of its vector operands; the blocked
// kernel's score modifiers and mask predicates, BlockedDot.cpp) becomes
// the body of @f inlined on vectors. The values of the body that depend on
// a vector operand (the per-lane ones) become vectors: elementwise ops
// (arith, math) are rebuilt on vector types, their shared operands
// broadcast; memref.load with a per-lane last index becomes a
// vector.gather, with other per-lane indices one load per lane;
// an scf.if on a shared condition stays an scf.if whose results are
// vectors where a branch yields a per-lane value. The values that depend
// only on shared operands (sizes, tables, the query's index) stay scalar
// and are computed once. A body with something else on per-lane values,
// an scf.if on a per-lane condition, an op that writes or calls, or more
// than one block, becomes one func.call of @f per lane (the lanes
// extracted and the results inserted), which means the same.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEXPANDLANEWISECALLS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// The body of one callee expanded at one call: which of its values differ
/// between lanes, and their expanded values.
class LanewiseBody {
public:
  LanewiseBody(OpBuilder &b, Location loc, int64_t lanes)
      : b(b), loc(loc), lanes(lanes) {}

  /// Marks the callee's arguments that the call gives per lane and checks
  /// that every op of `body` expands; false when one does not.
  bool analyze(func::FuncOp callee, LanewiseCallOp call) {
    Block &entry = callee.getBody().front();
    for (auto [arg, operand] :
         llvm::zip_equal(entry.getArguments(), call.getArgs())) {
      map.map(arg, operand);
      if (operand.getType() != arg.getType())
        perLane.insert(arg);
    }
    return analyzeBlock(entry);
  }

  /// The expanded result of the call (after analyze succeeded).
  Value emit(func::FuncOp callee, VectorType resultType) {
    SmallVector<Value> results = emitBlock(callee.getBody().front());
    return asVector(results.front(), resultType.getElementType());
  }

private:
  bool varies(Value v) const { return perLane.contains(v); }

  bool analyzeBlock(Block &block) {
    for (Operation &op : block) {
      bool anyPerLane = llvm::any_of(op.getOperands(),
                                     [&](Value v) { return varies(v); });
      if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
        if (anyPerLane)
          return false;
        for (Region *region : {&ifOp.getThenRegion(), &ifOp.getElseRegion()}) {
          if (region->empty())
            continue;
          if (!analyzeBlock(region->front()))
            return false;
          for (auto [result, yielded] :
               llvm::zip_equal(ifOp.getResults(),
                               region->front().getTerminator()->getOperands()))
            if (varies(yielded))
              perLane.insert(result);
        }
        continue;
      }
      if (op.getNumRegions() != 0)
        return false;
      bool readsOnly = isMemoryEffectFree(&op) || isa<memref::LoadOp>(op);
      if (!readsOnly)
        return false;
      if (!anyPerLane || op.hasTrait<OpTrait::IsTerminator>())
        continue;
      if (!op.hasTrait<OpTrait::Elementwise>() && !isa<memref::LoadOp>(op))
        return false;
      for (Value result : op.getResults()) {
        if (!result.getType().isIntOrIndexOrFloat())
          return false;
        perLane.insert(result);
      }
    }
    return true;
  }

  /// `value` as a vector of the lanes: per-lane values are one already,
  /// shared ones are broadcast.
  Value asVector(Value value, Type elementType) {
    auto type = VectorType::get({lanes}, elementType);
    if (value.getType() == type)
      return value;
    return b.create<vector::BroadcastOp>(loc, type, value);
  }

  /// Emits the ops of `block` but its terminator, whose operands (expanded)
  /// it returns.
  SmallVector<Value> emitBlock(Block &block) {
    for (Operation &op : block.without_terminator()) {
      if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
        emitIf(ifOp);
        continue;
      }
      bool anyPerLane = llvm::any_of(op.getOperands(),
                                     [&](Value v) { return varies(v); });
      if (!anyPerLane) {
        b.clone(op, map);
        continue;
      }
      if (auto load = dyn_cast<memref::LoadOp>(op)) {
        emitLoad(load);
        continue;
      }
      OperationState state(loc, op.getName());
      for (Value operand : op.getOperands())
        state.addOperands(asVector(map.lookup(operand), operand.getType()));
      for (Type type : op.getResultTypes())
        state.addTypes(VectorType::get({lanes}, type));
      state.addAttributes(op.getAttrs());
      Operation *expanded = b.create(state);
      map.map(op.getResults(), expanded->getResults());
    }
    SmallVector<Value> yielded;
    for (Value operand : block.getTerminator()->getOperands())
      yielded.push_back(map.lookup(operand));
    return yielded;
  }

  void emitIf(scf::IfOp ifOp) {
    SmallVector<Type> types;
    for (Value result : ifOp.getResults())
      types.push_back(varies(result)
                          ? VectorType::get({lanes}, result.getType())
                          : result.getType());
    auto expanded = b.create<scf::IfOp>(loc, types,
                                        map.lookup(ifOp.getCondition()),
                                        !ifOp.getElseRegion().empty());
    auto emitBranch = [&](Region &from, Region &to) {
      if (from.empty())
        return;
      OpBuilder::InsertionGuard guard(b);
      Block &block = to.front();
      if (!block.empty() && block.back().hasTrait<OpTrait::IsTerminator>())
        block.back().erase();
      b.setInsertionPointToEnd(&block);
      SmallVector<Value> yielded = emitBlock(from.front());
      for (auto [k, result] : llvm::enumerate(ifOp.getResults()))
        if (varies(result))
          yielded[k] = asVector(yielded[k], result.getType());
      b.create<scf::YieldOp>(loc, yielded);
    };
    emitBranch(ifOp.getThenRegion(), expanded.getThenRegion());
    emitBranch(ifOp.getElseRegion(), expanded.getElseRegion());
    map.map(ifOp.getResults(), expanded.getResults());
  }

  /// A load at per-lane indices: a vector.gather (AVX-512's vgather) when
  /// only the last index differs between lanes and the memref's rows are
  /// contiguous (a gather's offsets are along the last dimension from the
  /// shared indices); else one scalar load per lane.
  void emitLoad(memref::LoadOp load) {
    auto type = VectorType::get({lanes}, load.getType());
    Value memref = map.lookup(load.getMemRef());
    ValueRange indices = load.getIndices();
    if (isContiguousAlongLast(cast<MemRefType>(memref.getType())) &&
        llvm::none_of(indices.drop_back(),
                      [&](Value index) { return varies(index); })) {
      SmallVector<Value> base;
      for (Value index : indices.drop_back())
        base.push_back(map.lookup(index));
      base.push_back(b.create<arith::ConstantIndexOp>(loc, 0));
      Value offsets = map.lookup(indices.back());
      Value all = b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(
                   VectorType::get({lanes}, b.getI1Type()), true));
      Value zeros = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type));
      map.map(load.getResult(),
              b.create<vector::GatherOp>(loc, type, memref, base, offsets, all,
                                         zeros));
      return;
    }
    Value result = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type));
    for (int64_t k = 0; k < lanes; ++k) {
      SmallVector<Value> laneIndices;
      for (Value index : indices) {
        Value mapped = map.lookup(index);
        laneIndices.push_back(
            varies(index) ? b.create<vector::ExtractOp>(loc, mapped,
                                                        ArrayRef<int64_t>{k})
                          : mapped);
      }
      Value element = b.create<memref::LoadOp>(loc, memref, laneIndices);
      result = b.create<vector::InsertOp>(loc, element, result, k);
    }
    map.map(load.getResult(), result);
  }

  /// Whether the elements along the last dimension of `type` are adjacent
  /// (stride 1), as a gather's offsets need.
  static bool isContiguousAlongLast(MemRefType type) {
    if (type.getRank() == 0)
      return false;
    SmallVector<int64_t> strides;
    int64_t offset;
    return succeeded(getStridesAndOffset(type, strides, offset)) &&
           strides.back() == 1;
  }

  OpBuilder &b;
  Location loc;
  int64_t lanes;
  IRMapping map;
  DenseSet<Value> perLane;
};

/// One func.call per lane: lane k of each vector operand, the shared ones
/// as they are, each result inserted at k.
Value emitCallPerLane(OpBuilder &b, LanewiseCallOp call) {
  Location loc = call.getLoc();
  auto type = cast<VectorType>(call.getResult().getType());
  Value result = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type));
  for (int64_t k = 0; k < type.getDimSize(0); ++k) {
    SmallVector<Value> args;
    for (Value arg : call.getArgs())
      args.push_back(isa<VectorType>(arg.getType())
                         ? b.create<vector::ExtractOp>(loc, arg,
                                                       ArrayRef<int64_t>{k})
                         : arg);
    Value element = b.create<func::CallOp>(loc, call.getCalleeAttr(),
                                           type.getElementType(), args)
                        .getResult(0);
    result = b.create<vector::InsertOp>(loc, element, result, k);
  }
  return result;
}

struct AttnExpandLanewiseCallsPass
    : public attn::impl::AttnExpandLanewiseCallsBase<
          AttnExpandLanewiseCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<LanewiseCallOp> calls;
    module.walk([&](LanewiseCallOp call) { calls.push_back(call); });
    for (LanewiseCallOp call : calls) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      if (!callee) {
        call.emitOpError() << "'" << call.getCallee()
                           << "' does not name a func.func";
        return signalPassFailure();
      }
      OpBuilder b(call);
      auto type = cast<VectorType>(call.getResult().getType());
      Value expanded;
      if (!callee.isExternal() && callee.getBody().hasOneBlock()) {
        LanewiseBody body(b, call.getLoc(), type.getDimSize(0));
        if (body.analyze(callee, call))
          expanded = body.emit(callee, type);
      }
      if (!expanded)
        expanded = emitCallPerLane(b, call);
      call.getResult().replaceAllUsesWith(expanded);
      call.erase();
    }
  }
};

} // namespace
