//===- MLIRGen.cpp - ModelSpec -> attn dialect ----------------------------===//
//
// Emits, for each checked model, one function over memrefs (one per ABI
// argument) that computes the model's values in order:
//
//   linear maps          attn.linear
//   attention steps      attn.attention (score kind, params, align, masks),
//                        with the step's own per-head projections
//   activations/softmax  attn.activation / attn.softmax
//   glue                 linalg (elementwise with broadcasting, layer norm,
//                        pooling, concatenation, dot, matmul, transpose)
//
// Every value lives in a contiguous buffer of its logical shape; the attn
// ops see it through views (memref.collapse_shape/expand_shape, free) in
// their [B, (H,) N, D] layouts, where B is all the group dimensions of an
// attention step collapsed. A value that is a model output is computed in
// the output argument itself; the others are temporaries, freed at the end.
// Every op is located at the .attn text it comes from.
//
//===----------------------------------------------------------------------===//

#include "attnc/MLIRGen/MLIRGen.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace attnc;

std::string attnc::kernelName(llvm::StringRef modelName) {
  return ("__attnc_" + modelName + "_kernel").str();
}

namespace {

attn::Activation toAttn(Activation act) {
  switch (act) {
  case Activation::Identity:
    return attn::Activation::identity;
  case Activation::Tanh:
    return attn::Activation::tanh;
  case Activation::Relu:
    return attn::Activation::relu;
  case Activation::Sigmoid:
    return attn::Activation::sigmoid;
  }
  llvm_unreachable("unknown activation");
}

attn::ScoreKind toAttn(ScoreKind kind) {
  switch (kind) {
  case ScoreKind::Additive:
    return attn::ScoreKind::additive;
  case ScoreKind::Dot:
    return attn::ScoreKind::dot;
  case ScoreKind::ScaledDot:
    return attn::ScoreKind::scaled_dot;
  case ScoreKind::General:
    return attn::ScoreKind::general;
  case ScoreKind::BiasedGeneral:
    return attn::ScoreKind::biased_general;
  case ScoreKind::ActivatedGeneral:
    return attn::ScoreKind::activated_general;
  case ScoreKind::Cosine:
    return attn::ScoreKind::cosine;
  }
  llvm_unreachable("unknown score kind");
}

using utils::IteratorType;

class ModelGen {
public:
  ModelGen(OpBuilder &builder, const ModelSpec &spec)
      : b(builder), spec(spec) {}

  func::FuncOp emit();

private:
  Location loc(const SourceLoc &l) {
    return FileLineColLoc::get(b.getContext(), l.file, l.line, l.col);
  }
  MemRefType argType(const ArgSpec &arg);
  OpFoldResult size(Value v, int64_t d) {
    return memref::getMixedSize(b, v.getLoc(), v, d);
  }
  int64_t rank(Value v) { return cast<MemRefType>(v.getType()).getRank(); }
  OpFoldResult dimSize(const ShapeEntry &entry);
  SmallVector<OpFoldResult> sizesOf(ValueId v);

  // Views of contiguous buffers.
  Value expand(Location l, Value v, ArrayRef<ReassociationIndices> groups,
               ArrayRef<OpFoldResult> sizes);
  Value insertUnitDim(Location l, Value v, int64_t pos);
  /// Collapses dims [first, first + count) into one; count 0 inserts a unit
  /// dimension at `first`.
  Value collapseRange(Location l, Value v, int64_t first, int64_t count);

  Value temporary(Location l, ArrayRef<OpFoldResult> sizes) {
    Value buffer = attn::allocF32Buffer(b, l, sizes);
    temporaries.push_back(buffer);
    return buffer;
  }
  /// The buffer a value is computed into: its output argument, or a new
  /// temporary.
  Value destination(ValueId v);

