//===- SemaValues.cpp - Check value expressions and block calls ----------===//
//
// The values of a model's program (docs/language.md, "Values and
// expressions"): names, linear maps `W x (+ b)`, `+ - *` with NumPy
// broadcasting, the built-in functions (activations, softmax, layer_norm,
// concat, pooling, dot, matmul, transpose) and block calls, each becoming a
// ValueSpec of the ModelSpec with its shape checked. A block is checked anew
// at each call, in a scope of its own that sees only its arguments and the
// model's dimensions; its own params become model arguments named after the
// call's parameter set.
//
//===----------------------------------------------------------------------===//

#include "ModelChecker.h"

using namespace attnc;

namespace attnc::sema {

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

ValueId ModelChecker::addValue(ValueSpec value, ValueInfo info) {
  value.shape = entries(info.shape);
  value.dtype = info.dtype;
  for (ValueId op : value.operands)
    info.dependsOnInput |= infos[op].dependsOnInput;
  spec.values.push_back(std::move(value));
  infos.push_back(std::move(info));
  return ValueId(spec.values.size() - 1);
}

void ModelChecker::nameValue(ValueId v, const std::string &name,
                             bool override) {
  if (v < 0 || spec.values[v].kind == ValueSpec::Kind::Arg)
    return;
  if (override || spec.values[v].name.empty())
    spec.values[v].name = name;
}

bool ModelChecker::expandOnce(const SourceLoc &loc) {
  if (++expansions <= kMaxExpansions && spec.values.size() <= kMaxValues)
    return true;
  failed = true;
  if (!expansionLimitReported) {
    expansionLimitReported = true;
    diag.error(loc, "the model is too large once its block calls and hops "
                    "are expanded (more than " +
                        llvm::Twine(kMaxExpansions) +
                        " calls and hops, or " + llvm::Twine(kMaxValues) +
                        " values): nested calls and hops multiply");
  }
  return false;
}

ValueId ModelChecker::addArgValue(int arg) {
  ValueSpec value;
  value.kind = ValueSpec::Kind::Arg;
  value.arg = arg;
  value.loc = spec.args[arg].loc;
  ValueInfo info;
  info.shape = argShape(arg);
  // bf16 and f16 arguments are widened on entry: the model computes in f32.
  info.dtype = isFloat(spec.args[arg].dtype) ? DType::F32 : spec.args[arg].dtype;
  info.dependsOnInput = spec.args[arg].role == Role::Input;
  ValueId id = addValue(std::move(value), std::move(info));
  if (argValues.size() <= size_t(arg))
    argValues.resize(arg + 1, -1);
  argValues[arg] = id;
  return id;
}

/// NumPy broadcasting: shapes align at the right; a static 1 stretches.
std::optional<Shape> ModelChecker::broadcastShapes(const Shape &a,
                                                   const Shape &b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const Dim *da = i < a.size() ? &a[a.size() - 1 - i] : nullptr;
    const Dim *db = i < b.size() ? &b[b.size() - 1 - i] : nullptr;
    Dim &d = out[out.size() - 1 - i];
    auto isOne = [](const Dim *x) {
      return x && !x->entry.isDynamic() && x->entry.staticSize == 1;
    };
    if (!da)
      d = *db;
    else if (!db)
      d = *da;
    else if (isOne(da))
      d = *db;
    else if (isOne(db) || sameDim(*da, *db))
      d = *da;
    else
      return std::nullopt;
  }
  return out;
}

/// The param named by `e`, or -1 after an error.
ValueId ModelChecker::expectParam(const Expr &e, llvm::StringRef what) {
  Symbol *sym = expectName(e, {SymKind::Param}, what);
  if (!sym || !expectF32(sym->value, e, what))
    return -1;
  return sym->value;
}

/// Like expectParam, and the param must have shape `expected` (or, inside
/// `heads` when `perHead`, [h] + `expected`).
ValueId ModelChecker::expectParamShape(const Expr &e, const Shape &expected,
                                       const Step &step, bool perHead,
                                       llvm::StringRef what) {
  ValueId v = expectParam(e, what);
  if (v < 0)
    return -1;
  const Shape &shape = shapeOf(v);
  if (sameShape(shape, expected))
    return v;
  Shape headed;
  if (perHead && step.hasHeads) {
    headed.push_back(step.numHeads);
    headed.insert(headed.end(), expected.begin(), expected.end());
    if (sameShape(shape, headed))
      return v;
  }
  error(e.loc, "'" + e.name + "' has shape " + shapeText(shape) + ", but " +
                   what + " must be " + shapeText(expected) +
                   (headed.empty() ? "" : " or " + shapeText(headed)));
  return -1;
}

