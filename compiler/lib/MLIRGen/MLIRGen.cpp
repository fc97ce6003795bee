//===- MLIRGen.cpp - ModelSpec -> attn dialect ----------------------------===//
//
// Emits, for each checked model, one function over memrefs (one per ABI
// argument, carrying its ABI in `attn.arg` attributes) whose body computes
// the model's values on tensors, in order, as SSA data flow:
//
//   linear maps          attn.linear
//   attention steps      attn.attention (score kind, params, align, masks),
//                        with the step's own per-head projections
//   activations/softmax  attn.activation / attn.softmax
//   glue                 linalg (elementwise with broadcasting, layer norm,
//                        pooling, concatenation, dot, matmul, transpose)
//
// Every value is a tensor of its logical shape; the attn ops see it through
// reshapes (tensor.collapse_shape/expand_shape) in their [B, (H,) N, D]
// layouts, where B is all the group dimensions of an attention step
// collapsed. The ops are in destination-passing style: their inits are
// `tensor.empty`. Inputs and params enter through `bufferization.to_tensor
// restrict` (bf16/f16 ones widened to f32 by an arith.extf map), outputs
// leave through `bufferization.materialize_in_destination` into their
// arguments (rounded by arith.truncf when bf16/f16); one-shot bufferization
// (attn-to-loops) then computes each output in place and allocates the other
// values. Every op is located at the .attn text it comes from.
//
//===----------------------------------------------------------------------===//

#include "attnc/MLIRGen/MLIRGen.h"
#include "ScalarPrograms.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace attnc;

std::string attnc::kernelName(llvm::StringRef modelName) {
  return ("__attnc_" + modelName + "_kernel").str();
}

namespace {

attn::AlignKind toAttn(AlignKind align) {
  switch (align) {
  case AlignKind::Softmax:
    return attn::AlignKind::softmax;
  case AlignKind::Sigmoid:
    return attn::AlignKind::sigmoid;
  case AlignKind::Argmax:
    return attn::AlignKind::argmax;
  case AlignKind::Hard:
    return attn::AlignKind::hard;
  case AlignKind::Sparsemax:
    return attn::AlignKind::sparsemax;
  case AlignKind::Entmax15:
    return attn::AlignKind::entmax15;
  }
  llvm_unreachable("unknown alignment");
}

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
  /// `l` with the name the program gives value `v`: the attn ops print
  /// their results under it (`%c = attn.attention ...`).
  Location named(Location l, ValueId v) {
    const std::string &name = spec.values[v].name;
    if (name.empty())
      return l;
    return NameLoc::get(b.getStringAttr(name), l);
  }
  MemRefType argType(const ArgSpec &arg);
  OpFoldResult size(Value v, int64_t d) {
    if (isa<MemRefType>(v.getType()))
      return memref::getMixedSize(b, v.getLoc(), v, d);
    return tensor::getMixedSize(b, v.getLoc(), v, d);
  }
  int64_t rank(Value v) { return cast<ShapedType>(v.getType()).getRank(); }
  OpFoldResult dimSize(const ShapeEntry &entry);
  SmallVector<OpFoldResult> sizesOf(ValueId v);

  // Views of contiguous buffers.
  Value expand(Location l, Value v, ArrayRef<ReassociationIndices> groups,
               ArrayRef<OpFoldResult> sizes);
  Value insertUnitDim(Location l, Value v, int64_t pos);
  /// Collapses dims [first, first + count) into one; count 0 inserts a unit
  /// dimension at `first`.
  Value collapseRange(Location l, Value v, int64_t first, int64_t count);

  Type elementType(DType dtype);
  Type elementType(ValueId v) { return elementType(spec.values[v].dtype); }
  /// An init of the given sizes and element type (by default the float
  /// type of the value being emitted).
  Value empty(Location l, ArrayRef<OpFoldResult> sizes, Type elem = {}) {
    return b.create<tensor::EmptyOp>(l, sizes, elem ? elem : current);
  }
  /// The init a value is computed into.
  Value destination(ValueId v) {
    return empty(loc(spec.values[v].loc), sizesOf(v), elementType(v));
  }