  void emitValue(ValueId v);
  Value emitLinear(const ValueSpec &value, ValueId id);
  Value emitAttention(const ValueSpec &value, ValueId id);
  Value stepOperand(const StepOperand &op, const AttentionSpec &att,
                    bool isQuery);
  Value emitBinary(const ValueSpec &value, ValueId id);
  Value emitLayerNorm(const ValueSpec &value, ValueId id);
  Value emitConcat(const ValueSpec &value, ValueId id);
  Value emitPool(const ValueSpec &value, ValueId id);
  Value emitDot(const ValueSpec &value, ValueId id);
  Value emitMatMul(const ValueSpec &value, ValueId id);
  Value emitTranspose(const ValueSpec &value, ValueId id);
  /// [.., d] -> [M, d] (M = 1 for a vector).
  Value asRows(Location l, Value v);
  /// A map from `domainRank` loop dims to an operand of shape `shape`
  /// aligned at the right of `domain`, with broadcast (size 1) dims at 0.
  AffineMap broadcastMap(ArrayRef<ShapeEntry> shape,
                         ArrayRef<ShapeEntry> domain, unsigned domainRank);
  Value f32(Location l, double c) {
    return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(float(c)));
  }
  Value sizeAsF32(Location l, Value buffer, int64_t d);

  OpBuilder &b;
  const ModelSpec &spec;
  SmallVector<Value> args;
  SmallVector<Value> temporaries;
  SmallVector<Value> buffers;          ///< Per value.
  llvm::DenseMap<ValueId, int> outputOf; ///< Values computed in place.
  llvm::StringMap<std::pair<int, int64_t>> dynDims; ///< name -> (arg, dim)
};

MemRefType ModelGen::argType(const ArgSpec &arg) {
  SmallVector<int64_t> shape;
  for (const ShapeEntry &entry : arg.shape)
    shape.push_back(entry.isDynamic() ? ShapedType::kDynamic
                                      : entry.staticSize);
  Type element =
      arg.dtype == DType::I32 ? Type(b.getI32Type()) : Type(b.getF32Type());
  return MemRefType::get(shape, element);
}

OpFoldResult ModelGen::dimSize(const ShapeEntry &entry) {
  if (!entry.isDynamic())
    return b.getIndexAttr(entry.staticSize);
  auto [arg, d] = dynDims.lookup(entry.dynName);
  return size(args[arg], d);
}

SmallVector<OpFoldResult> ModelGen::sizesOf(ValueId v) {
  SmallVector<OpFoldResult> sizes;
  for (const ShapeEntry &e : spec.values[v].shape)
    sizes.push_back(dimSize(e));
  return sizes;
}

Value ModelGen::expand(Location l, Value v,
                       ArrayRef<ReassociationIndices> groups,
                       ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  for (OpFoldResult s : sizes)
    shape.push_back(getConstantIntValue(s).value_or(ShapedType::kDynamic));
  return b.create<memref::ExpandShapeOp>(l, shape, v, groups, sizes);
}

Value ModelGen::insertUnitDim(Location l, Value v, int64_t pos) {
  int64_t r = rank(v);
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < r; ++d)
    sizes.push_back(size(v, d));
  sizes.insert(sizes.begin() + pos, b.getIndexAttr(1));
  if (r == 0)
    return expand(l, v, {}, sizes);
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < r; ++d) {
    // The unit dimension joins the source dimension it precedes, or the
    // last one when appended.
    int64_t first = d < pos ? d : d + 1;
    ReassociationIndices group = {first};
    if (d == pos)
      group.insert(group.begin(), pos);
    if (d == r - 1 && pos == r)
      group.push_back(r);
    groups.push_back(group);
  }
  return expand(l, v, groups, sizes);
}

Value ModelGen::collapseRange(Location l, Value v, int64_t first,
                              int64_t count) {
  if (count == 0)
    return insertUnitDim(l, v, first);
  if (count == 1)
    return v;
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < rank(v);) {
    ReassociationIndices group;
    int64_t n = d == first ? count : 1;
    for (int64_t i = 0; i < n; ++i)
      group.push_back(d++);
    groups.push_back(group);
  }
  return b.create<memref::CollapseShapeOp>(l, v, groups);
}

