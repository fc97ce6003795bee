//===- AttnOps.cpp - Verifiers of the attn dialect's ops ------------------===//
//
// The verifiers check what the types can tell statically: ranks and every
// pair of dimensions that must agree when both are known. Dynamic sizes are
// checked at call time by the runtime (see runtime/lib/Runtime.c).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/Dialect/Attn/IR/AttnEnums.cpp.inc"

//===----------------------------------------------------------------------===//
// attn.attention's inputs and named score parameters:
//   ins(%q, %k, %v : types) params(W1 = %a, W2 = %b, ... : types)
//===----------------------------------------------------------------------===//

/// The parameter names come from the score-function table, so a parameter
/// can only be written under its own name and in the table's order; each
/// mistake is reported where it is. (One directive with `ins`, because an
/// optional custom directive alone would leave a double space in the
/// printed form.)
static ParseResult parseInputsAndScoreParams(
    OpAsmParser &parser, ScoreKindAttr score,
    OpAsmParser::UnresolvedOperand &query, OpAsmParser::UnresolvedOperand &keys,
    OpAsmParser::UnresolvedOperand &values, Type &queryType, Type &keysType,
    Type &valuesType, SmallVectorImpl<OpAsmParser::UnresolvedOperand> &params,
    SmallVectorImpl<Type> &types) {
  if (parser.parseKeyword("ins") || parser.parseLParen() ||
      parser.parseOperand(query) || parser.parseComma() ||
      parser.parseOperand(keys) || parser.parseComma() ||
      parser.parseOperand(values) || parser.parseColon() ||
      parser.parseType(queryType) || parser.parseComma() ||
      parser.parseType(keysType) || parser.parseComma() ||
      parser.parseType(valuesType) || parser.parseRParen())
    return failure();

  const ScoreFunction &function = getScoreFunction(score.getValue());
  StringRef kind = function.getName();
  std::string expected = function.getParamList();
  auto missing = [&](SMLoc loc) {
    const ScoreParam &param = function.params[params.size()];
    return parser.emitError(loc)
           << "missing parameter '" << param.name << "' of score '" << kind
           << "' (expected params(" << expected << "), in this order)";
  };
  SMLoc loc = parser.getCurrentLocation();
  if (failed(parser.parseOptionalKeyword("params"))) {
    if (!function.params.empty())
      return missing(loc);
    return success();
  }
  if (function.params.empty())
    return parser.emitError(loc)
           << "score '" << kind << "' takes no parameters";
  if (parser.parseLParen())
    return failure();
  do {
    loc = parser.getCurrentLocation();
    StringRef name;
    if (failed(parser.parseOptionalKeyword(&name)))
      return parser.emitError(loc)
             << "expected a parameter name of score '" << kind << "' ("
             << expected << "), as in 'NAME = %value'";
    std::optional<unsigned> index = function.getParamIndex(name);
    if (!index)
      return parser.emitError(loc)
             << "score '" << kind << "' has no parameter '" << name
             << "' (expected " << expected << ")";
    if (*index < params.size())
      return parser.emitError(loc) << "duplicate parameter '" << name << "'";
    if (*index > params.size())
      return parser.emitError(loc)
             << "parameter '" << name << "' of score '" << kind
             << "' out of order: expected '"
             << function.params[params.size()].name << "' before it (params("
             << expected << "), in this order)";
    if (parser.parseEqual() || parser.parseOperand(params.emplace_back()))
      return failure();
  } while (succeeded(parser.parseOptionalComma()));
  loc = parser.getCurrentLocation();
  if (params.size() < function.params.size())
    return missing(loc);
  if (parser.parseColonTypeList(types) || parser.parseRParen())
    return failure();
  if (types.size() != params.size())
    return parser.emitError(loc)
           << params.size() << " parameters but " << types.size() << " types";
  return success();
}

static void printInputsAndScoreParams(OpAsmPrinter &p, Operation *,
                                      ScoreKindAttr score, Value query,
                                      Value keys, Value values, Type queryType,
                                      Type keysType, Type valuesType,
                                      OperandRange params, TypeRange types) {
  p << "ins(" << query << ", " << keys << ", " << values << " : " << queryType
    << ", " << keysType << ", " << valuesType << ")";
  if (params.empty())
    return;
  // An op that fails to verify may have more parameters than names; it is
  // still printed (for the diagnostic), the extra ones unnamed.
  const ScoreFunction &function = getScoreFunction(score.getValue());
  p << " params(";
  for (auto [i, param] : llvm::enumerate(params)) {
    if (i)
      p << ", ";
    if (i < function.params.size())
      p << function.params[i].name << " = ";
    p << param;
  }
  p << " : " << types << ")";
}

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"

namespace {
/// Names a dimension of an operand in messages: "'keys' dim 2".
struct DimRef {
  Value value;
  int64_t index; // negative counts from the end
  StringRef name;
  bool mayBroadcast = false; // a size of 1 is broadcast to the others

  int64_t size() const {
    auto type = cast<ShapedType>(value.getType());
    int64_t i = index < 0 ? type.getRank() + index : index;
    return type.getDimSize(i);
  }
  int64_t position() const {
    auto type = cast<ShapedType>(value.getType());
    return index < 0 ? type.getRank() + index : index;
  }
};
} // namespace

static int64_t rankOf(Value v) {
  return cast<ShapedType>(v.getType()).getRank();
}

//===----------------------------------------------------------------------===//
// Destination-passing style
//===----------------------------------------------------------------------===//

SmallVector<Type> mlir::attn::initResultTypes(ArrayRef<Value> inits) {
  SmallVector<Type> types;
  for (Value init : inits)
    if (init && isa<TensorType>(init.getType()))
      types.push_back(init.getType());
  return types;
}