  void emitValue(ValueId v);
  Value generic(Location l, ValueRange inputs, Value init,
                ArrayRef<AffineMap> maps, ArrayRef<IteratorType> iterators,
                function_ref<void(OpBuilder &, Location, ValueRange)> body);
  Value fill(Location l, double c, Value init);
  /// `v` with its elements converted to `elem` (arith.extf / arith.truncf,
  /// round to nearest even); `v` itself when it already has that type.
  Value convertElements(Location l, Value v, Type elem);
  /// Writes `v` into output argument `arg`, rounded to its element type.
  void storeOutput(Location l, Value v, int arg);
  Value removeUnitDim(Location l, Value v, int64_t pos);
  /// Splits dimension `pos` into dimensions of the sizes `into` (none:
  /// removes a unit dimension).
  Value expandDim(Location l, Value v, int64_t pos,
                  ArrayRef<OpFoldResult> into);
  Value fromRows(Location l, Value v, ValueId like);
  Value emitLinear(const ValueSpec &value, ValueId id);
  Value emitAttention(const ValueSpec &value, ValueId id);
  void emitModifiers(attn::AttentionOp op, const AttentionSpec &att,
                     int index);
  Value stepOperand(const StepOperand &op, const AttentionSpec &att,
                    bool isQuery);
  Value emitBinary(const ValueSpec &value, ValueId id);
  Value emitLayerNorm(const ValueSpec &value, ValueId id);
  Value emitConcat(const ValueSpec &value, ValueId id);
  Value emitPool(const ValueSpec &value, ValueId id);
  Value emitDot(const ValueSpec &value, ValueId id);
  Value emitMatMul(const ValueSpec &value, ValueId id);
  Value multiplyAccumulate(Location l, const ValueSpec &value, ValueId id,
                           ArrayRef<AffineMap> maps);
  Value emitTranspose(const ValueSpec &value, ValueId id);
  /// [.., d] -> [M, d] (M = 1 for a vector).
  Value asRows(Location l, Value v);
  /// A map from `domainRank` loop dims to an operand of shape `shape`
  /// aligned at the right of `domain`, with broadcast (size 1) dims at 0.
  AffineMap broadcastMap(ArrayRef<ShapeEntry> shape,
                         ArrayRef<ShapeEntry> domain, unsigned domainRank);
  /// A constant of the current value's float type.
  Value constant(Location l, double c) {
    return b.create<arith::ConstantOp>(l, b.getFloatAttr(current, c));
  }
  Value sizeAsFloat(Location l, Value buffer, int64_t d);

  OpBuilder &b;
  const ModelSpec &spec;
  func::FuncOp modelFunc;
  Type current; ///< The element type of the value being emitted.
  SmallVector<Value> args;             ///< The function's memrefs.
  SmallVector<Value> buffers;          ///< Per value, its tensor.
  llvm::StringMap<std::pair<int, int64_t>> dynDims; ///< name -> (arg, dim)
};

Type ModelGen::elementType(DType dtype) {
  // The one DType -> MLIR type table is the ABI's (ABIAttributes.cpp).
  Type type = abiElementType(b.getContext(), dtype);
  assert(type && "Sema admits only the element types of the ABI");
  return type;
}

