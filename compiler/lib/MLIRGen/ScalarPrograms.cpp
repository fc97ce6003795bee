//===- ScalarPrograms.cpp - Score modifiers and mask predicates as funcs --===//
//
// Emits a ScalarProgram as a private func.func: integers are `index`,
// numbers f32, conditions i1; a table element is a memref.load at the batch
// entry's indices (b delinearized over the table's batch dimensions) and
// the subscripts clamped into the table, so that no subscript reads outside
// it (a table with an empty dimension reads as 0).
//
//===----------------------------------------------------------------------===//

#include "ScalarPrograms.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using namespace attnc;
using Node = ScalarNode;

ScalarOperands attnc::collectScalarOperands(const ScalarProgram &score,
                                            const ScalarProgram &mask,
                                            const ScalarProgram &weight,
                                            const ScalarProgram &range) {
  ScalarOperands out;
  const ScalarProgram *programs[4] = {&score, &mask, &weight, &range};
  for (int which = 0; which < 4; ++which) {
    for (const ShapeEntry &d : programs[which]->dims) {
      auto it = llvm::find_if(out.dims, [&](const ShapeEntry &e) {
        return e.dynName == d.dynName;
      });
      out.dimSlot[which].push_back(int(it - out.dims.begin()));
      if (it == out.dims.end())
        out.dims.push_back(d);
    }
    for (const ScalarTable &t : programs[which]->tables) {
      auto it = llvm::find_if(out.tables, [&](const ScalarTable &u) {
        return u.value == t.value;
      });
      out.tableSlot[which].push_back(int(it - out.tables.begin()));
      if (it == out.tables.end())
        out.tables.push_back(t);
    }
  }
  return out;
}

namespace {

class ScalarEmitter {
public:
  ScalarEmitter(OpBuilder &b, Location loc, const ScalarProgram &program,
                int which, const ScalarOperands &operands, ValueRange args)
      : b(b), loc(loc), program(program), which(which), operands(operands),
        values(program.nodes.size()) {
    size_t k = 0;
    if (which == 0)
      score = args[k++];
    // The key range has no key index.
    for (int i = 0, e = which == 3 ? 3 : 4; i < e; ++i)
      indices[i] = args[k++];
    dims = args.slice(k, operands.dims.size());
    tables = args.drop_front(k + operands.dims.size());
  }

  Value emit(int id) {
    if (values[id])
      return values[id];
    const Node &n = program.nodes[id];
    SmallVector<Value> ops;
    for (int o : n.operands)
      ops.push_back(emit(o));
    return values[id] = emitNode(n, ops);
  }

  /// `v` as an f32 (integers converted).
  Value asFloat(Value v) {
    if (v.getType().isF32())
      return v;
    Value i64 = b.create<arith::IndexCastOp>(loc, b.getI64Type(), v);
    return b.create<arith::SIToFPOp>(loc, b.getF32Type(), i64);
  }

private:
  Value emitNode(const Node &n, ArrayRef<Value> ops) {
    switch (n.kind) {
    case Node::Kind::Score:
      return score;
    case Node::Kind::Index:
      return indices[int(n.index)];
    case Node::Kind::Int:
      return b.create<arith::ConstantIndexOp>(loc, n.intValue);
    case Node::Kind::Float:
      return b.create<arith::ConstantOp>(
          loc, b.getF32FloatAttr(float(n.floatValue)));
    case Node::Kind::Dim:
      return dims[operands.dimSlot[which][n.dim]];
    case Node::Kind::Table:
      return emitTable(n, ops);
    case Node::Kind::Unary:
      return emitUnary(n, ops[0]);
    case Node::Kind::Binary:
      return emitBinary(n, ops[0], ops[1]);
    case Node::Kind::Compare:
      return emitCompare(n, ops[0], ops[1]);
    }
    llvm_unreachable("unknown scalar node");
  }