Value ModelGen::destination(ValueId v) {
  auto it = outputOf.find(v);
  if (it != outputOf.end())
    return args[it->second];
  return temporary(loc(spec.values[v].loc), sizesOf(v));
}

Value ModelGen::asRows(Location l, Value v) {
  int64_t r = rank(v);
  if (r == 1)
    return insertUnitDim(l, v, 0);
  return collapseRange(l, v, 0, r - 1);
}

AffineMap ModelGen::broadcastMap(ArrayRef<ShapeEntry> shape,
                                 ArrayRef<ShapeEntry> domain,
                                 unsigned domainRank) {
  SmallVector<AffineExpr> exprs;
  unsigned offset = domain.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    const ShapeEntry &s = shape[i], &d = domain[offset + i];
    bool broadcast = !s.isDynamic() && s.staticSize == 1 &&
                     (d.isDynamic() || d.staticSize != 1);
    exprs.push_back(broadcast ? b.getAffineConstantExpr(0)
                              : b.getAffineDimExpr(offset + i));
  }
  return AffineMap::get(domainRank, 0, exprs, b.getContext());
}

Value ModelGen::sizeAsF32(Location l, Value buffer, int64_t d) {
  Value n = getValueOrCreateConstantIndexOp(b, l, size(buffer, d));
  Value i = b.create<arith::IndexCastOp>(l, b.getI64Type(), n);
  return b.create<arith::SIToFPOp>(l, b.getF32Type(), i);
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

Value ModelGen::emitLinear(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value x = buffers[value.operands[0]];
  Value w = buffers[value.operands[1]];
  Value bias = value.operands.size() > 2 ? buffers[value.operands[2]] : Value();
  Value out = destination(id);
  int64_t r = rank(x);
  if (value.linearForm == ValueSpec::LinearForm::Shared) {
    // [s.., I] -> [1, M, I].
    auto view = [&](Value m) {
      Value rows = asRows(l, m);
      return insertUnitDim(l, rows, 0);
    };
    b.create<attn::LinearOp>(l, view(x), w, bias, view(out));
    return out;
  }
  // Per group: [s.., G, I] -> [S, G, 1, I] against W [G, O, I].
  auto view = [&](Value m) {
    Value v = collapseRange(l, m, 0, r - 2);
    return insertUnitDim(l, v, 2);
  };
  b.create<attn::LinearOp>(l, view(x), w, bias, view(out));
  return out;
}

/// The query, keys or values of a step as [B, H, N, D] (B = 1 and H = 1
/// broadcast), through the step's projection when it has one.
Value ModelGen::stepOperand(const StepOperand &op, const AttentionSpec &att,
                            bool isQuery) {
  Location l = loc(op.loc);
  Value x = buffers[op.source];
  int64_t g = att.numGroupDims;
  // [G.., (N,) I] -> [B, N, I].
  if (isQuery && att.queryBroadcast) {
    x = insertUnitDim(l, x, 0);
    if (!att.multiQuery)
      x = insertUnitDim(l, x, 1);
  } else {
    x = collapseRange(l, x, 0, g);
    if (isQuery && !att.multiQuery)
      x = insertUnitDim(l, x, 1);
  }
  if (op.weight < 0)
    return insertUnitDim(l, x, 1);
  Value w = buffers[op.weight];
  Value bias = op.bias >= 0 ? buffers[op.bias] : Value();
  OpFoldResult outSize = size(w, rank(w) - 2);
  if (rank(w) == 3) {
    Value out = temporary(l, {size(x, 0), size(w, 0), size(x, 1), outSize});
    b.create<attn::LinearOp>(l, x, w, bias, out);
    return out;
  }
  Value out = temporary(l, {size(x, 0), size(x, 1), outSize});
  b.create<attn::LinearOp>(l, x, w, bias, out);
  return insertUnitDim(l, out, 1);
}

Value ModelGen::emitAttention(const ValueSpec &value, ValueId id) {
  const AttentionSpec &att = spec.attentions[value.attention];
  Location l = loc(att.scoreLoc);
  Value query = stepOperand(att.query, att, /*isQuery=*/true);
  Value keys = stepOperand(att.keys, att, /*isQuery=*/false);
  Value values = stepOperand(att.values, att, /*isQuery=*/false);

  // Inside `heads`, a query without a per-head map is the same for every
  // head: broadcast it, so that the step has h query heads.
  OpFoldResult heads = att.hasHeads ? dimSize(att.numHeads)
                                    : OpFoldResult(b.getIndexAttr(1));
  std::optional<int64_t> staticHeads = getConstantIntValue(heads);
  auto qType = cast<MemRefType>(query.getType());
  if (att.hasHeads && !(staticHeads && *staticHeads == 1) &&
      qType.getDimSize(1) == 1) {
    Value full = temporary(
        l, {size(query, 0), heads, size(query, 2), size(query, 3)});
    MLIRContext *ctx = b.getContext();
    AffineMap in = AffineMap::get(
        4, 0,
        {b.getAffineDimExpr(0), b.getAffineConstantExpr(0),
         b.getAffineDimExpr(2), b.getAffineDimExpr(3)},
        ctx);
    b.create<linalg::GenericOp>(
        l, ValueRange{query}, ValueRange{full},
        ArrayRef<AffineMap>{in, b.getMultiDimIdentityMap(4)},
        SmallVector<IteratorType>(4, IteratorType::parallel),
        [](OpBuilder &nb, Location nl, ValueRange vals) {
          nb.create<linalg::YieldOp>(nl, vals[0]);
        });
    query = full;
  }

  // The context [G.., (Nq,) (H,) Dv] as [B, Nq, H, Dv].
  Location cl = loc(att.contextLoc);
  Value context = destination(id);
  Value ctxView = collapseRange(cl, context, 0, att.numGroupDims);
  if (!att.multiQuery)
    ctxView = insertUnitDim(cl, ctxView, 1);
  if (!att.hasHeads)
    ctxView = insertUnitDim(cl, ctxView, 2);

  // The weights [G.., (H,) (Nq,) Nk] as [B, H, Nq, Nk].
  SmallVector<Value> weights;
  for (int arg : att.weightsOutputs) {
    Value view = collapseRange(cl, args[arg], 0, att.numGroupDims);
    if (!att.hasHeads)
      view = insertUnitDim(cl, view, 1);
    if (!att.multiQuery)
      view = insertUnitDim(cl, view, 2);
    weights.push_back(view);
  }

  Value lengths;
  if (att.lengths >= 0) {
    Location ml = loc(att.maskLoc);
    lengths = buffers[att.lengths];
    lengths = att.numGroupDims == 0
                  ? expand(ml, lengths, {}, {b.getIndexAttr(1)})
                  : collapseRange(ml, lengths, 0, att.numGroupDims);
  }

  SmallVector<Value> params;
  for (ValueId p : att.scoreParams)
    params.push_back(buffers[p]);
  b.create<attn::AttentionOp>(
      l, query, keys, values, params, lengths, ctxView,
      weights.empty() ? Value() : weights[0], toAttn(att.score),
      toAttn(att.scoreAct), attn::AlignKind::softmax, att.causal);
  for (size_t i = 1; i < weights.size(); ++i)
    b.create<memref::CopyOp>(cl, weights[0], weights[i]);
  return context;
}

Value ModelGen::emitBinary(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value out = destination(id);
  ArrayRef<ShapeEntry> domain = value.shape;
  unsigned r = domain.size();
  SmallVector<AffineMap> maps;
  for (ValueId op : value.operands)
    maps.push_back(broadcastMap(spec.values[op].shape, domain, r));
  maps.push_back(b.getMultiDimIdentityMap(r));
  char op = value.binaryOp;
  b.create<linalg::GenericOp>(
      l, ValueRange{buffers[value.operands[0]], buffers[value.operands[1]]},
      ValueRange{out}, maps, SmallVector<IteratorType>(r, IteratorType::parallel),
      [op](OpBuilder &nb, Location nl, ValueRange vals) {
        Value result =
            op == '+'   ? nb.create<arith::AddFOp>(nl, vals[0], vals[1])
            : op == '-' ? Value(nb.create<arith::SubFOp>(nl, vals[0], vals[1]))
                        : Value(nb.create<arith::MulFOp>(nl, vals[0], vals[1]));
        nb.create<linalg::YieldOp>(nl, result);
      });
  return out;
}

/// (x - mean) / sqrt(var + 1e-5) * g + b over the last dimension.
Value ModelGen::emitLayerNorm(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value x = asRows(l, buffers[value.operands[0]]);
  Value out = destination(id);
  Value outRows = asRows(l, out);
  MLIRContext *ctx = b.getContext();
  Value rows = temporary(l, {size(x, 0)});
  Value mean = temporary(l, {size(x, 0)});
  Value var = temporary(l, {size(x, 0)});
  Value n = sizeAsF32(l, x, 1);
  Value zero = f32(l, 0), eps = f32(l, 1e-5);
  AffineMap id2 = b.getMultiDimIdentityMap(2);
  AffineMap row = AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, ctx);
  AffineMap id1 = b.getMultiDimIdentityMap(1);
  SmallVector<IteratorType> reduce = {IteratorType::parallel,
                                      IteratorType::reduction};
  b.create<linalg::FillOp>(l, zero, rows);
  b.create<linalg::GenericOp>(
      l, ValueRange{x}, ValueRange{rows}, ArrayRef<AffineMap>{id2, row},
      reduce, [](OpBuilder &nb, Location nl, ValueRange v) {
        nb.create<linalg::YieldOp>(nl,
                                   Value(nb.create<arith::AddFOp>(nl, v[0], v[1])));
      });
  b.create<linalg::GenericOp>(
      l, ValueRange{rows}, ValueRange{mean}, ArrayRef<AffineMap>{id1, id1},
      SmallVector<IteratorType>{IteratorType::parallel},
      [n](OpBuilder &nb, Location nl, ValueRange v) {
        nb.create<linalg::YieldOp>(nl, Value(nb.create<arith::DivFOp>(nl, v[0], n)));
      });
  b.create<linalg::FillOp>(l, zero, rows);
  b.create<linalg::GenericOp>(
      l, ValueRange{x, mean}, ValueRange{rows},
      ArrayRef<AffineMap>{id2, row, row}, reduce,
      [](OpBuilder &nb, Location nl, ValueRange v) {
        Value d = nb.create<arith::SubFOp>(nl, v[0], v[1]);
        Value sq = nb.create<arith::MulFOp>(nl, d, d);
        nb.create<linalg::YieldOp>(nl, Value(nb.create<arith::AddFOp>(nl, sq, v[2])));
      });
  b.create<linalg::GenericOp>(
      l, ValueRange{rows}, ValueRange{var}, ArrayRef<AffineMap>{id1, id1},
      SmallVector<IteratorType>{IteratorType::parallel},
      [n, eps](OpBuilder &nb, Location nl, ValueRange v) {
        Value variance = nb.create<arith::DivFOp>(nl, v[0], n);
        Value shifted = nb.create<arith::AddFOp>(nl, variance, eps);
        nb.create<linalg::YieldOp>(nl, Value(nb.create<math::RsqrtOp>(nl, shifted)));
      });
  SmallVector<Value> inputs = {x, mean, var};
  SmallVector<AffineMap> maps = {id2, row, row};
  AffineMap col = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
  bool affine = value.operands.size() == 3;
  if (affine) {
    inputs.push_back(buffers[value.operands[1]]);
    inputs.push_back(buffers[value.operands[2]]);
    maps.push_back(col);
    maps.push_back(col);
  }
  maps.push_back(id2);
  b.create<linalg::GenericOp>(
      l, inputs, ValueRange{outRows}, maps,
      SmallVector<IteratorType>(2, IteratorType::parallel),
      [affine](OpBuilder &nb, Location nl, ValueRange v) {
        Value d = nb.create<arith::SubFOp>(nl, v[0], v[1]);
        Value y = nb.create<arith::MulFOp>(nl, d, v[2]);
        if (affine) {
          y = nb.create<arith::MulFOp>(nl, y, v[3]);
          y = nb.create<arith::AddFOp>(nl, y, v[4]);
        }
        nb.create<linalg::YieldOp>(nl, y);
      });
  return out;
}