MemRefType ModelGen::argType(const ArgSpec &arg) {
  SmallVector<int64_t> shape;
  for (const ShapeEntry &entry : arg.shape)
    shape.push_back(entry.isDynamic() ? ShapedType::kDynamic
                                      : entry.staticSize);
  return MemRefType::get(shape, elementType(arg.dtype));
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
  auto type = RankedTensorType::get(
      shape, cast<ShapedType>(v.getType()).getElementType());
  // MLIR 19 bufferizes tensor.expand_shape without its output sizes, which
  // only works when each group has at most one dynamic size to infer; the
  // other expansions are a tensor.reshape (a view as well, since every
  // buffer here has the identity layout).
  bool inferable = llvm::all_of(groups, [&](const ReassociationIndices &g) {
    return llvm::count_if(g, [&](int64_t d) {
             return ShapedType::isDynamic(shape[d]);
           }) <= 1;
  });
  if (inferable)
    return b.create<tensor::ExpandShapeOp>(l, type, v, groups, sizes);
  SmallVector<Value> extents;
  for (OpFoldResult s : sizes)
    extents.push_back(getValueOrCreateConstantIndexOp(b, l, s));
  Value shapeTensor = b.create<tensor::FromElementsOp>(l, extents);
  return b.create<tensor::ReshapeOp>(l, type, v, shapeTensor);
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
  return b.create<tensor::CollapseShapeOp>(l, v, groups);
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

Value ModelGen::sizeAsFloat(Location l, Value buffer, int64_t d) {
  Value n = getValueOrCreateConstantIndexOp(b, l, size(buffer, d));
  Value i = b.create<arith::IndexCastOp>(l, b.getI64Type(), n);
  return b.create<arith::SIToFPOp>(l, current, i);
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

Value ModelGen::generic(Location l, ValueRange inputs, Value init,
                        ArrayRef<AffineMap> maps,
                        ArrayRef<IteratorType> iterators,
                        function_ref<void(OpBuilder &, Location, ValueRange)>
                            body) {
  return b
      .create<linalg::GenericOp>(l, TypeRange{init.getType()}, inputs,
                                 ValueRange{init}, maps, iterators, body)
      .getResult(0);
}

Value ModelGen::fill(Location l, double c, Value init) {
  return b.create<linalg::FillOp>(l, ValueRange{constant(l, c)}, ValueRange{init})
      .getResult(0);
}

Value ModelGen::convertElements(Location l, Value v, Type elem) {
  auto type = cast<RankedTensorType>(v.getType());
  Type from = type.getElementType();
  if (from == elem)
    return v;
  Value init = b.create<tensor::EmptyOp>(
      l, tensor::getMixedSizes(b, l, v), elem);
  unsigned r = type.getRank();
  bool widen = from.getIntOrFloatBitWidth() < elem.getIntOrFloatBitWidth();
  return generic(l, v, init,
                 {b.getMultiDimIdentityMap(r), b.getMultiDimIdentityMap(r)},
                 SmallVector<IteratorType>(r, IteratorType::parallel),
                 [&](OpBuilder &nb, Location nl, ValueRange vals) {
                   Value x =
                       widen ? Value(nb.create<arith::ExtFOp>(nl, elem, vals[0]))
                             : Value(nb.create<arith::TruncFOp>(nl, elem,
                                                                vals[0]));
                   nb.create<linalg::YieldOp>(nl, x);
                 });
}

void ModelGen::storeOutput(Location l, Value v, int arg) {
  Type elem = cast<MemRefType>(args[arg].getType()).getElementType();
  b.create<bufferization::MaterializeInDestinationOp>(
      l, TypeRange{}, convertElements(l, v, elem), args[arg],
      /*restrict=*/true, /*writable=*/true);
}

Value ModelGen::removeUnitDim(Location l, Value v, int64_t pos) {
  int64_t r = rank(v);
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < r; ++d) {
    if (d == pos)
      continue;
    ReassociationIndices group = {d};
    if (d == pos + 1)
      group.insert(group.begin(), pos);
    if (d == pos - 1 && pos == r - 1)
      group.push_back(pos);
    groups.push_back(group);
  }
  return b.create<tensor::CollapseShapeOp>(l, v, groups);
}

Value ModelGen::expandDim(Location l, Value v, int64_t pos,
                          ArrayRef<OpFoldResult> into) {
  if (into.size() == 1)
    return v;
  if (into.empty())
    return removeUnitDim(l, v, pos);
  SmallVector<ReassociationIndices> groups;
  SmallVector<OpFoldResult> sizes;
  int64_t out = 0;
  for (int64_t d = 0; d < rank(v); ++d) {
    ReassociationIndices group;
    if (d == pos) {
      for (OpFoldResult s : into) {
        group.push_back(out++);
        sizes.push_back(s);
      }
    } else {
      group.push_back(out++);
      sizes.push_back(size(v, d));
    }
    groups.push_back(group);
  }
  return expand(l, v, groups, sizes);
}

/// The inverse of asRows: [M, d] back to the sizes of value `like`.
Value ModelGen::fromRows(Location l, Value v, ValueId like) {
  SmallVector<OpFoldResult> sizes = sizesOf(like);
  sizes.pop_back();
  return expandDim(l, v, 0, sizes);
}

Value ModelGen::emitLinear(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value x = buffers[value.operands[0]];
  Value w = buffers[value.operands[1]];
  Value bias = value.operands.size() > 2 ? buffers[value.operands[2]] : Value();
  Value out = destination(id);
  int64_t r = rank(x);
  SmallVector<OpFoldResult> sizes = sizesOf(id);
  if (value.linearForm == ValueSpec::LinearForm::Shared) {
    // [S.., N, I] -> [S, N, I] (S = 1 and N = 1 when missing).
    auto view = [&](Value m) {
      if (r == 1)
        return insertUnitDim(l, insertUnitDim(l, m, 0), 0);
      return collapseRange(l, m, 0, r - 2);
    };
    Value y = b.create<attn::LinearOp>(l, view(x), w, bias, view(out))
                  .getResult(0);
    if (r == 1)
      return removeUnitDim(l, removeUnitDim(l, y, 0), 0);
    return expandDim(l, y, 0, ArrayRef(sizes).take_front(r - 2));
  }
  // Per group: [S.., G, I] -> [S, G, 1, I] against W [G, O, I].
  auto view = [&](Value m) {
    return insertUnitDim(l, collapseRange(l, m, 0, r - 2), 2);
  };
  Value y =
      b.create<attn::LinearOp>(l, view(x), w, bias, view(out)).getResult(0);
  return expandDim(l, removeUnitDim(l, y, 2), 0,
                   ArrayRef(sizes).take_front(r - 2));
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
    Value out = empty(l, {size(x, 0), size(w, 0), size(x, 1), outSize});
    return b.create<attn::LinearOp>(l, x, w, bias, out).getResult(0);
  }
  Value out = empty(l, {size(x, 0), size(x, 1), outSize});
  Value y = b.create<attn::LinearOp>(l, x, w, bias, out).getResult(0);
  return insertUnitDim(l, y, 1);
}