/// On tensors every operand is a tensor and the results are the new values
/// of the inits (same types); on memrefs there are no results.
static LogicalResult verifyDestinationStyle(DestinationStyleOpInterface op) {
  Operation *operation = op.getOperation();
  bool anyTensor = false, anyMemRef = false;
  for (Value v : operation->getOperands()) {
    anyTensor |= isa<TensorType>(v.getType());
    anyMemRef |= isa<MemRefType>(v.getType());
  }
  if (anyTensor && anyMemRef)
    return op->emitOpError("mixes tensor and memref operands");
  if (anyMemRef && operation->getNumResults() != 0)
    return op->emitOpError("on memrefs has no results");
  if (anyTensor) {
    if (operation->getNumResults() != op.getNumDpsInits())
      return op->emitOpError() << "on tensors has one result per init ("
                               << op.getNumDpsInits() << "), got "
                               << operation->getNumResults();
    for (auto [init, result] :
         llvm::zip(op.getDpsInits(), operation->getResults()))
      if (init.getType() != result.getType())
        return op->emitOpError()
               << "result type " << result.getType()
               << " differs from its init's type " << init.getType();
  }
  return success();
}

void mlir::attn::getDpsMemoryEffects(
    DestinationStyleOpInterface op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (op.isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

/// Results are printed under the name of the value they compute when the
/// front end put it in the location (`%ctx = attn.attention ...`).
static void nameResults(Operation *op, OpAsmSetValueNameFn setName) {
  auto name = dyn_cast<NameLoc>(op->getLoc());
  if (!name || op->getNumResults() == 0)
    return;
  setName(op->getResult(0), name.getName().getValue());
  if (op->getNumResults() == 2)
    setName(op->getResult(1), (name.getName().getValue() + "_weights").str());
}

void LinearOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  nameResults(*this, setName);
}
void AttentionOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  auto name = dyn_cast<NameLoc>(getLoc());
  if (!name || getNumResults() == 0)
    return;
  StringRef base = name.getName().getValue();
  setName(getResult(0), base);
  if (getWeights() && getNumResults() > 1)
    setName(getResult(1), (base + "_weights").str());
  if (getLse() && getNumResults() > 1)
    setName(getResults().back(), (base + "_lse").str());
}
void ActivationOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  nameResults(*this, setName);
}
void SoftmaxOp::getAsmResultNames(OpAsmSetValueNameFn setName) {
  nameResults(*this, setName);
}

MutableOperandRange LinearOp::getDpsInitsMutable() {
  return getOutputMutable();
}
MutableOperandRange ActivationOp::getDpsInitsMutable() {
  return getOutputMutable();
}
MutableOperandRange SoftmaxOp::getDpsInitsMutable() {
  return getOutputMutable();
}
/// The context and, when present, the weights and the log-sum-exp
/// (adjacent operands).
MutableOperandRange AttentionOp::getDpsInitsMutable() {
  unsigned start = getOutputMutable().getOperandNumber();
  return MutableOperandRange(getOperation(), start,
                             1 + (getWeights() ? 1 : 0) + (getLse() ? 1 : 0));
}

/// Fails when both dimensions are static and differ.
static LogicalResult expectEqual(Operation *op, DimRef a, DimRef b,
                                 StringRef what) {
  if (ShapedType::isDynamic(a.size()) || ShapedType::isDynamic(b.size()) ||
      a.size() == b.size())
    return success();
  return op->emitOpError() << what << ": '" << a.name << "' dim "
                           << a.position() << " is " << a.size() << " but '"
                           << b.name << "' dim " << b.position() << " is "
                           << b.size();
}