Value ModelGen::emitConcat(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value out = destination(id);
  Value outRows = asRows(l, out);
  int64_t offset = 0;
  for (ValueId op : value.operands) {
    Value in = asRows(l, buffers[op]);
    int64_t width = spec.values[op].shape.back().staticSize;
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0),
                                         b.getIndexAttr(offset)};
    SmallVector<OpFoldResult> sizes = {size(outRows, 0),
                                       b.getIndexAttr(width)};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    Value slice =
        b.create<memref::SubViewOp>(l, outRows, offsets, sizes, strides);
    b.create<linalg::CopyOp>(l, in, slice);
    offset += width;
  }
  return out;
}

/// mean or max over the rows: [S.., N, D] -> [S.., D]. The mean of no rows
/// is 0; the max of no rows is -inf.
Value ModelGen::emitPool(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value x = buffers[value.operands[0]];
  int64_t r = rank(x);
  x = collapseRange(l, x, 0, r - 2);
  Value out = destination(id);
  Value outRows = asRows(l, out);
  MLIRContext *ctx = b.getContext();
  bool mean = value.pool == ValueSpec::PoolKind::Mean;
  Value init = mean ? f32(l, 0)
                    : f32(l, -std::numeric_limits<double>::infinity());
  b.create<linalg::FillOp>(l, init, outRows);
  AffineMap in = b.getMultiDimIdentityMap(3);
  AffineMap acc = AffineMap::get(
      3, 0, {b.getAffineDimExpr(0), b.getAffineDimExpr(2)}, ctx);
  b.create<linalg::GenericOp>(
      l, ValueRange{x}, ValueRange{outRows}, ArrayRef<AffineMap>{in, acc},
      SmallVector<IteratorType>{IteratorType::parallel,
                                IteratorType::reduction,
                                IteratorType::parallel},
      [mean](OpBuilder &nb, Location nl, ValueRange v) {
        Value r = mean ? Value(nb.create<arith::AddFOp>(nl, v[0], v[1]))
                       : Value(nb.create<arith::MaximumFOp>(nl, v[0], v[1]));
        nb.create<linalg::YieldOp>(nl, r);
      });
  if (mean) {
    Value n = sizeAsF32(l, x, 1);
    Value one = f32(l, 1);
    n = b.create<arith::MaximumFOp>(l, n, one);
    AffineMap id2 = b.getMultiDimIdentityMap(2);
    b.create<linalg::GenericOp>(
        l, ValueRange{}, ValueRange{outRows}, ArrayRef<AffineMap>{id2},
        SmallVector<IteratorType>(2, IteratorType::parallel),
        [n](OpBuilder &nb, Location nl, ValueRange v) {
          nb.create<linalg::YieldOp>(nl,
                                     Value(nb.create<arith::DivFOp>(nl, v[0], n)));
        });
  }
  return out;
}