Value ModelGen::emitAttention(const ValueSpec &value, ValueId id) {
  const AttentionSpec &att = spec.attentions[value.attention];
  Location l = named(loc(att.scoreLoc), id);
  Value query = stepOperand(att.query, att, /*isQuery=*/true);
  Value keys = stepOperand(att.keys, att, /*isQuery=*/false);
  Value values = stepOperand(att.values, att, /*isQuery=*/false);

  // Inside `heads`, a query without a per-head map is the same for every
  // head: broadcast it, so that the step has h query heads.
  OpFoldResult heads = att.hasHeads ? dimSize(att.numHeads)
                                    : OpFoldResult(b.getIndexAttr(1));
  std::optional<int64_t> staticHeads = getConstantIntValue(heads);
  auto qType = cast<ShapedType>(query.getType());
  if (att.hasHeads && !(staticHeads && *staticHeads == 1) &&
      qType.getDimSize(1) == 1) {
    Value full =
        empty(l, {size(query, 0), heads, size(query, 2), size(query, 3)});
    AffineMap in = AffineMap::get(
        4, 0,
        {b.getAffineDimExpr(0), b.getAffineConstantExpr(0),
         b.getAffineDimExpr(2), b.getAffineDimExpr(3)},
        b.getContext());
    query = generic(l, {query}, full, {in, b.getMultiDimIdentityMap(4)},
                    SmallVector<IteratorType>(4, IteratorType::parallel),
                    [](OpBuilder &nb, Location nl, ValueRange vals) {
                      nb.create<linalg::YieldOp>(nl, vals[0]);
                    });
  }

  // The context [G.., (Nq,) (H,) Dv] as [B, Nq, H, Dv].
  Location cl = loc(att.contextLoc);
  auto contextLayout = [&](Value v) {
    v = collapseRange(cl, v, 0, att.numGroupDims);
    if (!att.multiQuery)
      v = insertUnitDim(cl, v, 1);
    if (!att.hasHeads)
      v = insertUnitDim(cl, v, 2);
    return v;
  };
  Value context = contextLayout(destination(id));

  // The weights [G.., (H,) (Nq,) Nk] as [B, H, Nq, Nk].
  Value weights;
  if (!att.weightsOutputs.empty()) {
    int arg = att.weightsOutputs.front();
    SmallVector<OpFoldResult> sizes;
    for (const ShapeEntry &e : spec.args[arg].shape)
      sizes.push_back(dimSize(e));
    weights = collapseRange(cl, empty(cl, sizes), 0, att.numGroupDims);
    if (!att.hasHeads)
      weights = insertUnitDim(cl, weights, 1);
    if (!att.multiQuery)
      weights = insertUnitDim(cl, weights, 2);
  }

  Value lengths;
  if (att.lengths >= 0) {
    Location ml = loc(att.maskLoc);
    lengths = buffers[att.lengths];
    lengths = att.numGroupDims == 0
                  ? expand(ml, lengths, {}, {b.getIndexAttr(1)})
                  : collapseRange(ml, lengths, 0, att.numGroupDims);
  }

  // The log-sum-exp [G.., (H,) (Nq,)] as [B, H, Nq].
  Value lse;
  if (!att.lseOutputs.empty()) {
    int arg = att.lseOutputs.front();
    SmallVector<OpFoldResult> sizes;
    for (const ShapeEntry &e : spec.args[arg].shape)
      sizes.push_back(dimSize(e));
    lse = collapseRange(cl, empty(cl, sizes), 0, att.numGroupDims);
    if (!att.hasHeads)
      lse = insertUnitDim(cl, lse, 1);
    if (!att.multiQuery)
      lse = insertUnitDim(cl, lse, 2);
  }

  Value prefix;
  if (att.prefix >= 0) {
    Location ml = loc(att.maskLoc);
    prefix = buffers[att.prefix];
    prefix = att.numGroupDims == 0
                 ? expand(ml, prefix, {}, {b.getIndexAttr(1)})
                 : collapseRange(ml, prefix, 0, att.numGroupDims);
  }

  SmallVector<Value> params;
  for (ValueId p : att.scoreParams)
    params.push_back(buffers[p]);
  auto op = b.create<attn::AttentionOp>(
      l, query, keys, values, params, lengths, context, weights,
      att.score, toAttn(att.scoreAct), toAttn(att.align),
      att.causal, prefix, lse);
  if (att.causalOffset)
    op.setCausalOffset(*att.causalOffset);
  if (att.window)
    op.setWindow(*att.window);
  if (att.align == AlignKind::Hard)
    op.setSeed(att.seed);
  if (att.bandLower)
    op.setBandLower(*att.bandLower);
  if (att.bandUpper)
    op.setBandUpper(*att.bandUpper);
  if (!att.scoreModifier.empty() || !att.maskPredicate.empty() ||
      !att.weightFactor.empty() || !att.keyRange.empty())
    emitModifiers(op, att, value.attention);
  for (int arg : att.weightsOutputs) {
    // [B, H, Nq, Nk] back to [G.., (H,) (Nq,) Nk].
    Value w = op.getResult(1);
    if (!att.multiQuery)
      w = removeUnitDim(cl, w, 2);
    if (!att.hasHeads)
      w = removeUnitDim(cl, w, 1);
    SmallVector<OpFoldResult> groups;
    for (const ShapeEntry &e :
         ArrayRef(spec.args[arg].shape).take_front(att.numGroupDims))
      groups.push_back(dimSize(e));
    w = expandDim(cl, w, 0, groups);
    storeOutput(cl, w, arg);
  }
  for (int arg : att.lseOutputs) {
    // [B, H, Nq] back to [G.., (H,) (Nq,)].
    Value z = op.getResult(weights ? 2 : 1);
    if (!att.multiQuery)
      z = removeUnitDim(cl, z, 2);
    if (!att.hasHeads)
      z = removeUnitDim(cl, z, 1);
    SmallVector<OpFoldResult> groups;
    for (const ShapeEntry &e :
         ArrayRef(spec.args[arg].shape).take_front(att.numGroupDims))
      groups.push_back(dimSize(e));
    z = expandDim(cl, z, 0, groups);
    storeOutput(cl, z, arg);
  }
  Value result = op.getResult(0);
  if (!att.hasHeads)
    result = removeUnitDim(cl, result, 2);
  if (!att.multiQuery)
    result = removeUnitDim(cl, result, 1);
  return expandDim(cl, result, 0,
                   ArrayRef(sizesOf(id)).take_front(att.numGroupDims));
}