/// Checks every pair of `dims` that must agree (directly, not through a
/// third that may be dynamic); a size of 1 in a broadcastable one is fine.
static LogicalResult expectAllEqual(Operation *op, ArrayRef<DimRef> dims,
                                    StringRef what) {
  for (size_t i = 0; i < dims.size(); ++i)
    for (size_t j = i + 1; j < dims.size(); ++j) {
      if ((dims[i].mayBroadcast && dims[i].size() == 1) ||
          (dims[j].mayBroadcast && dims[j].size() == 1))
        continue;
      if (failed(expectEqual(op, dims[i], dims[j], what)))
        return failure();
    }
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(*this)))
    return failure();
  Value in = getInput(), w = getWeight(), out = getOutput();
  int64_t ri = rankOf(in), rw = rankOf(w), ro = rankOf(out);
  bool perHead = rw == 3;
  int64_t expectedOut = (ri == 4 || perHead) ? 4 : 3;
  if (ro != expectedOut)
    return emitOpError() << "expects an output of rank " << expectedOut
                         << " for an input of rank " << ri
                         << " and a weight of rank " << rw << ", got " << ro;
  DimRef inD{in, -1, "input"}, wIn{w, -1, "weight"}, wOut{w, -2, "weight"},
      outD{out, -1, "output"};
  if (failed(expectEqual(op, inD, wIn, "input size mismatch")) ||
      failed(expectEqual(op, wOut, outD, "output size mismatch")) ||
      failed(expectEqual(op, {in, 0, "input"}, {out, 0, "output"},
                         "batch mismatch")) ||
      failed(expectEqual(op, {in, -2, "input"}, {out, -2, "output"},
                         "row count mismatch")))
    return failure();
  if (Value b = getBias()) {
    // A bias is shared ([O]) or per head ([H, O]), independently of W.
    if (rankOf(b) == 2 && ro != 4)
      return emitOpError("a per-head bias needs an output with a head "
                         "dimension");
    if (failed(expectEqual(op, {b, -1, "bias"}, outD, "bias size mismatch")))
      return failure();
  }
  if (ro == 4) {
    SmallVector<DimRef> heads = {{out, 1, "output"}};
    if (ri == 4)
      heads.push_back({in, 1, "input", /*mayBroadcast=*/true});
    if (perHead)
      heads.push_back({w, 0, "weight"});
    if (Value b = getBias(); b && rankOf(b) == 2)
      heads.push_back({b, 0, "bias"});
    if (failed(expectAllEqual(op, heads, "head count mismatch")))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Shared checks of AttentionOp and OnlineAttentionOp
//===----------------------------------------------------------------------===//

/// Layout checks common to both attention ops: query [B, Hq, Nq, Dq], keys
/// and values [B, Hk, Nk, *], context [B, Nq, Hq, Dv], weights
/// [B, Hq, Nq, Nk], lengths [B].
static LogicalResult verifyAttentionLayout(Operation *op, Value q, Value k,
                                           Value v, Value context,
                                           Value weights, Value lengths) {
  SmallVector<DimRef> batch = {{q, 0, "query", true},
                               {k, 0, "keys", true},
                               {v, 0, "values", true},
                               {context, 0, "context"}};
  SmallVector<DimRef> queries = {{q, 2, "query"}, {context, 1, "context"}};
  SmallVector<DimRef> heads = {{q, 1, "query"}, {context, 2, "context"}};
  SmallVector<DimRef> keys = {{k, 2, "keys"}, {v, 2, "values"}};
  if (weights) {
    batch.push_back({weights, 0, "weights"});
    heads.push_back({weights, 1, "weights"});
    queries.push_back({weights, 2, "weights"});
    keys.push_back({weights, 3, "weights"});
  }
  if (lengths)
    batch.push_back({lengths, 0, "lengths"});
  if (failed(expectAllEqual(op, batch, "batch mismatch")) ||
      failed(expectAllEqual(op, queries, "query count mismatch")) ||
      failed(expectAllEqual(op, heads, "head count mismatch")) ||
      failed(expectAllEqual(op, keys, "key count mismatch")) ||
      failed(expectEqual(op, {v, 3, "values"}, {context, 3, "context"},
                         "value size mismatch")))
    return failure();
  // Keys and values may have fewer heads than the queries (multi-query or
  // grouped-query attention), each a divisor of the query heads.
  int64_t hq = DimRef{q, 1, ""}.size();
  for (auto [value, name] : {std::pair{k, "key"}, std::pair{v, "value"}}) {
    int64_t h = DimRef{value, 1, ""}.size();
    if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(h) &&
        (h == 0 ? hq != 0 : hq % h != 0))
      return op->emitOpError()
             << "query heads (" << hq << ") must be a multiple of " << name
             << " heads (" << h << ")";
  }
  return success();
}

static std::optional<int64_t> intOf(IntegerAttr attr) {
  if (!attr)
    return std::nullopt;
  return attr.getInt();
}

/// The log-sum-exp output [B, Hq, Nq] of an attention op.
/// The log-sum-exp is that of the softmax: sigmoid and argmax have none.
/// align(hard) samples with its seed; the other alignments take none.
static LogicalResult verifyAlign(Operation *op, AlignKind align, Value lse,
                                 IntegerAttr seed) {
  if (lse && align != AlignKind::softmax)
    return op->emitOpError("lse needs align(softmax), not align(")
           << stringifyAlignKind(align) << ")";
  // Sparse alignments need the whole row of scores: no online form.
  if (isSparseAlign(align) && isa<OnlineSoftmaxUpdateOp, TileWeightsOp>(op))
    return op->emitOpError("align(")
           << stringifyAlignKind(align)
           << ") has no online form (attn.tile_sparse_align)";
  if (align == AlignKind::hard && !seed)
    return op->emitOpError("align(hard) needs a seed");
  if (align != AlignKind::hard && seed)
    return op->emitOpError("a seed needs align(hard)");
  if (seed && (seed.getInt() < 0 || seed.getInt() > 0xffffffffLL))
    return op->emitOpError("the seed must be in [0, 2^32), got ")
           << seed.getInt();
  return success();
}