/// sum(x * y) over the last dimension, [.., 1].
Value ModelGen::emitDot(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value out = destination(id);
  b.create<linalg::FillOp>(l, f32(l, 0), out);
  // The domain: the broadcast shape, its last dimension the reduction.
  SmallVector<ShapeEntry> domain(value.shape.begin(), value.shape.end());
  const auto &xs = spec.values[value.operands[0]].shape;
  const auto &ys = spec.values[value.operands[1]].shape;
  domain.back() = (xs.back().isDynamic() || xs.back().staticSize != 1)
                      ? xs.back()
                      : ys.back();
  unsigned r = domain.size();
  SmallVector<AffineMap> maps = {broadcastMap(xs, domain, r),
                                 broadcastMap(ys, domain, r)};
  SmallVector<AffineExpr> outExprs;
  for (unsigned d = 0; d + 1 < r; ++d)
    outExprs.push_back(b.getAffineDimExpr(d));
  outExprs.push_back(b.getAffineConstantExpr(0));
  maps.push_back(AffineMap::get(r, 0, outExprs, b.getContext()));
  SmallVector<IteratorType> iters(r, IteratorType::parallel);
  iters.back() = IteratorType::reduction;
  b.create<linalg::GenericOp>(
      l, ValueRange{buffers[value.operands[0]], buffers[value.operands[1]]},
      ValueRange{out}, maps, iters,
      [](OpBuilder &nb, Location nl, ValueRange v) {
        Value p = nb.create<arith::MulFOp>(nl, v[0], v[1]);
        nb.create<linalg::YieldOp>(nl, Value(nb.create<arith::AddFOp>(nl, p, v[2])));
      });
  return out;
}