  Value emitTable(const Node &n, ArrayRef<Value> subscripts) {
    int slot = operands.tableSlot[which][n.table];
    Value table = tables[slot];
    unsigned batchDims = operands.tables[slot].batchDims;
    auto type = cast<MemRefType>(table.getType());
    int64_t rank = type.getRank();
    SmallVector<Value> idx(rank);
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value one = b.create<arith::ConstantIndexOp>(loc, 1);
    Value nonEmpty = b.create<arith::ConstantIntOp>(loc, 1, 1);
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      Value size = b.create<memref::DimOp>(loc, table, d);
      sizes.push_back(size);
      nonEmpty = b.create<arith::AndIOp>(
          loc, nonEmpty,
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, size, zero));
    }
    // The batch entry b over the batch dimensions, last fastest.
    Value rest = indices[0];
    for (int64_t d = int64_t(batchDims) - 1; d >= 0; --d) {
      Value size = b.create<arith::MaxSIOp>(loc, sizes[d], one);
      idx[d] = b.create<arith::RemUIOp>(loc, rest, size);
      rest = b.create<arith::DivUIOp>(loc, rest, size);
    }
    for (auto [k, sub] : llvm::enumerate(subscripts)) {
      int64_t d = int64_t(batchDims + k);
      Value last = b.create<arith::SubIOp>(loc, sizes[d], one);
      idx[d] = b.create<arith::MaxSIOp>(
          loc, b.create<arith::MinSIOp>(loc, sub, last), zero);
    }
    Type elem = type.getElementType();
    bool isInt = n.type == Node::Type::Int;
    Type result = isInt ? Type(b.getIndexType()) : Type(b.getF32Type());
    auto guarded = b.create<scf::IfOp>(
        loc, nonEmpty,
        [&](OpBuilder &nb, Location nl) {
          Value x = nb.create<memref::LoadOp>(nl, table, idx);
          if (isInt)
            x = nb.create<arith::IndexCastOp>(nl, result, x);
          else if (elem.getIntOrFloatBitWidth() > 32)
            x = nb.create<arith::TruncFOp>(nl, result, x);
          else if (elem.getIntOrFloatBitWidth() < 32)
            x = nb.create<arith::ExtFOp>(nl, result, x);
          nb.create<scf::YieldOp>(nl, x);
        },
        [&](OpBuilder &nb, Location nl) {
          Value z = isInt ? Value(nb.create<arith::ConstantIndexOp>(nl, 0))
                          : Value(nb.create<arith::ConstantOp>(
                                nl, nb.getF32FloatAttr(0)));
          nb.create<scf::YieldOp>(nl, z);
        });
    return guarded.getResult(0);
  }

  Value emitUnary(const Node &n, Value x) {
    if (n.op == "floor" || n.op == "ceil") {
      // A number to an integer, clamped to +-2^40; NaN to the side that
      // bounds nothing (floor: -2^40, ceil: 2^40).
      bool up = n.op == "ceil";
      Value limit = b.create<arith::ConstantOp>(
          loc, b.getF32FloatAttr(float(int64_t(1) << 40)));
      Value negLimit = b.create<arith::NegFOp>(loc, limit);
      Value rounded = up ? Value(b.create<math::CeilOp>(loc, x))
                         : Value(b.create<math::FloorOp>(loc, x));
      Value clamped = b.create<arith::MaxNumFOp>(
          loc, b.create<arith::MinNumFOp>(loc, rounded, limit), negLimit);
      Value isNaN =
          b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x);
      clamped = b.create<arith::SelectOp>(loc, isNaN, up ? limit : negLimit,
                                          clamped);
      Value i64 = b.create<arith::FPToSIOp>(loc, b.getI64Type(), clamped);
      return b.create<arith::IndexCastOp>(loc, b.getIndexType(), i64);
    }
    if (n.op == "not")
      return b.create<arith::XOrIOp>(
          loc, x, b.create<arith::ConstantIntOp>(loc, 1, 1));
    if (n.type == Node::Type::Int) {
      if (n.op == "neg")
        return b.create<arith::SubIOp>(
            loc, b.create<arith::ConstantIndexOp>(loc, 0), x);
      // abs
      Value negated = b.create<arith::SubIOp>(
          loc, b.create<arith::ConstantIndexOp>(loc, 0), x);
      return b.create<arith::MaxSIOp>(loc, x, negated);
    }
    x = asFloat(x);
    if (n.op == "neg")
      return b.create<arith::NegFOp>(loc, x);
    if (n.op == "abs")
      return b.create<math::AbsFOp>(loc, x);
    if (n.op == "tanh")
      return b.create<math::TanhOp>(loc, x);
    if (n.op == "exp")
      return b.create<math::ExpOp>(loc, x);
    if (n.op == "log")
      return b.create<math::LogOp>(loc, x);
    if (n.op == "sqrt")
      return b.create<math::SqrtOp>(loc, x);
    if (n.op == "sigmoid")
      return attn::buildActivation(b, loc, attn::Activation::sigmoid, x);
    if (n.op == "relu")
      return attn::buildActivation(b, loc, attn::Activation::relu, x);
    llvm_unreachable("unknown unary scalar op");
  }

  Value emitBinary(const Node &n, Value x, Value y) {
    if (n.op == "&&")
      return b.create<arith::AndIOp>(loc, x, y);
    if (n.op == "||")
      return b.create<arith::OrIOp>(loc, x, y);
    if (n.type == Node::Type::Int) {
      if (n.op == "+")
        return b.create<arith::AddIOp>(loc, x, y);
      if (n.op == "-")
        return b.create<arith::SubIOp>(loc, x, y);
      if (n.op == "*")
        return b.create<arith::MulIOp>(loc, x, y);
      if (n.op == "min")
        return b.create<arith::MinSIOp>(loc, x, y);
      if (n.op == "max")
        return b.create<arith::MaxSIOp>(loc, x, y);
      llvm_unreachable("unknown integer scalar op");
    }
    x = asFloat(x);
    y = asFloat(y);
    if (n.op == "+")
      return b.create<arith::AddFOp>(loc, x, y);
    if (n.op == "-")
      return b.create<arith::SubFOp>(loc, x, y);
    if (n.op == "*")
      return b.create<arith::MulFOp>(loc, x, y);
    if (n.op == "/")
      return b.create<arith::DivFOp>(loc, x, y);
    if (n.op == "min")
      return b.create<arith::MinimumFOp>(loc, x, y);
    if (n.op == "max")
      return b.create<arith::MaximumFOp>(loc, x, y);
    llvm_unreachable("unknown float scalar op");
  }

  Value emitCompare(const Node &n, Value x, Value y) {
    bool ints = x.getType().isIndex() && y.getType().isIndex();
    bool bools = x.getType().isInteger(1);
    if (ints || bools) {
      auto pred = llvm::StringSwitch<arith::CmpIPredicate>(n.op)
                      .Case("<", arith::CmpIPredicate::slt)
                      .Case("<=", arith::CmpIPredicate::sle)
                      .Case(">", arith::CmpIPredicate::sgt)
                      .Case(">=", arith::CmpIPredicate::sge)
                      .Case("==", arith::CmpIPredicate::eq)
                      .Default(arith::CmpIPredicate::ne);
      return b.create<arith::CmpIOp>(loc, pred, x, y);
    }
    // Ordered comparisons: a NaN compares false (`!=` is true).
    auto pred = llvm::StringSwitch<arith::CmpFPredicate>(n.op)
                    .Case("<", arith::CmpFPredicate::OLT)
                    .Case("<=", arith::CmpFPredicate::OLE)
                    .Case(">", arith::CmpFPredicate::OGT)
                    .Case(">=", arith::CmpFPredicate::OGE)
                    .Case("==", arith::CmpFPredicate::OEQ)
                    .Default(arith::CmpFPredicate::UNE);
    return b.create<arith::CmpFOp>(loc, pred, asFloat(x), asFloat(y));
  }

  OpBuilder &b;
  Location loc;
  const ScalarProgram &program;
  int which;
  const ScalarOperands &operands;
  Value score;
  Value indices[4];
  ValueRange dims, tables;
  std::vector<Value> values;
};

} // namespace