Value ModelGen::emitBinary(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  ArrayRef<ShapeEntry> domain = value.shape;
  unsigned r = domain.size();
  SmallVector<AffineMap> maps;
  for (ValueId op : value.operands)
    maps.push_back(broadcastMap(spec.values[op].shape, domain, r));
  maps.push_back(b.getMultiDimIdentityMap(r));
  char op = value.binaryOp;
  return generic(
      l, {buffers[value.operands[0]], buffers[value.operands[1]]},
      destination(id), maps,
      SmallVector<IteratorType>(r, IteratorType::parallel),
      [op](OpBuilder &nb, Location nl, ValueRange vals) {
        Value result =
            op == '+'   ? nb.create<arith::AddFOp>(nl, vals[0], vals[1])
            : op == '-' ? Value(nb.create<arith::SubFOp>(nl, vals[0], vals[1]))
                        : Value(nb.create<arith::MulFOp>(nl, vals[0], vals[1]));
        nb.create<linalg::YieldOp>(nl, result);
      });
}

/// (x - mean) / sqrt(var + 1e-5) * g + b over the last dimension, on the
/// value's own shape (rows are all the other dimensions).
Value ModelGen::emitLayerNorm(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value x = buffers[value.operands[0]];
  MLIRContext *ctx = b.getContext();
  unsigned r = rank(x);
  Value n = sizeAsFloat(l, x, r - 1);
  Value eps = constant(l, 1e-5);
  AffineMap all = b.getMultiDimIdentityMap(r);
  SmallVector<AffineExpr> rowExprs;
  for (unsigned d = 0; d + 1 < r; ++d)
    rowExprs.push_back(b.getAffineDimExpr(d));
  AffineMap row = AffineMap::get(r, 0, rowExprs, ctx);
  AffineMap col = AffineMap::get(r, 0, {b.getAffineDimExpr(r - 1)}, ctx);
  SmallVector<IteratorType> reduce(r, IteratorType::parallel);
  reduce.back() = IteratorType::reduction;
  SmallVector<IteratorType> parallel(r, IteratorType::parallel);
  SmallVector<OpFoldResult> rowSizes = sizesOf(id);
  rowSizes.pop_back();
  Value sum = generic(l, {x}, fill(l, 0, empty(l, rowSizes)), {all, row},
                      reduce, [](OpBuilder &nb, Location nl, ValueRange v) {
                        nb.create<linalg::YieldOp>(
                            nl, Value(nb.create<arith::AddFOp>(nl, v[0], v[1])));
                      });
  Value squares = generic(
      l, {x, sum}, fill(l, 0, empty(l, rowSizes)), {all, row, row}, reduce,
      [n](OpBuilder &nb, Location nl, ValueRange v) {
        Value mean = nb.create<arith::DivFOp>(nl, v[1], n);
        Value d = nb.create<arith::SubFOp>(nl, v[0], mean);
        Value sq = nb.create<arith::MulFOp>(nl, d, d);
        nb.create<linalg::YieldOp>(nl,
                                   Value(nb.create<arith::AddFOp>(nl, sq, v[2])));
      });
  SmallVector<Value> inputs = {x, sum, squares};
  SmallVector<AffineMap> maps = {all, row, row};
  bool affine = value.operands.size() == 3;
  if (affine) {
    inputs.push_back(buffers[value.operands[1]]);
    inputs.push_back(buffers[value.operands[2]]);
    maps.push_back(col);
    maps.push_back(col);
  }
  maps.push_back(all);
  return generic(
      l, inputs, destination(id), maps, parallel,
      [affine, n, eps](OpBuilder &nb, Location nl, ValueRange v) {
        Value mean = nb.create<arith::DivFOp>(nl, v[1], n);
        Value var = nb.create<arith::DivFOp>(nl, v[2], n);
        Value scale = nb.create<math::RsqrtOp>(
            nl, nb.create<arith::AddFOp>(nl, var, eps));
        Value d = nb.create<arith::SubFOp>(nl, v[0], mean);
        Value y = nb.create<arith::MulFOp>(nl, d, scale);
        if (affine) {
          y = nb.create<arith::MulFOp>(nl, y, v[3]);
          y = nb.create<arith::AddFOp>(nl, y, v[4]);
        }
        nb.create<linalg::YieldOp>(nl, y);
      });
}