/// [.., m, k] x [.., k, n], leading dimensions broadcast.
Value ModelGen::emitMatMul(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value out = destination(id);
  b.create<linalg::FillOp>(l, f32(l, 0), out);
  const auto &as = spec.values[value.operands[0]].shape;
  const auto &bs = spec.values[value.operands[1]].shape;
  unsigned lead = value.shape.size() - 2;
  unsigned r = lead + 3; // lead.., m, n, k
  auto operandMap = [&](ArrayRef<ShapeEntry> s, bool isA) {
    SmallVector<AffineExpr> exprs;
    unsigned own = s.size() - 2;
    for (unsigned i = 0; i < own; ++i) {
      const ShapeEntry &e = s[i];
      const ShapeEntry &d = value.shape[lead - own + i];
      bool broadcast = !e.isDynamic() && e.staticSize == 1 &&
                       (d.isDynamic() || d.staticSize != 1);
      exprs.push_back(broadcast ? b.getAffineConstantExpr(0)
                                : b.getAffineDimExpr(lead - own + i));
    }
    if (isA) {
      exprs.push_back(b.getAffineDimExpr(lead));     // m
      exprs.push_back(b.getAffineDimExpr(lead + 2)); // k
    } else {
      exprs.push_back(b.getAffineDimExpr(lead + 2)); // k
      exprs.push_back(b.getAffineDimExpr(lead + 1)); // n
    }
    return AffineMap::get(r, 0, exprs, b.getContext());
  };
  SmallVector<AffineExpr> outExprs;
  for (unsigned d = 0; d < lead + 2; ++d)
    outExprs.push_back(b.getAffineDimExpr(d));
  SmallVector<AffineMap> maps = {
      operandMap(as, true), operandMap(bs, false),
      AffineMap::get(r, 0, outExprs, b.getContext())};
  SmallVector<IteratorType> iters(r, IteratorType::parallel);
  iters.back() = IteratorType::reduction;
  b.create<linalg::GenericOp>(
      l, ValueRange{buffers[value.operands[0]], buffers[value.operands[1]]},
      ValueRange{out}, maps, iters,
      [](OpBuilder &nb, Location nl, ValueRange v) {
        Value p = nb.create<arith::MulFOp>(nl, v[0], v[1]);
        nb.create<linalg::YieldOp>(nl, Value(nb.create<arith::AddFOp>(nl, p, v[2])));
      });
  return out;
}

