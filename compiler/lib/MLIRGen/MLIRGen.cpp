//===- MLIRGen.cpp - ModelSpec -> attn dialect ----------------------------===//
//
// Emits, for each checked model, a function over memrefs (one per ABI
// argument) that computes the model with attn ops:
//
//   feature model        attn.linear (or nothing for the identity)
//   query/keys/values    attn.linear per head or shared, or views
//   attention model      attn.attention (score kind, params, align, masks)
//   output model         attn.linear + attn.activation / attn.softmax
//
// The ABI's tensors have their batch dimensions first; the attn ops work on
// one collapsed batch dimension and explicit head/query dimensions, so the
// arguments are first viewed through memref.collapse_shape/expand_shape
// (free: the runtime passes only contiguous row-major tensors). Every op is
// located at the .attn text it comes from.
//
//===----------------------------------------------------------------------===//

#include "attnc/MLIRGen/MLIRGen.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
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

  Value expand(Location l, Value v, ArrayRef<ReassociationIndices> groups,
               ArrayRef<OpFoldResult> sizes);
  Value insertUnitDim(Location l, Value v, int64_t pos);
  Value collapse(Location l, Value v, ArrayRef<ReassociationIndices> groups);
  /// [batch..., rest...] -> [B, rest...] (B = 1 without batch dims).
  Value batched(Location l, Value v);
  /// x [B, N, I] -> [B, H or 1, N, O] through `map`'s weight (and bias).
  Value applyMap(const LinearMap &map, Value x);
  Value temporary(Location l, ArrayRef<OpFoldResult> sizes) {
    Value buffer = attn::allocF32Buffer(b, l, sizes);
    temporaries.push_back(buffer);
    return buffer;
  }
  Value source(const LinearMap &map) {
    return map.source == LinearMap::kFeatures
               ? features
               : batched(loc(map.loc), args[map.source]);
  }

  OpBuilder &b;
  const ModelSpec &spec;
  SmallVector<Value> args;
  SmallVector<Value> temporaries;
  Value features; // F [B, Nf, Df]
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

Value ModelGen::collapse(Location l, Value v,
                         ArrayRef<ReassociationIndices> groups) {
  return b.create<memref::CollapseShapeOp>(l, v, groups);
}

Value ModelGen::batched(Location l, Value v) {
  unsigned nb = spec.numBatchDims;
  if (nb == 1)
    return v;
  if (nb == 0)
    return insertUnitDim(l, v, 0);
  SmallVector<ReassociationIndices> groups(1);
  for (unsigned d = 0; d < nb; ++d)
    groups[0].push_back(d);
  for (int64_t d = nb; d < rank(v); ++d)
    groups.push_back({d});
  return collapse(l, v, groups);
}