ValueId ModelChecker::evalValue(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Name:
    return evalName(e);
  case Expr::Kind::Int:
  case Expr::Kind::Float:
    error(e.loc, "unsupported: a number cannot be used as a tensor here");
    return -1;
  case Expr::Kind::Neg:
    error(e.loc, "unsupported: unary minus");
    return -1;
  case Expr::Kind::Not:
  case Expr::Kind::Compare:
    error(e.kind == Expr::Kind::Not ? e.loc : e.opLoc,
          "unsupported: '" + std::string(e.kind == Expr::Kind::Not ? "!" : e.name) +
              "' on tensors; comparisons are for mask predicates ('mask [i, "
              "l]: ...') and score expressions with bound indices");
    return -1;
  case Expr::Kind::Index:
    error(e.loc, "unsupported: an element 'T[...]' is only allowed in mask "
                 "predicates ('mask [i, l]: ...') and score expressions with "
                 "bound indices ('score e[i, l] = ...')");
    return -1;
  case Expr::Kind::Apply:
    // `W x`: x first, so that its errors come in reading order after W's
    // name is known to be a param.
    {
      if (e.operands[0]->kind != Expr::Kind::Name) {
        error(e.loc, "a linear map 'W x' needs a param W on the left");
        return -1;
      }
      ValueId x = evalValue(*e.operands[1]);
      if (x < 0)
        return -1;
      return evalLinear(*e.operands[0], x, nullptr, e.loc);
    }
  case Expr::Kind::Binary: {
    // `W x + b` is one linear map with a bias.
    if (e.op == '+' && e.operands[0]->kind == Expr::Kind::Apply &&
        e.operands[1]->kind == Expr::Kind::Name) {
      const Expr &apply = *e.operands[0];
      Symbol *biasSym = find(e.operands[1]->name);
      if (apply.operands[0]->kind == Expr::Kind::Name && biasSym &&
          biasSym->kind == SymKind::Param) {
        ValueId x = evalValue(*apply.operands[1]);
        if (x < 0)
          return -1;
        return evalLinear(*apply.operands[0], x, e.operands[1].get(), e.loc);
      }
    }
    if (e.op == '/' || e.op == '&' || e.op == '|') {
      std::string op = e.op == '/' ? "/" : std::string(2, e.op);
      error(e.opLoc, "unsupported operator '" + op + "'" +
                         (e.op == '/' ? ""
                                      : " on tensors; logical operators are "
                                        "for mask predicates ('mask [i, l]: "
                                        "...')"));
      return -1;
    }
    ValueId a = evalValue(*e.operands[0]);
    ValueId b = evalValue(*e.operands[1]);
    if (a < 0 || b < 0)
      return -1;
    if (!expectF32(a, *e.operands[0], "an operand of '" +
                                          std::string(1, e.op) + "'") ||
        !expectF32(b, *e.operands[1],
                   "an operand of '" + std::string(1, e.op) + "'"))
      return -1;
    std::optional<Shape> shape = broadcastShapes(shapeOf(a), shapeOf(b));
    if (!shape) {
      error(e.opLoc, "shapes " + shapeText(shapeOf(a)) + " and " +
                         shapeText(shapeOf(b)) + " do not broadcast for '" +
                         std::string(1, e.op) + "'");
      return -1;
    }
    ValueSpec value;
    value.kind = ValueSpec::Kind::Binary;
    value.loc = e.opLoc;
    value.binaryOp = e.op;
    value.operands = {a, b};
    ValueInfo info;
    info.shape = *shape;
    return addValue(std::move(value), std::move(info));
  }
  case Expr::Kind::Call:
    return evalCall(e);
  }
  return -1;
}