Value ModelGen::emitTranspose(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value out = destination(id);
  unsigned r = value.shape.size();
  SmallVector<int64_t> perm;
  for (unsigned d = 0; d < r; ++d)
    perm.push_back(d);
  std::swap(perm[r - 1], perm[r - 2]);
  b.create<linalg::TransposeOp>(l, buffers[value.operands[0]], out, perm);
  return out;
}

void ModelGen::emitValue(ValueId id) {
  const ValueSpec &value = spec.values[id];
  Location l = loc(value.loc);
  Value result;
  switch (value.kind) {
  case ValueSpec::Kind::Arg:
    result = args[value.arg];
    break;
  case ValueSpec::Kind::Linear:
    result = emitLinear(value, id);
    break;
  case ValueSpec::Kind::Attention:
    result = emitAttention(value, id);
    break;
  case ValueSpec::Kind::Binary:
    result = emitBinary(value, id);
    break;
  case ValueSpec::Kind::Activation:
    result = destination(id);
    b.create<attn::ActivationOp>(l, toAttn(value.act),
                                 buffers[value.operands[0]], result);
    break;
  case ValueSpec::Kind::Softmax: {
    result = destination(id);
    Value in = buffers[value.operands[0]];
    if (rank(in) > 4) {
      in = asRows(l, in);
      b.create<attn::SoftmaxOp>(l, in, asRows(l, result));
    } else {
      b.create<attn::SoftmaxOp>(l, in, result);
    }
    break;
  }
  case ValueSpec::Kind::LayerNorm:
    result = emitLayerNorm(value, id);
    break;
  case ValueSpec::Kind::Concat:
    result = emitConcat(value, id);
    break;
  case ValueSpec::Kind::Pool:
    result = emitPool(value, id);
    break;
  case ValueSpec::Kind::Dot:
    result = emitDot(value, id);
    break;
  case ValueSpec::Kind::MatMul:
    result = emitMatMul(value, id);
    break;
  case ValueSpec::Kind::Transpose:
    result = emitTranspose(value, id);
    break;
  case ValueSpec::Kind::Reshape: {
    Value in = buffers[value.operands[0]];
    result = collapseRange(l, in, rank(in) - 2, 2);
    break;
  }
  }
  buffers[id] = result;
}