/// Folds constants, canonicalizes and shares common subexpressions (the
/// emitter repeats table bounds and constants), so that `--emit=attn`
/// shows the function as one would write it.
static void tidy(func::FuncOp fn) {
  MLIRContext *ctx = fn.getContext();
  RewritePatternSet patterns(ctx);
  llvm::DenseSet<OperationName> seen;
  fn.walk([&](Operation *op) {
    if (seen.insert(op->getName()).second)
      if (std::optional<RegisteredOperationName> info =
              op->getName().getRegisteredInfo())
        info->getCanonicalizationPatterns(patterns, ctx);
  });
  (void)applyPatternsAndFoldGreedily(fn, std::move(patterns));
  IRRewriter rewriter(ctx);
  DominanceInfo dominance(fn);
  eliminateCommonSubExpressions(rewriter, dominance, fn);
}

func::FuncOp attnc::emitScalarFunction(OpBuilder &b, Location loc,
                                       StringRef name,
                                       const ScalarProgram &program, int which,
                                       const ScalarOperands &operands,
                                       ArrayRef<Type> tableTypes) {
  SmallVector<Type> inputs;
  if (which == 0)
    inputs.push_back(b.getF32Type());
  inputs.append((which == 3 ? 3 : 4) + operands.dims.size(),
                b.getIndexType());
  for (Type t : tableTypes)
    inputs.push_back(attn::getModifierTableType(cast<ShapedType>(t)));
  SmallVector<Type> results;
  if (which == 3)
    results = {b.getIndexType(), b.getIndexType()};
  else
    results = {which == 1 ? Type(b.getI1Type()) : Type(b.getF32Type())};
  auto fn = b.create<func::FuncOp>(loc, name,
                                   b.getFunctionType(inputs, results));
  fn.setPrivate();
  Block *entry = fn.addEntryBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(entry);
  ScalarEmitter emitter(b, loc, program, which, operands,
                        entry->getArguments());
  if (which == 3) {
    SmallVector<Value> bounds;
    for (int r : program.roots)
      bounds.push_back(emitter.emit(r));
    b.create<func::ReturnOp>(loc, bounds);
    tidy(fn);
    return fn;
  }
  Value root = emitter.emit(int(program.nodes.size()) - 1);
  if (which != 1)
    root = emitter.asFloat(root);
  b.create<func::ReturnOp>(loc, root);
  tidy(fn);
  return fn;
}