MemRefType mlir::attn::getModifierTableType(ShapedType table) {
  int64_t rank = table.getRank();
  SmallVector<int64_t> dynamic(rank, ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(table.getContext(),
                                       ShapedType::kDynamic, dynamic);
  return MemRefType::get(dynamic, table.getElementType(), layout);
}

/// A score modifier or mask predicate names a function of the module with
/// the signature `([e : f32,] b, h, i, l : index, sizes : index...,
/// tables...) -> f32 (score) | i1 (mask)`; tables are compared by rank and
/// element type only (the op may hold tensors while the function takes
/// memrefs, before bufferization).
/// `which`: 0 score_mod, 1 mask_mod, 2 weight_mod (no e, returns f32).
static LogicalResult verifyModifier(Operation *op,
                                    SymbolTableCollection &symbols,
                                    FlatSymbolRefAttr name, int which,
                                    ValueRange sizes, ValueRange tables) {
  if (!name)
    return success();
  bool isScore = which == 0;
  StringRef what = which == 0   ? "score_mod"
                   : which == 1 ? "mask_mod"
                                : "weight_mod";
  auto fn = symbols.lookupNearestSymbolFrom<func::FuncOp>(op, name);
  if (!fn)
    return op->emitOpError() << what << " '" << name.getValue()
                             << "' does not name a func.func";
  FunctionType type = fn.getFunctionType();
  MLIRContext *ctx = op->getContext();
  SmallVector<Type> expected;
  if (isScore)
    expected.push_back(Float32Type::get(ctx));
  expected.append(4 + sizes.size(), IndexType::get(ctx));
  size_t leading = expected.size();
  if (type.getNumInputs() != leading + tables.size())
    return op->emitOpError()
           << what << " '" << name.getValue() << "' must take "
           << leading + tables.size() << " arguments (" << (isScore ? "e, " : "")
           << "b, h, i, l, " << sizes.size() << " sizes, " << tables.size()
           << " tables), got " << type.getNumInputs();
  for (auto [i, t] : llvm::enumerate(expected))
    if (type.getInput(i) != t)
      return op->emitOpError() << what << " argument #" << i << " must be "
                               << t << ", got " << type.getInput(i);
  for (auto [i, table] : llvm::enumerate(tables)) {
    auto given = cast<ShapedType>(table.getType());
    auto taken = dyn_cast<ShapedType>(type.getInput(leading + i));
    if (!taken || taken.getRank() != given.getRank() ||
        taken.getElementType() != given.getElementType())
      return op->emitOpError()
             << what << " argument #" << leading + i << " (table #" << i
             << ") must be a " << given.getRank() << "-d buffer of "
             << given.getElementType() << ", got " << type.getInput(leading + i);
  }
  Type result = which != 1 ? Type(Float32Type::get(ctx))
                           : Type(IntegerType::get(ctx, 1));
  if (type.getNumResults() != 1 || type.getResult(0) != result)
    return op->emitOpError() << what << " '" << name.getValue()
                             << "' must return one " << result;
  return success();
}

/// The alignment of an op that has one (attn.tile_scores has none).
template <typename OpTy> static std::optional<AlignKind> alignOf(OpTy op) {
  return op.getAlign();
}
static std::optional<AlignKind> alignOf(TileScoresOp) { return std::nullopt; }

/// The modifiers of any op that carries them.
template <typename OpTy>
static LogicalResult verifyModifiers(OpTy op, SymbolTableCollection &symbols) {
  if (!op.getScoreModAttr() && !op.getMaskModAttr() &&
      !op.getWeightModAttr() &&
      (!op.getModSizes().empty() || !op.getModTables().empty()))
    return op.emitOpError("mod_sizes and mod_tables need a score_mod, a "
                          "mask_mod or a weight_mod");
  std::optional<AlignKind> align = alignOf(op);
  if (op.getWeightModAttr() && align && *align != AlignKind::softmax &&
      *align != AlignKind::sigmoid)
    return op.emitOpError("weight_mod needs align(softmax) or align(sigmoid)");
  FlatSymbolRefAttr names[3] = {op.getScoreModAttr(), op.getMaskModAttr(),
                                op.getWeightModAttr()};
  for (int which = 0; which < 3; ++which)
    if (failed(verifyModifier(op, symbols, names[which], which,
                              op.getModSizes(), op.getModTables())))
      return failure();
  return success();
}

/// A key range names a function `(b, h, i : index, sizes : index...,
/// tables...) -> (index, index)`, and goes with a mask_mod (the exact test).
template <typename OpTy>
static LogicalResult verifyKeyRange(OpTy op, SymbolTableCollection &symbols) {
  FlatSymbolRefAttr name = op.getKeyRangeAttr();
  if (!name)
    return success();
  if (!op.getMaskModAttr())
    return op.emitOpError("a key_range needs the mask_mod it bounds");
  auto fn = symbols.lookupNearestSymbolFrom<func::FuncOp>(op, name);
  if (!fn)
    return op.emitOpError() << "key_range '" << name.getValue()
                            << "' does not name a func.func";
  FunctionType type = fn.getFunctionType();
  size_t leading = 3 + op.getModSizes().size();
  Type index = IndexType::get(op.getContext());
  bool ok = type.getNumInputs() == leading + op.getModTables().size() &&
            type.getNumResults() == 2 && type.getResult(0) == index &&
            type.getResult(1) == index;
  for (size_t i = 0; ok && i < leading; ++i)
    ok = type.getInput(i) == index;
  if (!ok)
    return op.emitOpError()
           << "key_range '" << name.getValue() << "' must take (b, h, i, "
           << op.getModSizes().size() << " sizes: index, "
           << op.getModTables().size()
           << " tables) and return (index, index), got " << type;
  return success();
}

LogicalResult AttentionOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (failed(verifyKeyRange(*this, symbols)))
    return failure();
  return verifyModifiers(*this, symbols);
}
LogicalResult
OnlineAttentionOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (failed(verifyKeyRange(*this, symbols)))
    return failure();
  return verifyModifiers(*this, symbols);
}
LogicalResult
OnlineSoftmaxUpdateOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyModifiers(*this, symbols);
}
LogicalResult TileWeightsOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyModifiers(*this, symbols);
}

static LogicalResult verifyLse(Operation *op, Value lse, Value q,
                               Value context) {
  if (!lse)
    return success();
  if (failed(expectEqual(op, {lse, 0, "lse"}, {context, 0, "context"},
                         "batch mismatch")) ||
      failed(expectEqual(op, {lse, 1, "lse"}, {q, 1, "query"},
                         "head count mismatch")) ||
      failed(expectEqual(op, {lse, 2, "lse"}, {q, 2, "query"},
                         "query count mismatch")))
    return failure();
  return success();
}

/// The interval masks: `causal_offset` and `prefix` refine `causal`, a
/// window is positive, and `prefix` and `window` do not combine (their
/// union of keys would not be one interval). `prefix` ([B] of the context's
/// batch) when `context` is given.
static LogicalResult verifyIntervalMasks(Operation *op, bool causal,
                                         std::optional<int64_t> offset,
                                         std::optional<int64_t> window,
                                         bool hasPrefix, Value prefix = {},
                                         Value context = {}) {
  for (StringRef name : {"causal_offset", "window", "band_lower", "band_upper"})
    if (auto attr = op->getAttrOfType<IntegerAttr>(name)) {
      int64_t v = attr.getInt();
      if (v > kMaxMaskDistance || v < -kMaxMaskDistance)
        return op->emitOpError()
               << name << " must be within +-2^62 (the loop bounds add it "
               << "to a query index), got " << v;
    }
  if (offset && !causal)
    return op->emitOpError("causal_offset requires causal");
  if (hasPrefix && !causal)
    return op->emitOpError("a prefix mask requires causal");
  if (window && *window < 1)
    return op->emitOpError() << "window must be positive, got " << *window;
  if (window && hasPrefix)
    return op->emitOpError("a prefix mask and a window do not combine");
  if (prefix && context)
    return expectEqual(op, {prefix, 0, "prefix"}, {context, 0, "context"},
                       "batch mismatch");
  return success();
}