/// Each operand into its slice of the last dimension.
Value ModelGen::emitConcat(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value out = destination(id);
  unsigned r = rank(out);
  int64_t offset = 0;
  for (ValueId op : value.operands) {
    Value in = buffers[op];
    int64_t width = spec.values[op].shape.back().staticSize;
    SmallVector<OpFoldResult> offsets(r, b.getIndexAttr(0));
    offsets.back() = b.getIndexAttr(offset);
    SmallVector<OpFoldResult> sizes;
    for (unsigned d = 0; d + 1 < r; ++d)
      sizes.push_back(size(out, d));
    sizes.push_back(b.getIndexAttr(width));
    SmallVector<OpFoldResult> strides(r, b.getIndexAttr(1));
    out = b.create<tensor::InsertSliceOp>(l, in, out, offsets, sizes, strides);
    offset += width;
  }
  return out;
}

/// mean or max over the rows: [S.., N, D] -> [S.., D]. The mean of no rows
/// is 0; the max of no rows is -inf.
Value ModelGen::emitPool(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  Value x = buffers[value.operands[0]];
  unsigned r = rank(x);
  bool mean = value.pool == ValueSpec::PoolKind::Mean;
  Value init = fill(l, mean ? 0 : -std::numeric_limits<double>::infinity(),
                    destination(id));
  SmallVector<AffineExpr> outExprs;
  for (unsigned d = 0; d < r; ++d)
    if (d != r - 2)
      outExprs.push_back(b.getAffineDimExpr(d));
  SmallVector<IteratorType> iters(r, IteratorType::parallel);
  iters[r - 2] = IteratorType::reduction;
  Value y = generic(
      l, {x}, init,
      {b.getMultiDimIdentityMap(r),
       AffineMap::get(r, 0, outExprs, b.getContext())},
      iters, [mean](OpBuilder &nb, Location nl, ValueRange v) {
        Value sum = mean ? Value(nb.create<arith::AddFOp>(nl, v[0], v[1]))
                         : Value(nb.create<arith::MaximumFOp>(nl, v[0], v[1]));
        nb.create<linalg::YieldOp>(nl, sum);
      });
  if (!mean)
    return y;
  Value n = b.create<arith::MaximumFOp>(l, sizeAsFloat(l, x, r - 2), constant(l, 1));
  unsigned ro = r - 1;
  return generic(l, {}, y, {b.getMultiDimIdentityMap(ro)},
                 SmallVector<IteratorType>(ro, IteratorType::parallel),
                 [n](OpBuilder &nb, Location nl, ValueRange v) {
                   nb.create<linalg::YieldOp>(
                       nl, Value(nb.create<arith::DivFOp>(nl, v[0], n)));
                 });
}