Value ModelGen::applyMap(const LinearMap &map, Value x) {
  Location l = loc(map.loc);
  if (map.isIdentity())
    return insertUnitDim(l, x, 1);
  Value weight = args[map.weight];
  Value bias = map.bias >= 0 ? args[map.bias] : Value();
  OpFoldResult outSize = size(weight, rank(weight) - 2);
  if (rank(weight) == 3) {
    Value out =
        temporary(l, {size(x, 0), size(weight, 0), size(x, 1), outSize});
    b.create<attn::LinearOp>(l, x, weight, bias, out);
    return out;
  }
  Value out = temporary(l, {size(x, 0), size(x, 1), outSize});
  b.create<attn::LinearOp>(l, x, weight, bias, out);
  return insertUnitDim(l, out, 1);
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

  // Feature model: F = X or Wf X + bf, [B, Nf, Df].
  if (spec.featureMap.source >= 0) {
    const LinearMap &fm = spec.featureMap;
    Value x = batched(loc(fm.loc), args[fm.source]);
    features = x;
    if (!fm.isIdentity()) {
      Value weight = args[fm.weight];
      features =
          temporary(loc(fm.loc), {size(x, 0), size(x, 1), size(weight, 0)});
      b.create<attn::LinearOp>(loc(fm.loc), x, weight,
                               fm.bias >= 0 ? args[fm.bias] : Value(),
                               features);
    }
  }

  // Query model: Q [Bq, Hq, Nq, Dq].
  Value rawQuery;
  const LinearMap &qm = spec.queryMap;
  switch (spec.querySource) {
  case QuerySource::Features:
    rawQuery = features;
    break;
  case QuerySource::Input:
    rawQuery = batched(loc(qm.loc), args[qm.source]);
    if (!spec.multiQuery)
      rawQuery = insertUnitDim(loc(qm.loc), rawQuery, 1);
    break;
  case QuerySource::Param:
    // A learned query is shared by the batch: batch size 1, broadcast.
    rawQuery = insertUnitDim(loc(qm.loc), args[qm.source], 0);
    if (!spec.multiQuery)
      rawQuery = insertUnitDim(loc(qm.loc), rawQuery, 1);
    break;
  }
  Value query = applyMap(qm, rawQuery);
  Value keys = applyMap(spec.keyMap, source(spec.keyMap));
  Value values = applyMap(spec.valueMap, source(spec.valueMap));

  // Outputs: the context buffer [B, Nq, Hq, Dv] is the first context
  // output itself when there is one, so that c is written once, in place.
  Location ctxLoc = loc(spec.contextLoc);
  OpFoldResult batch = size(keys, 0), nq = size(query, 2),
               heads = size(query, 1), dv = size(values, 3);
  Value context, weights;
  SmallVector<Value> extraContexts, extraWeights;
  for (const OutputSpec &out : spec.outputs) {
    Location l = loc(out.loc);
    Value view = batched(l, args[out.arg]);
    if (out.kind == OutputSpec::Kind::Context) {
      if (!spec.multiQuery)
        view = insertUnitDim(l, view, 1);
      view = expand(l, view, {{0}, {1}, {2, 3}}, {batch, nq, heads, dv});
      if (!context)
        context = view;
      else
        extraContexts.push_back(view);
    } else if (out.kind == OutputSpec::Kind::Weights) {
      if (!spec.hasHeads)
        view = insertUnitDim(l, view, 1);
      if (!spec.multiQuery)
        view = insertUnitDim(l, view, 2);
      if (!weights)
        weights = view;
      else
        extraWeights.push_back(view);
    }
  }
  if (!context)
    context = temporary(ctxLoc, {batch, nq, heads, dv});

  Value lengths;
  if (spec.lengthsArg >= 0) {
    Location l = loc(spec.maskLoc);
    lengths = args[spec.lengthsArg];
    lengths = spec.numBatchDims == 0
                  ? expand(l, lengths, {}, {b.getIndexAttr(1)})
                  : batched(l, lengths);
  }

  SmallVector<Value> params;
  for (int p : spec.scoreParams)
    params.push_back(args[p]);
  b.create<attn::AttentionOp>(loc(spec.scoreLoc), query, keys, values, params,
                              lengths, context, weights, toAttn(spec.score),
                              toAttn(spec.scoreAct), attn::AlignKind::softmax,
                              spec.causal);
  for (Value extra : extraContexts)
    b.create<memref::CopyOp>(ctxLoc, context, extra);
  for (Value extra : extraWeights)
    b.create<memref::CopyOp>(ctxLoc, weights, extra);

  // Output model: y = act(W concat(c) + b) or softmax(W concat(c) + b).
  for (const OutputSpec &out : spec.outputs) {
    if (out.kind != OutputSpec::Kind::Linear)
      continue;
    Location l = loc(out.loc);
    Value flat = collapse(l, context, {{0}, {1}, {2, 3}});
    Value view = batched(l, args[out.arg]);
    if (!spec.multiQuery)
      view = insertUnitDim(l, view, 1);
    b.create<attn::LinearOp>(l, flat, args[out.map.weight],
                             out.map.bias >= 0 ? args[out.map.bias] : Value(),
                             view);
    if (out.softmax)
      b.create<attn::SoftmaxOp>(l, view, view);
    else if (out.act != Activation::Identity)
      b.create<attn::ActivationOp>(l, toAttn(out.act), view, view);
  }

  for (Value temp : temporaries)
    b.create<memref::DeallocOp>(ctxLoc, temp);
  b.create<func::ReturnOp>(loc(spec.loc));
  return func;
}

} // namespace

OwningOpRef<ModuleOp> attnc::mlirGen(MLIRContext &context,
                                     ArrayRef<ModelSpec> models) {
  context.loadDialect<attn::AttnDialect, func::FuncDialect,
                      memref::MemRefDialect, LLVM::LLVMDialect>();
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