/// Checks a score parameter of shape [(H,) dims...]: rank is
/// dims.size() or dims.size() + 1 (per head, leading H = query heads).
static LogicalResult verifyScoreParam(Operation *op, Value param,
                                      StringRef name, ArrayRef<DimRef> dims,
                                      Value q) {
  int64_t rank = rankOf(param);
  int64_t base = dims.size();
  if (rank != base && rank != base + 1)
    return op->emitOpError()
           << "score parameter '" << name << "' must have rank " << base
           << " (shared) or " << base + 1 << " (per head), got " << rank;
  int64_t offset = rank - base;
  if (offset == 1 && failed(expectEqual(op, {param, 0, name}, {q, 1, "query"},
                                        "head count mismatch")))
    return failure();
  for (auto [i, dim] : llvm::enumerate(dims))
    if (failed(expectEqual(op, {param, int64_t(i) + offset, name}, dim,
                           "score parameter shape mismatch")))
      return failure();
  return success();
}

/// A per-feature (multi-dimensional) score has a weight per key and value
/// feature, [.., Nq, Nk, Dv], which neither the weights output nor the
/// log-sum-exp (one per feature) has room for; its normalizer is the
/// softmax.
/// Whether the op has a score_mod, a mask_mod or a weight_mod.
template <typename OpTy> static bool hasModifiers(OpTy op) {
  return op.getScoreModAttr() || op.getMaskModAttr() || op.getWeightModAttr();
}

static LogicalResult verifyPerFeatureScore(Operation *op, bool perFeature,
                                           Value weights, Value lse,
                                           AlignKind align, bool modifiers) {
  if (!perFeature)
    return success();
  if (modifiers)
    return op->emitOpError("a multi-dimensional score takes no score_mod, "
                           "mask_mod or weight_mod");
  if (weights)
    return op->emitOpError("a multi-dimensional score has no weights output");
  if (lse)
    return op->emitOpError("a multi-dimensional score has no lse output");
  if (align != AlignKind::softmax)
    return op->emitOpError("a multi-dimensional score needs align(softmax), "
                           "not align(")
           << stringifyAlignKind(align) << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyDestinationStyle(*this)))
    return failure();
  Value q = getQuery(), k = getKeys();
  if (failed(verifyAttentionLayout(op, q, k, getValues(), getOutput(),
                                   getWeights(), getLengths())) ||
      failed(verifyIntervalMasks(op, getCausal(), intOf(getCausalOffsetAttr()),
                                 intOf(getWindowAttr()), bool(getPrefix()),
                                 getPrefix(), getOutput())) ||
      failed(verifyLse(op, getLse(), q, getOutput())) ||
      failed(verifyAlign(op, getAlign(), getLse(), getSeedAttr())))
    return failure();

  // Every rule below is read from the score function's row of the table.
  const ScoreFunction &function = getScoreFunction();
  if (failed(verifyPerFeatureScore(
          op, getScoreCombineRules(function.combine).perFeature, getWeights(),
          getLse(), getAlign(), hasModifiers(*this))))
    return failure();
  StringRef kind = function.getName();
  if (!function.takesAct() && getAct() != Activation::identity)
    return emitOpError() << "score '" << kind << "' takes no activation";
  auto params = getParams();
  if (params.size() != function.params.size())
    return emitOpError() << "score '" << kind << "' expects "
                         << function.params.size() << " parameters ("
                         << (function.params.empty() ? "none"
                                                     : function.getParamList())
                         << "), got " << params.size();

  DimRef dq{q, 3, "query"}, dk{k, 3, "keys"};
  if (function.comparesQueryAndKeys() &&
      failed(expectEqual(op, dq, dk, "query and key sizes differ")))
    return failure();
  std::optional<DimRef> dw; // set by the first parameter that has d_w
  for (auto [param, value] : llvm::zip(function.params, params)) {
    if (param.isScalar()) {
      auto type = cast<ShapedType>(value.getType());
      if (type.getRank() > 1 ||
          (type.getRank() == 1 && type.getDimSize(0) != 1 &&
           !type.isDynamicDim(0)))
        return emitOpError() << "score parameter '" << param.name << "' of "
                             << kind << " must be a scalar (rank 0 or [1])";
      continue;
    }
    int64_t base = param.shape.size();
    if (!param.mayBePerHead && rankOf(value) != base)
      return emitOpError() << "score parameter '" << param.name
                           << "' must have rank " << base << ", got "
                           << rankOf(value);
    SmallVector<DimRef> dims;
    for (auto [i, size] : llvm::enumerate(param.shape)) {
      switch (size) {
      case ScoreSize::Query:
        dims.push_back(dq);
        break;
      case ScoreSize::Key:
        dims.push_back(dk);
        break;
      case ScoreSize::Hidden:
        // Counted from the end, so that it is the same dimension shared or
        // per head; compared with itself where it is defined.
        if (!dw)
          dw = DimRef{value, int64_t(i) - base, param.name};
        dims.push_back(*dw);
        break;
      case ScoreSize::Value:
        dims.push_back(DimRef{getValues(), 3, "values"});
        break;
      }
    }
    if (failed(verifyScoreParam(op, value, param.name, dims, q)))
      return failure();
    // A per-head key map gives the projected keys the query heads: the
    // keys must then have one head or as many as the queries.
    if (param.role == ScoreParamRole::KeyMap && rankOf(value) == base + 1 &&
        DimRef{k, 1, ""}.size() != 1 &&
        failed(expectEqual(op, {k, 1, "keys"}, {q, 1, "query"},
                           "a per-head " + param.name.str() +
                               " needs keys with one head or as many as the "
                               "query")))
      return failure();
  }
  return success();
}