ValueId ModelChecker::evalName(const Expr &e) {
  Symbol *sym = lookup(e.name, e.loc);
  if (!sym)
    return -1;
  switch (sym->kind) {
  case SymKind::Dim:
  case SymKind::BatchDim:
    error(e.loc, "'" + e.name + "' is " + describe(sym->kind) +
                     ", not a tensor");
    return -1;
  case SymKind::Score:
    error(e.loc, "the score '" + e.name +
                     "' can only be used by the alignment ('softmax(" +
                     e.name + ")')");
    return -1;
  case SymKind::Align:
    error(e.loc, "the weights '" + e.name +
                     "' can only be used by the context or output as they are");
    return -1;
  case SymKind::Output:
    error(e.loc, "'" + e.name + "' is an output; outputs cannot be read");
    return -1;
  default:
    break;
  }
  if (!sym->valid)
    return -1;
  if (sym->value < 0) {
    error(e.loc, "'" + e.name +
                     "' is a per-head projection; it can only be used by the "
                     "attention step of its 'heads' block");
    return -1;
  }
  if (infos[sym->value].headsContext) {
    error(e.loc, "with 'heads', the context must be concatenated: write "
                 "'concat(" +
                     e.name + ")'");
    return -1;
  }
  return sym->value;
}

/// `W x (+ b)` outside an attention step's own projections.
ValueId ModelChecker::evalLinear(const Expr &weightExpr, ValueId x,
                                 const Expr *biasExpr, const SourceLoc &loc) {
  ValueId w = expectParam(weightExpr, "a weight");
  if (w < 0 || !expectF32(x, weightExpr, "the input of a linear map"))
    return -1;
  const Shape &ws = shapeOf(w);
  const Shape &xs = shapeOf(x);
  ValueSpec value;
  value.kind = ValueSpec::Kind::Linear;
  value.loc = loc;
  value.operands = {x, w};
  if (ws.size() == 3) {
    // One matrix per row of the last-but-one dimension of x.
    if (xs.size() < 2 || !sameDim(xs[xs.size() - 2], ws[0]) ||
        !sameDim(xs.back(), ws[2])) {
      error(weightExpr.loc,
            "'" + weightExpr.name + "' has shape " + shapeText(ws) +
                "; a weight [g, d_out, d_in] applies to vectors [.., g, "
                "d_in], but the input has shape " +
                shapeText(xs));
      return -1;
    }
    value.linearForm = ValueSpec::LinearForm::PerGroup;
  } else if (ws.size() != 2) {
    error(weightExpr.loc, "'" + weightExpr.name + "' has shape " +
                              shapeText(ws) +
                              ", but a weight must be [d_out, d_in]");
    return -1;
  } else if (xs.empty() || !sameDim(ws[1], xs.back())) {
    error(weightExpr.loc,
          "'" + weightExpr.name + "' has shape " + shapeText(ws) +
              "; its last dimension must be " +
              (xs.empty() ? std::string("the input's last dimension")
                          : xs.back().text) +
              " to apply it to a value of shape " + shapeText(xs));
    return -1;
  }
  Dim out = ws[ws.size() - 2];
  if (biasExpr) {
    Shape expected{out};
    if (ws.size() == 3)
      expected.insert(expected.begin(), ws[0]);
    Step none;
    ValueId b = expectParamShape(*biasExpr, expected, none, false, "the bias");
    if (b < 0)
      return -1;
    value.operands.push_back(b);
  }
  ValueInfo info;
  info.shape = xs;
  info.shape.back() = out;
  return addValue(std::move(value), std::move(info));
}