func::FuncOp ModelGen::emit() {
  SmallVector<Type> types;
  for (const ArgSpec &arg : spec.args)
    types.push_back(argType(arg));
  auto func = b.create<func::FuncOp>(loc(spec.loc), kernelName(spec.name),
                                     b.getFunctionType(types, {}));
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), b.getUnitAttr());
  setABIAttributes(func, spec.args, spec.name);
  Block *entry = func.addEntryBlock();
  for (auto [arg, argSpec] : llvm::zip(entry->getArguments(), spec.args))
    arg.setLoc(loc(argSpec.loc));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(entry);
  for (BlockArgument arg : entry->getArguments())
    args.push_back(arg);
  for (auto [i, arg] : llvm::enumerate(spec.args))
    for (auto [d, entry] : llvm::enumerate(arg.shape))
      if (entry.isDynamic())
        dynDims.try_emplace(entry.dynName, int(i), int64_t(d));

  // Values computed in their output argument: not arguments themselves, not
  // views of other values, one output each.
  for (auto [arg, value] : spec.outputs) {
    ValueSpec::Kind kind = spec.values[value].kind;
    if (kind != ValueSpec::Kind::Arg && kind != ValueSpec::Kind::Reshape)
      outputOf.try_emplace(value, arg);
  }

  buffers.resize(spec.values.size());
  for (ValueId id = 0; id < ValueId(spec.values.size()); ++id)
    emitValue(id);

  Location end = loc(spec.loc);
  for (auto [arg, value] : spec.outputs) {
    auto it = outputOf.find(value);
    if (it != outputOf.end() && it->second == arg)
      continue;
    b.create<memref::CopyOp>(loc(spec.args[arg].loc), buffers[value],
                             args[arg]);
  }
  for (Value temp : temporaries)
    b.create<memref::DeallocOp>(end, temp);
  b.create<func::ReturnOp>(end);
  return func;
}

} // namespace

OwningOpRef<ModuleOp> attnc::mlirGen(MLIRContext &context,
                                     ArrayRef<ModelSpec> models) {
  context.loadDialect<attn::AttnDialect, func::FuncDialect,
                      memref::MemRefDialect, LLVM::LLVMDialect,
                      linalg::LinalgDialect, arith::ArithDialect,
                      math::MathDialect>();
  OpBuilder builder(&context);
  Location fileLoc =
      models.empty() ? builder.getUnknownLoc()
                     : FileLineColLoc::get(&context, models[0].loc.file, 1, 1);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  for (const ModelSpec &spec : models)
    ModelGen(builder, spec).emit();
  if (failed(verify(*module)))
    return nullptr;
  return module;
}