Value AttentionOp::getScoreParam(StringRef name) {
  std::optional<unsigned> index = getScoreFunction().getParamIndex(name);
  if (!index || *index >= getParams().size())
    return Value();
  return getParams()[*index];
}

//===----------------------------------------------------------------------===//
// OnlineAttentionOp
//===----------------------------------------------------------------------===//

/// The rules of a combined score, shared by online_attention and the
/// tile-level ops: which combine takes which operand.
static LogicalResult verifyCombinedScore(Operation *op, Value q, Value k,
                                         ScoreCombine combine, Activation act,
                                         Value w, Value scale, Value bias) {
  if (failed(expectEqual(op, {q, 3, "query"}, {k, 3, "keys"},
                         "query and key sizes differ")))
    return failure();
  ScoreCombineRules rules = getScoreCombineRules(combine);
  if (!rules.takesScaleAndBias && (scale || bias))
    return op->emitOpError("scale and bias apply to the dot combine only");
  if (!rules.takesAct && act != Activation::identity)
    return op->emitOpError() << "the " << stringifyScoreCombine(combine)
                             << " combine takes no activation";
  if (rules.takesScoreWeights != bool(w))
    return op->emitOpError("score_weights are required by, and only by, the "
                           "additive combines");
  if (rules.perFeature) {
    // W_d [Dv, Dw], never per head; Dv is checked by online_attention, the
    // only op that takes it (it has no tiled form).
    if (!isa<OnlineAttentionOp>(op))
      return op->emitOpError("the multidim_additive combine is lowered from "
                             "attn.online_attention, never tiled");
    if (rankOf(w) != 2)
      return op->emitOpError("score_weights of the multidim_additive combine "
                             "must be [Dv, Dw], got rank ")
             << rankOf(w);
    return expectEqual(op, {w, 1, "score_weights"}, {q, 3, "query"},
                       "score parameter shape mismatch");
  }
  if (w)
    return verifyScoreParam(op, w, "score_weights", {DimRef{q, 3, "query"}}, q);
  return success();
}

LogicalResult OnlineAttentionOp::verify() {
  Operation *op = getOperation();
  Value q = getQuery(), k = getKeys();
  if (failed(verifyAttentionLayout(op, q, k, getValues(), getOutput(),
                                   getWeights(), getLengths())) ||
      failed(verifyIntervalMasks(op, getCausal(), intOf(getCausalOffsetAttr()),
                                 intOf(getWindowAttr()), bool(getPrefix()),
                                 getPrefix(), getOutput())) ||
      failed(verifyLse(op, getLse(), q, getOutput())) ||
      failed(verifyAlign(op, getAlign(), getLse(), getSeedAttr())))
    return failure();
  if (failed(verifyCombinedScore(op, q, k, getCombine(), getAct(),
                                 getScoreWeights(), getScale(), getBias())))
    return failure();
  if (!getScoreCombineRules(getCombine()).perFeature)
    return success();
  if (failed(verifyPerFeatureScore(op, true, getWeights(), getLse(),
                                   getAlign(), hasModifiers(*this))))
    return failure();
  return expectEqual(op, {getScoreWeights(), 0, "score_weights"},
                     {getValues(), 3, "values"},
                     "score parameter shape mismatch");
}

//===----------------------------------------------------------------------===//
// Tile-level ops
//===----------------------------------------------------------------------===//

/// The state of a query tile: `max` and `sum` of one type [QT] (QT static),
/// `acc` [QT, Dv] of the same kind (vectors or memrefs) with Dv that of
/// `dvSource` dim `dvDim`.
static LogicalResult verifyTileState(Operation *op, Value max, Value sum,
                                     Value acc, Value dvSource, int64_t dvDim,
                                     StringRef dvName) {
  if (max && max.getType() != sum.getType())
    return op->emitOpError("max and sum must have the same type");
  if (acc && isa<VectorType>(sum.getType()) != isa<VectorType>(acc.getType()))
    return op->emitOpError("the state must be all vectors or all memrefs");
  int64_t queryTile = cast<ShapedType>(sum.getType()).getDimSize(0);
  if (ShapedType::isDynamic(queryTile) || queryTile < 1)
    return op->emitOpError("the query tile size must be static and positive");
  if (!acc)
    return success();
  auto accType = cast<ShapedType>(acc.getType());
  if (accType.getDimSize(0) != queryTile)
    return op->emitOpError() << "accumulator has " << accType.getDimSize(0)
                             << " rows for a query tile of " << queryTile;
  int64_t dv = cast<MemRefType>(dvSource.getType()).getDimSize(dvDim);
  if (!ShapedType::isDynamic(dv) && !accType.isDynamicDim(1) &&
      accType.getDimSize(1) != dv)
    return op->emitOpError() << "value size mismatch: accumulator dim 1 is "
                             << accType.getDimSize(1) << " but '" << dvName
                             << "' dim " << dvDim << " is " << dv;
  return success();
}