ValueId ModelChecker::evalCall(const Expr &e) {
  auto it = blocks.find(e.name);
  if (it != blocks.end())
    return evalBlockCall(e, *it->second);
  if (!e.withSet.name.empty()) {
    error(e.withSet.loc, "'with' names the parameter set of a block call, "
                         "but '" +
                             e.name + "' is not a block");
    return -1;
  }
  if (e.name == "sum") {
    error(e.loc, "'sum(a * V)' can only be used in a 'context' item");
    return -1;
  }

  struct Builtin {
    const char *name;
    unsigned minArgs, maxArgs, params;
  };
  static const Builtin kBuiltins[] = {
      {"tanh", 1, 1, 0},   {"relu", 1, 1, 0},      {"sigmoid", 1, 1, 0},
      {"softmax", 1, 1, 0}, {"layer_norm", 1, 1, 2}, {"concat", 1, 64, 0},
      {"mean", 1, 1, 0},   {"max", 1, 1, 0},       {"dot", 2, 2, 0},
      {"matmul", 2, 2, 0}, {"transpose", 1, 1, 0},
  };
  const Builtin *builtin = nullptr;
  for (const Builtin &b : kBuiltins)
    if (e.name == b.name)
      builtin = &b;
  if (!builtin) {
    if (mlir::attn::lookupScoreFunction(e.name)) {
      error(e.loc, "the score function '" + e.name +
                       "' can only be used in a 'score' item");
      return -1;
    }
    error(e.loc, "unknown function '" + e.name + "'");
    return -1;
  }
  if (e.operands.size() < builtin->minArgs ||
      e.operands.size() > builtin->maxArgs || !e.named.empty() ||
      (e.hasParamList && builtin->params == 0) ||
      (builtin->params && e.hasParamList &&
       e.params.size() != builtin->params)) {
    std::string form = e.name == "layer_norm" ? "'layer_norm(x)' or "
                                                "'layer_norm(x; g, b)'"
                       : e.name == "concat"   ? "'concat(x, y, ...)'"
                       : builtin->minArgs == 2
                           ? "'" + e.name + "(x, y)'"
                           : "'" + e.name + "(x)'";
    error(e.loc, "wrong arguments for '" + e.name + "'; expected " + form);
    return -1;
  }

  // concat(c) of a heads step's context: the heads side by side.
  if (e.name == "concat" && e.operands.size() == 1 &&
      e.operands[0]->kind == Expr::Kind::Name) {
    Symbol *sym = find(e.operands[0]->name);
    if (sym && sym->kind == SymKind::Context && sym->valid &&
        sym->value >= 0 && infos[sym->value].headsContext) {
      Shape shape = shapeOf(sym->value);
      Dim h = shape[shape.size() - 2], d = shape.back();
      Dim width;
      if (!h.entry.isDynamic() && !d.entry.isDynamic()) {
        int64_t hs = h.entry.staticSize, ds = d.entry.staticSize;
        if (ds != 0 && hs > INT64_MAX / ds) {
          error(e.loc, "dimension too large");
          return -1;
        }
        width = staticDim(hs * ds);
        width.text = h.text + " * " + d.text;
      } else if (!h.entry.isDynamic() && h.entry.staticSize == 1) {
        width = d;
      } else {
        error(e.loc, "unsupported: 'concat' needs a static number of heads "
                     "and a static value size");
        return -1;
      }
      shape.pop_back();
      shape.back() = width;
      ValueSpec value;
      value.kind = ValueSpec::Kind::Reshape;
      value.loc = e.loc;
      value.operands = {sym->value};
      ValueInfo info;
      info.shape = shape;
      return addValue(std::move(value), std::move(info));
    }
  }

  std::vector<ValueId> args;
  for (const ast::ExprPtr &arg : e.operands) {
    ValueId v = evalValue(*arg);
    if (v < 0)
      return -1;
    if (!expectF32(v, *arg, "an argument of '" + e.name + "'"))
      return -1;
    args.push_back(v);
  }
  ValueSpec value;
  value.loc = e.loc;
  value.operands = args;
  ValueInfo info;
  const Shape &x = shapeOf(args[0]);
  auto needRank = [&](size_t i, size_t rank, const char *what) {
    if (shapeOf(args[i]).size() >= rank)
      return true;
    error(e.operands[i]->loc, "'" + e.name + "' needs " + what +
                                  ", but the argument has shape " +
                                  shapeText(shapeOf(args[i])));
    return false;
  };

  if (e.name == "tanh" || e.name == "relu" || e.name == "sigmoid") {
    value.kind = ValueSpec::Kind::Activation;
    value.act = *parseActivation(e.name);
    info.shape = x;
  } else if (e.name == "softmax") {
    if (!needRank(0, 1, "a vector"))
      return -1;
    value.kind = ValueSpec::Kind::Softmax;
    info.shape = x;
  } else if (e.name == "layer_norm") {
    if (!needRank(0, 1, "a vector"))
      return -1;
    value.kind = ValueSpec::Kind::LayerNorm;
    Step none;
    for (const ast::ExprPtr &p : e.params) {
      ValueId v = expectParamShape(*p, {x.back()}, none, false,
                                   "a scale or shift of layer_norm");
      if (v < 0)
        return -1;
      value.operands.push_back(v);
    }
    info.shape = x;
  } else if (e.name == "concat") {
    value.kind = ValueSpec::Kind::Concat;
    Shape shape = x;
    if (!needRank(0, 1, "vectors"))
      return -1;
    int64_t width = 0;
    std::string text;
    for (size_t i = 0; i < args.size(); ++i) {
      const Shape &s = shapeOf(args[i]);
      Shape lead(s.begin(), s.end() - (s.empty() ? 0 : 1));
      Shape lead0(x.begin(), x.end() - 1);
      if (s.empty() || !sameShape(lead, lead0)) {
        error(e.operands[i]->loc,
              "'concat' joins values along their last dimension; the others "
              "must agree, but " +
                  shapeText(s) + " does not match " + shapeText(x));
        return -1;
      }
      if (s.back().entry.isDynamic()) {
        error(e.operands[i]->loc, "unsupported: 'concat' of a value with a "
                                  "dynamic last dimension (" +
                                      s.back().text + ")");
        return -1;
      }
      width += s.back().entry.staticSize;
      text += (i ? " + " : "") + s.back().text;
    }
    shape.back() = staticDim(width);
    if (args.size() > 1)
      shape.back().text = text;
    info.shape = shape;
  } else if (e.name == "mean" || e.name == "max") {
    if (!needRank(0, 2, "rows [.., n, d]"))
      return -1;
    value.kind = ValueSpec::Kind::Pool;
    value.pool = e.name == "mean" ? ValueSpec::PoolKind::Mean
                                  : ValueSpec::PoolKind::Max;
    info.shape = x;
    info.shape.erase(info.shape.end() - 2);
  } else if (e.name == "dot") {
    if (!needRank(0, 1, "vectors") || !needRank(1, 1, "vectors"))
      return -1;
    std::optional<Shape> shape = broadcastShapes(x, shapeOf(args[1]));
    if (!shape) {
      error(e.loc, "'dot' needs shapes that broadcast, but got " +
                       shapeText(x) + " and " + shapeText(shapeOf(args[1])));
      return -1;
    }
    value.kind = ValueSpec::Kind::Dot;
    shape->back() = staticDim(1);
    info.shape = *shape;
  } else if (e.name == "matmul") {
    if (!needRank(0, 2, "a matrix [.., m, k]") ||
        !needRank(1, 2, "a matrix [.., k, n]"))
      return -1;
    const Shape &y = shapeOf(args[1]);
    if (!sameDim(x.back(), y[y.size() - 2])) {
      error(e.loc, "'matmul' needs [.., m, k] x [.., k, n], but got " +
                       shapeText(x) + " and " + shapeText(y));
      return -1;
    }
    std::optional<Shape> lead = broadcastShapes(
        Shape(x.begin(), x.end() - 2), Shape(y.begin(), y.end() - 2));
    if (!lead) {
      error(e.loc, "the leading dimensions of " + shapeText(x) + " and " +
                       shapeText(y) + " do not broadcast");
      return -1;
    }
    value.kind = ValueSpec::Kind::MatMul;
    info.shape = *lead;
    info.shape.push_back(x[x.size() - 2]);
    info.shape.push_back(y.back());
  } else if (e.name == "transpose") {
    if (!needRank(0, 2, "a matrix [.., m, n]"))
      return -1;
    value.kind = ValueSpec::Kind::Transpose;
    info.shape = x;
    std::swap(info.shape[x.size() - 1], info.shape[x.size() - 2]);
  }
  return addValue(std::move(value), std::move(info));
}