/// sum(a * b) over the reduction dimensions (the last loop dimension) of
/// the value's two operands, into a zero-filled init: dot and matmul.
Value ModelGen::multiplyAccumulate(Location l, const ValueSpec &value,
                                   ValueId id, ArrayRef<AffineMap> maps) {
  unsigned r = maps.front().getNumDims();
  SmallVector<IteratorType> iters(r, IteratorType::parallel);
  iters.back() = IteratorType::reduction;
  return generic(l, {buffers[value.operands[0]], buffers[value.operands[1]]},
                 fill(l, 0, destination(id)), maps, iters,
                 [](OpBuilder &nb, Location nl, ValueRange v) {
                   Value p = nb.create<arith::MulFOp>(nl, v[0], v[1]);
                   nb.create<linalg::YieldOp>(
                       nl, Value(nb.create<arith::AddFOp>(nl, p, v[2])));
                 });
}

/// sum(x * y) over the last dimension, [.., 1].
Value ModelGen::emitDot(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
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
  return multiplyAccumulate(l, value, id, maps);
}

/// [.., m, k] x [.., k, n], leading dimensions broadcast.
Value ModelGen::emitMatMul(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  const auto &as = spec.values[value.operands[0]].shape;
  const auto &bs = spec.values[value.operands[1]].shape;
  unsigned lead = value.shape.size() - 2;
  unsigned r = lead + 3; // lead.., m, n, k
  auto operandMap = [&](ArrayRef<ShapeEntry> s, bool isA) {
    // The leading dimensions broadcast as in an elementwise op.
    SmallVector<AffineExpr> exprs = llvm::to_vector(
        broadcastMap(s.drop_back(2), ArrayRef(value.shape).take_front(lead), r)
            .getResults());
    exprs.push_back(b.getAffineDimExpr(isA ? lead : lead + 2));     // m | k
    exprs.push_back(b.getAffineDimExpr(isA ? lead + 2 : lead + 1)); // k | n
    return AffineMap::get(r, 0, exprs, b.getContext());
  };
  SmallVector<AffineExpr> outExprs;
  for (unsigned d = 0; d < lead + 2; ++d)
    outExprs.push_back(b.getAffineDimExpr(d));
  SmallVector<AffineMap> maps = {
      operandMap(as, true), operandMap(bs, false),
      AffineMap::get(r, 0, outExprs, b.getContext())};
  return multiplyAccumulate(l, value, id, maps);
}

Value ModelGen::emitTranspose(const ValueSpec &value, ValueId id) {
  Location l = loc(value.loc);
  unsigned r = value.shape.size();
  SmallVector<int64_t> perm;
  for (unsigned d = 0; d < r; ++d)
    perm.push_back(d);
  std::swap(perm[r - 1], perm[r - 2]);
  return b
      .create<linalg::TransposeOp>(l, buffers[value.operands[0]],
                                   destination(id), perm)
      .getResult()[0];
}