LogicalResult OnlineSoftmaxUpdateOp::verify() {
  Operation *op = getOperation();
  Value q = getQuery(), k = getKeys(), v = getValues();
  // With key_row, the keys are the tile's rows of a scratch buffer: it holds
  // a whole tile, and Nk is the values'.
  if (getKeyRow()) {
    int64_t rows = cast<MemRefType>(k.getType()).getDimSize(2);
    if (!ShapedType::isDynamic(rows) && rows < getKeyTile())
      return emitOpError("keys with key_row hold a whole key tile (")
             << getKeyTile() << " rows), got " << rows;
  }
  if ((!getKeyRow() && failed(expectEqual(op, {k, 2, "keys"}, {v, 2, "values"},
                                          "key count mismatch"))) ||
      failed(verifyCombinedScore(op, q, k, getCombine(), getAct(),
                                 getScoreWeights(), getScale(), getBias())) ||
      failed(
          verifyTileState(op, getMax(), getSum(), getAcc(), v, 3, "values")) ||
      failed(verifyIntervalMasks(op, getCausal(), intOf(getCausalOffsetAttr()),
                                 intOf(getWindowAttr()), bool(getPrefixEnd()))) ||
      failed(verifyAlign(op, getAlign(), Value(), getSeedAttr())))
    return failure();
  bool needsBatch = getAlign() == AlignKind::hard || getScoreModAttr() ||
                    getMaskModAttr() || getWeightModAttr() || getScoresOut();
  if (bool(getSampleBatch()) != needsBatch)
    return emitOpError("sample_batch goes with align(hard), a score_mod, a "
                       "mask_mod, a weight_mod or scores_out, and only with "
                       "them");
  if (Value out = getScoresOut()) {
    if (getAlign() != AlignKind::softmax)
      return emitOpError("scores_out goes with the softmax");
    if (failed(expectEqual(op, {v, 2, "values"}, {out, 3, "scores_out"},
                           "key count mismatch")) ||
        failed(expectEqual(op, {q, 1, "query"}, {out, 1, "scores_out"},
                           "head count mismatch")) ||
        failed(expectEqual(op, {q, 2, "query"}, {out, 2, "scores_out"},
                           "query count mismatch")))
      return failure();
  }
  // Values are carried by the key loop; buffers are updated in place.
  if (hasValueState()) {
    SmallVector<Type> stateTypes = {getMax().getType(), getSum().getType(),
                                    getAcc().getType()};
    if (TypeRange(getNewState().getTypes()) != TypeRange(stateTypes))
      return emitOpError("with a vector state, the results must be the new "
                         "(max, sum, acc) of the state's types");
  } else if (!getNewState().empty()) {
    return emitOpError("a memref state is updated in place: no results");
  }
  return success();
}

LogicalResult TileFinalizeOp::verify() {
  if (failed(verifyTileState(getOperation(), getMax(), getSum(), getAcc(),
                             getOutput(), 3, "context")))
    return failure();
  if (bool(getMax()) != bool(getLse()))
    return emitOpError("lse needs both the maximum and the output");
  return success();
}

LogicalResult TileWeightsOp::verify() {
  Operation *op = getOperation();
  Value q = getQuery(), k = getKeys(), a = getWeights();
  // Without keys the scores are read where the update stored them.
  if (!k && !getScoresStored())
    return emitOpError("the keys may be left out only with scores_stored");
  if (bool(k) != bool(getKeyBatch()) || bool(k) != bool(getKeyHead()))
    return emitOpError("keys go with their batch and head indices");
  if ((k && failed(verifyCombinedScore(op, q, k, getCombine(), getAct(),
                                       getScoreWeights(), getScale(),
                                       getBias()))) ||
      failed(
          verifyTileState(op, getMax(), getSum(), Value(), a, 3, "weights")) ||
      (k && failed(expectEqual(op, {k, 2, "keys"}, {a, 3, "weights"},
                               "key count mismatch"))) ||
      failed(expectEqual(op, {q, 2, "query"}, {a, 2, "weights"},
                         "query count mismatch")) ||
      failed(verifyIntervalMasks(op, getCausal(), intOf(getCausalOffsetAttr()),
                                 intOf(getWindowAttr()), bool(getPrefixEnd()))) ||
      failed(verifyAlign(op, getAlign(), Value(), getSeedAttr())))
    return failure();
  if (getScoresStored() && getAlign() != AlignKind::softmax)
    return emitOpError("scores_stored goes with the softmax");
  return success();
}

//===----------------------------------------------------------------------===//
// Sparse alignments (attn.tile_scores, attn.tile_sparse_align)
//===----------------------------------------------------------------------===//

/// The row buffer of a query tile: [QT, Nk] with QT static and positive.
static LogicalResult verifyScoreRows(Operation *op, Value scores, Value keys,
                                     int64_t keyDim) {
  int64_t queryTile = cast<MemRefType>(scores.getType()).getDimSize(0);
  if (ShapedType::isDynamic(queryTile) || queryTile < 1)
    return op->emitOpError("the query tile size must be static and positive");
  return expectEqual(op, {keys, keyDim, "keys"}, {scores, 1, "scores"},
                     "key count mismatch");
}

LogicalResult TileScoresOp::verify() {
  Operation *op = getOperation();
  Value q = getQuery(), k = getKeys();
  if (failed(verifyCombinedScore(op, q, k, getCombine(), getAct(),
                                 getScoreWeights(), getScale(), getBias())) ||
      failed(verifyScoreRows(op, getScores(), k, 2)) ||
      failed(verifyIntervalMasks(op, getCausal(), intOf(getCausalOffsetAttr()),
                                 intOf(getWindowAttr()), bool(getPrefixEnd()))))
    return failure();
  if (getWeightModAttr())
    return emitOpError("a weight_mod has no meaning for stored scores");
  if (bool(getSampleBatch()) != bool(getScoreModAttr() || getMaskModAttr()))
    return emitOpError("sample_batch goes with a score_mod or a mask_mod, "
                       "and only with them");
  return success();
}