/// Checks the block's body in a scope of its own, with its value arguments
/// bound to `e`'s arguments and its params to `e`'s params (passed) or to
/// new model params named after the parameter set (declared in the block).
ValueId ModelChecker::evalBlockCall(const Expr &e, const ast::Block &block) {
  if (!expandOnce(e.loc))
    return -1;
  if (llvm::is_contained(callStack, &block)) {
    error(e.loc, "block '" + block.name.name + "' calls itself");
    return -1;
  }
  if (callStack.size() >= 16) {
    error(e.loc, "blocks nested too deeply (more than 16 calls)");
    return -1;
  }
  if (e.operands.size() != block.valueArgs.size() ||
      e.params.size() != block.paramArgs.size() || !e.named.empty()) {
    error(e.loc, "block '" + block.name.name + "' takes " +
                     llvm::Twine(block.valueArgs.size()) + " value argument" +
                     (block.valueArgs.size() == 1 ? "" : "s") + " and " +
                     llvm::Twine(block.paramArgs.size()) + " param argument" +
                     (block.paramArgs.size() == 1 ? "" : "s") + ", got " +
                     llvm::Twine(e.operands.size()) + " and " +
                     llvm::Twine(e.params.size()));
    note(block.name.loc, "'" + block.name.name + "' is defined here");
    return -1;
  }
  std::vector<ValueId> values;
  for (const ast::ExprPtr &arg : e.operands) {
    ValueId v = evalValue(*arg);
    if (v < 0)
      return -1;
    values.push_back(v);
  }
  std::vector<Symbol *> params;
  for (const ast::ExprPtr &arg : e.params) {
    Symbol *sym = expectName(*arg, {SymKind::Param},
                             "a param argument of a block call");
    if (!sym)
      return -1;
    params.push_back(sym);
  }

  std::string set = e.withSet.name.empty() ? block.name.name : e.withSet.name;
  set += hopSuffix;
  Scope blockScope;
  blockScope.parent = &modelScope;
  blockScope.parentDimsOnly = true;
  for (size_t i = 0; i < block.valueArgs.size(); ++i) {
    auto [it, inserted] =
        blockScope.symbols.try_emplace(block.valueArgs[i].name);
    if (!inserted) {
      error(block.valueArgs[i].loc,
            "duplicate argument '" + block.valueArgs[i].name + "'");
      return -1;
    }
    it->second.kind = SymKind::Value;
    it->second.loc = block.valueArgs[i].loc;
    it->second.value = values[i];
  }
  for (size_t i = 0; i < block.paramArgs.size(); ++i) {
    auto [it, inserted] =
        blockScope.symbols.try_emplace(block.paramArgs[i].name);
    if (!inserted) {
      error(block.paramArgs[i].loc,
            "duplicate argument '" + block.paramArgs[i].name + "'");
      return -1;
    }
    it->second = *params[i];
    it->second.loc = block.paramArgs[i].loc;
  }
  collectNames(block.items, blockScope);

  Scope *savedScope = scope;
  std::string savedPrefix = setPrefix, savedSuffix = hopSuffix;
  scope = &blockScope;
  setPrefix = setPrefix.empty() ? set : setPrefix + "_" + set;
  hopSuffix.clear();
  callStack.push_back(&block);
  unsigned errorsBefore = diag.numErrors();
  bool failedBefore = failed;
  failed = false;

  Step step;
  for (const Item &item : block.items)
    step.hasHeadsAhead |= item.kind == Item::Kind::Heads;
  checkItems(block.items, Context::Block, step);
  checkStepComplete(step, block.name.loc, "block '" + block.name.name + "'");
  ValueId result = -1;
  const Item *ret = nullptr;
  for (const Item &item : block.items)
    if (item.kind == Item::Kind::Return)
      ret = &item;
  if (ret) {
    result = evalValue(*ret->value);
  } else if (step.hasHeads) {
    error(block.name.loc, "block '" + block.name.name +
                              "' has 'heads'; it needs a 'return' item (e.g. "
                              "'return Wo concat(c)')");
  } else if (step.contextItem) {
    Symbol *ctx = find(step.contextItem->name.name);
    result = ctx && ctx->valid ? ctx->value : -1;
  } else if (!failed) {
    error(block.name.loc, "block '" + block.name.name +
                              "' has neither a 'context' nor a 'return' item");
  }
  if (failed) {
    result = -1;
    if (diag.numErrors() > errorsBefore)
      note(e.loc, "in the call of block '" + block.name.name + "' here");
  }
  failed |= failedBefore;

  callStack.pop_back();
  setPrefix = savedPrefix;
  hopSuffix = savedSuffix;
  scope = savedScope;
  return result;
}

} // namespace attnc::sema