void ModelGen::emitValue(ValueId id) {
  const ValueSpec &value = spec.values[id];
  Location l = named(loc(value.loc), id);
  current = elementType(id);
  Value result;
  switch (value.kind) {
  case ValueSpec::Kind::Arg: {
    // Inputs and params are read only; `restrict`: no other tensor aliases
    // them (the runtime refuses outputs that overlap an argument).
    result = b.create<bufferization::ToTensorOp>(l, args[value.arg],
                                                 /*restrict=*/true,
                                                 /*writable=*/false);
    // bf16 and f16 arguments are widened once: the model computes in f32.
    result = convertElements(l, result, current);
    break;
  }
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
    result = b.create<attn::ActivationOp>(l, toAttn(value.act),
                                          buffers[value.operands[0]],
                                          destination(id))
                 .getResult(0);
    break;
  case ValueSpec::Kind::Softmax: {
    Value in = buffers[value.operands[0]];
    Value out = destination(id);
    if (rank(in) > 4) {
      Value y = b.create<attn::SoftmaxOp>(l, asRows(l, in), asRows(l, out))
                    .getResult(0);
      result = fromRows(l, y, id);
    } else {
      result = b.create<attn::SoftmaxOp>(l, in, out).getResult(0);
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

/// The score modifier and mask predicate of attention step `index` as
/// functions before the model's, named by the op with their sizes and
/// tables.
void ModelGen::emitModifiers(attn::AttentionOp op, const AttentionSpec &att,
                             int index) {
  ScalarOperands operands = collectScalarOperands(
      att.scoreModifier, att.maskPredicate, att.weightFactor, att.keyRange);
  SmallVector<Value> sizes, tables;
  SmallVector<Type> tableTypes;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op);
  for (const ShapeEntry &d : operands.dims)
    sizes.push_back(
        getValueOrCreateConstantIndexOp(b, op.getLoc(), dimSize(d)));
  for (const ScalarTable &t : operands.tables) {
    tables.push_back(buffers[t.value]);
    tableTypes.push_back(buffers[t.value].getType());
  }
  op.getModSizesMutable().assign(sizes);
  op.getModTablesMutable().assign(tables);
  b.setInsertionPoint(modelFunc);
  std::string prefix = modelFunc.getName().str() + "_attention" +
                       std::to_string(index);
  if (!att.scoreModifier.empty()) {
    auto fn = emitScalarFunction(b, loc(att.scoreLoc), prefix + "_score",
                                 att.scoreModifier, 0, operands, tableTypes);
    op.setScoreModAttr(FlatSymbolRefAttr::get(fn.getSymNameAttr()));
  }
  if (!att.maskPredicate.empty()) {
    auto fn = emitScalarFunction(b, loc(att.maskLoc), prefix + "_mask",
                                 att.maskPredicate, 1, operands, tableTypes);
    op.setMaskModAttr(FlatSymbolRefAttr::get(fn.getSymNameAttr()));
  }
  if (!att.weightFactor.empty()) {
    auto fn = emitScalarFunction(b, loc(att.alignLoc), prefix + "_weight",
                                 att.weightFactor, 2, operands, tableTypes);
    op.setWeightModAttr(FlatSymbolRefAttr::get(fn.getSymNameAttr()));
  }
  if (!att.keyRange.empty()) {
    auto fn = emitScalarFunction(b, loc(att.maskLoc), prefix + "_key_range",
                                 att.keyRange, 3, operands, tableTypes);
    op.setKeyRangeAttr(FlatSymbolRefAttr::get(fn.getSymNameAttr()));
  }
}

func::FuncOp ModelGen::emit() {
  SmallVector<Type> types;
  for (const ArgSpec &arg : spec.args)
    types.push_back(argType(arg));
  auto func = b.create<func::FuncOp>(loc(spec.loc), kernelName(spec.name),
                                     b.getFunctionType(types, {}));
  modelFunc = func;
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

  buffers.resize(spec.values.size());
  for (ValueId id = 0; id < ValueId(spec.values.size()); ++id)
    emitValue(id);

  // Each output is written into its argument (in place when bufferization
  // can make the value's init that argument).
  for (auto [arg, value] : spec.outputs)
    storeOutput(loc(spec.args[arg].loc), buffers[value], arg);
  b.create<func::ReturnOp>(loc(spec.loc));
  return func;
}

} // namespace

OwningOpRef<ModuleOp> attnc::mlirGen(MLIRContext &context,
                                     ArrayRef<ModelSpec> models) {
  context.loadDialect<attn::AttnDialect, func::FuncDialect,
                      memref::MemRefDialect, LLVM::LLVMDialect,
                      linalg::LinalgDialect, arith::ArithDialect,
                      math::MathDialect, tensor::TensorDialect,
                      scf::SCFDialect,
                      bufferization::BufferizationDialect>();
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