LogicalResult TileScoresOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyModifiers(*this, symbols);
}

LogicalResult TileSparseAlignOp::verify() {
  Operation *op = getOperation();
  Value v = getValues(), c = getOutput(), a = getWeights();
  if (!isSparseAlign(getAlign()))
    return emitOpError("takes align(sparsemax) or align(entmax15), not align(")
           << stringifyAlignKind(getAlign()) << ")";
  if (failed(verifyScoreRows(op, getScores(), v, 2)) ||
      failed(expectEqual(op, {v, 3, "values"}, {c, 3, "context"},
                         "value size mismatch")) ||
      failed(verifyIntervalMasks(op, getCausal(), intOf(getCausalOffsetAttr()),
                                 intOf(getWindowAttr()), bool(getPrefixEnd()))))
    return failure();
  if (a && (failed(expectEqual(op, {v, 2, "values"}, {a, 3, "weights"},
                               "key count mismatch")) ||
            failed(expectEqual(op, {c, 1, "context"}, {a, 2, "weights"},
                               "query count mismatch"))))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Output model
//===----------------------------------------------------------------------===//

static LogicalResult verifySameShape(Operation *op, Value in, Value out) {
  if (failed(verifyDestinationStyle(cast<DestinationStyleOpInterface>(op))))
    return failure();
  auto inType = cast<ShapedType>(in.getType());
  auto outType = cast<ShapedType>(out.getType());
  if (inType.getRank() != outType.getRank())
    return op->emitOpError()
           << "input and output ranks differ (" << inType.getRank() << " vs "
           << outType.getRank() << ")";
  for (int64_t i = 0; i < inType.getRank(); ++i)
    if (failed(expectEqual(op, {in, i, "input"}, {out, i, "output"},
                           "shape mismatch")))
      return failure();
  return success();
}

LogicalResult ActivationOp::verify() {
  return verifySameShape(getOperation(), getInput(), getOutput());
}

LogicalResult SoftmaxOp::verify() {
  return verifySameShape(getOperation(), getInput(), getOutput());
}

//===----------------------------------------------------------------------===//
// Activation functions
//===----------------------------------------------------------------------===//

Value mlir::attn::buildActivation(OpBuilder &b, Location loc, Activation act,
                                  Value x) {
  // x is an f32 or a vector of f32.
  auto constant = [&](double value) -> Value {
    Type type = x.getType();
    auto scalar = b.getFloatAttr(getElementTypeOrSelf(type), value);
    if (auto vectorType = dyn_cast<VectorType>(type))
      return b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(vectorType, scalar.getValue()));
    return b.create<arith::ConstantOp>(loc, scalar);
  };
  switch (act) {
  case Activation::identity:
    return x;
  case Activation::tanh:
    return b.create<math::TanhOp>(loc, x);
  case Activation::relu:
    return b.create<arith::MaximumFOp>(loc, x, constant(0.0));
  case Activation::sigmoid: {
    // 1 / (1 + exp(-x)): exp overflows to +inf for very negative x, which
    // correctly gives 0.
    Value one = constant(1.0);
    Value negX = b.create<arith::NegFOp>(loc, x);
    Value denom =
        b.create<arith::AddFOp>(loc, one, b.create<math::ExpOp>(loc, negX));
    return b.create<arith::DivFOp>(loc, one, denom);
  }
  }
  llvm_unreachable("unknown activation");
}

Value mlir::attn::allocF32Buffer(OpBuilder &b, Location loc,
                                 ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamicSizes;
  for (OpFoldResult size : sizes) {
    if (std::optional<int64_t> c = getConstantIntValue(size)) {
      shape.push_back(*c);
    } else {
      shape.push_back(ShapedType::kDynamic);
      dynamicSizes.push_back(cast<Value>(size));
    }
  }
  // On whole cache lines (64 bytes), as bufferization's allocations: the
  // kernels read and write these rows with vector loads and stores, which
  // cost two when they straddle two lines.
  return b.create<memref::AllocOp>(loc, MemRefType::get(shape, b.getF32Type()),
                                   dynamicSizes, b.getI64IntegerAttr(64));
}

/// The callee is a func.func whose inputs the operands match one by one
/// (the same type, or a vector of it with the result's lanes) and whose one
/// result is the result's element type.
LogicalResult
LanewiseCallOp::verifySymbolUses(SymbolTableCollection &symbols) {
  auto fn = symbols.lookupNearestSymbolFrom<func::FuncOp>(*this,
                                                          getCalleeAttr());
  if (!fn)
    return emitOpError() << "'" << getCallee()
                         << "' does not name a func.func";
  FunctionType type = fn.getFunctionType();
  if (type.getNumInputs() != getArgs().size())
    return emitOpError() << "'" << getCallee() << "' takes "
                         << type.getNumInputs() << " arguments, got "
                         << getArgs().size();
  auto resultType = cast<VectorType>(getResult().getType());
  int64_t lanes = resultType.getDimSize(0);
  for (auto [i, arg] : llvm::enumerate(getArgs())) {
    Type taken = type.getInput(i);
    if (arg.getType() == taken)
      continue;
    auto vector = dyn_cast<VectorType>(arg.getType());
    if (!vector || vector.getRank() != 1 || vector.getDimSize(0) != lanes ||
        vector.getElementType() != taken)
      return emitOpError() << "argument #" << i << " must be " << taken
                           << " or " << VectorType::get({lanes}, taken)
                           << ", got " << arg.getType();
  }
  if (type.getNumResults() != 1 ||
      type.getResult(0) != resultType.getElementType())
    return emitOpError() << "'" << getCallee() << "' must return one "
                         << resultType.getElementType();
  return success();
}
