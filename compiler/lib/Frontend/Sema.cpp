//===- Sema.cpp - Check .attn programs and build ModelSpecs ---------------===//
//
// Names, roles, shapes and supported combinations (docs/language.md). The
// grammar accepts general expressions; this is where the supported forms are
// recognized, so every "unsupported" message comes from here.
//
// A model is checked item by item in source order, and becomes a list of
// values (ModelSpec::values): its arguments, the values of its expressions
// and one value per attention step. Attention items (query ... context) of
// one scope (the model, a block body, or a `heads` block in them) form one
// step. Value expressions and block calls are checked in SemaValues.cpp; a
// block is checked anew at each call, in a scope of its own that sees only
// its arguments and the model's dimensions, so it adapts to the shapes it
// is called with; its params become model arguments named after the call's
// parameter set. The checker's state is declared in ModelChecker.h.
//
// An item that fails still defines its name, marked invalid, so that later
// items that use it stay quiet instead of repeating the error.
//
// Shapes are compared entry by entry: static sizes by value, dynamic
// dimensions by name. A static and a dynamic entry never match, since the
// compiler could not prove them equal.
//
//===----------------------------------------------------------------------===//

#include "ModelChecker.h"

#include "attn/Dialect/Attn/IR/AttnOps.h"

using namespace attnc;
using namespace attnc::sema;

namespace attnc::sema {

Symbol *ModelChecker::define(const ast::Ident &id, SymKind kind) {
  auto [it, inserted] = scope->symbols.try_emplace(id.name);
  if (!inserted) {
    error(id.loc, "duplicate name '" + id.name + "'");
    note(it->second.loc, "previous definition of '" + id.name + "'");
    return nullptr;
  }
  it->second.kind = kind;
  it->second.loc = id.loc;
  return &it->second;
}

Symbol *ModelChecker::find(const std::string &name) {
  bool dimsOnly = false;
  for (Scope *s = scope; s; s = s->parent) {
    auto it = s->symbols.find(name);
    if (it != s->symbols.end() &&
        (!dimsOnly || it->second.kind == SymKind::Dim ||
         it->second.kind == SymKind::BatchDim)) {
      it->second.used = true;
      return &it->second;
    }
    dimsOnly |= s->parentDimsOnly;
  }
  return nullptr;
}

Symbol *ModelChecker::lookup(const std::string &name, const SourceLoc &loc) {
  if (Symbol *sym = find(name))
    return sym;
  bool later = false;
  for (Scope *s = scope; s; s = s->parent) {
    later |= s->allNames.contains(name);
    if (s->parentDimsOnly)
      break;
  }
  if (later)
    error(loc, "'" + name + "' is used before its definition");
  else if (!callStack.empty() && modelScope.symbols.count(name))
    error(loc, "'" + name + "' is not visible inside block '" +
                   callStack.back()->name.name +
                   "'; pass it as an argument");
  else
    error(loc, "undefined name '" + name + "'" +
                   didYouMean(name, visibleNames()));
  return nullptr;
}

std::vector<std::string> ModelChecker::visibleNames() {
  std::vector<std::string> names;
  bool dimsOnly = false;
  for (Scope *s = scope; s; s = s->parent) {
    for (const auto &entry : s->symbols)
      if (!dimsOnly || entry.second.kind == SymKind::Dim ||
          entry.second.kind == SymKind::BatchDim)
        names.push_back(entry.first().str());
    dimsOnly |= s->parentDimsOnly;
  }
  return names;
}

/// Resolves a name expression whose symbol must be of one of the `allowed`
/// kinds; `what` names the position ("the source of the keys").
Symbol *ModelChecker::expectName(const Expr &e, llvm::ArrayRef<SymKind> allowed,
                                 llvm::StringRef what) {
  std::string expected;
  for (size_t i = 0; i < allowed.size(); ++i)
    expected += std::string(i == 0                    ? ""
                            : i + 1 == allowed.size() ? " or "
                                                      : ", ") +
                describe(allowed[i]);
  if (e.kind != Expr::Kind::Name) {
    error(e.loc, what + " must be " + expected + ", not an expression");
    return nullptr;
  }
  Symbol *sym = lookup(e.name, e.loc);
  if (!sym)
    return nullptr;
  if (!llvm::is_contained(allowed, sym->kind)) {
    error(e.loc, "'" + e.name + "' is " + describe(sym->kind) + ", but " +
                     what + " must be " + expected);
    return nullptr;
  }
  return sym->valid ? sym : nullptr;
}

bool ModelChecker::expectF32(ValueId v, const Expr &use, llvm::StringRef what) {
  if (infos[v].dtype == DType::F32)
    return true;
  error(use.loc, (use.kind == Expr::Kind::Name ? "'" + use.name + "'"
                                               : std::string("this value")) +
                     " has element type i32, but " + what + " must be f32");
  return false;
}

Shape ModelChecker::argShape(int arg) const {
  Shape shape;
  for (const ShapeEntry &e : spec.args[arg].shape) {
    Dim d;
    d.entry = e;
    d.text = e.isDynamic() ? e.dynName : std::to_string(e.staticSize);
    shape.push_back(d);
  }
  // Prefer the declared spelling (`d_q` rather than `32`) for messages.
  auto it = declaredText.find(arg);
  if (it != declaredText.end())
    for (size_t i = 0; i < shape.size() && i < it->second.size(); ++i)
      shape[i].text = it->second[i];
  return shape;
}

Shape ModelChecker::batchShape() const {
  Shape shape;
  for (const std::string &b : batchDims)
    shape.push_back(modelScope.symbols.lookup(b).dim);
  return shape;
}

std::optional<DType> ModelChecker::resolveElemType(const ast::Ident &elem) {
  if (elem.name == "f32")
    return DType::F32;
  if (elem.name == "bf16")
    return DType::BF16;
  if (elem.name == "f16")
    return DType::F16;
  if (elem.name == "i32")
    return DType::I32;
  if (elem.name == "f64" || elem.name == "i64") {
    error(elem.loc, "unsupported element type '" + elem.name +
                        "' (supported: f32, bf16, f16, i32)");
    return std::nullopt;
  }
  error(elem.loc, "unknown element type '" + elem.name + "'");
  return std::nullopt;
}

std::optional<Shape> ModelChecker::resolveShape(const ast::TensorType &type,
                                                bool markDetermined) {
  if (type.dims.size() > kMaxRank) {
    error(type.loc, "rank " + llvm::Twine(type.dims.size()) +
                        " exceeds the maximum rank of " +
                        llvm::Twine(kMaxRank));
    return std::nullopt;
  }
  Shape shape;
  bool ok = true;
  for (const ast::ShapeDim &sd : type.dims) {
    Dim dim;
    int64_t product = 1;
    bool dimOk = true;
    for (const ast::DimFactor &f : sd.factors) {
      int64_t size = f.value;
      if (f.isName) {
        Symbol *sym = lookup(f.name, f.loc);
        if (!sym) {
          dimOk = false;
          continue;
        }
        if (sym->kind != SymKind::Dim && sym->kind != SymKind::BatchDim) {
          error(f.loc, "'" + f.name + "' is " + describe(sym->kind) +
                           ", but a shape entry must be a dimension");
          dimOk = false;
          continue;
        }
        if (sd.factors.size() == 1) {
          dim = sym->dim;
          if (markDetermined)
            sym->determined = true;
          break;
        }
        if (sym->dim.entry.isDynamic()) {
          error(f.loc, "'" + f.name +
                           "' is dynamic; a product of dimensions needs "
                           "static ones");
          dimOk = false;
          continue;
        }
        size = sym->dim.entry.staticSize;
      } else if (sd.factors.size() == 1) {
        dim = staticDim(size);
        break;
      }
      if (size != 0 && product > INT64_MAX / size) {
        error(sd.loc, "dimension too large");
        dimOk = false;
        break;
      }
      product *= size;
    }
    if (!dimOk) {
      ok = false;
      continue;
    }
    if (sd.factors.size() > 1) {
      dim = staticDim(product);
      dim.text.clear();
      for (size_t i = 0; i < sd.factors.size(); ++i)
        dim.text +=
            (i ? " * " : "") + (sd.factors[i].isName
                                    ? sd.factors[i].name
                                    : std::to_string(sd.factors[i].value));
    }
    shape.push_back(dim);
  }
  if (!ok)
    return std::nullopt;
  return shape;
}

//===----------------------------------------------------------------------===//
// Items
//===----------------------------------------------------------------------===//

void ModelChecker::checkDims(const Item &item) {
  for (const ast::DimDecl &d : item.dims) {
    Symbol *sym = define(d.name, SymKind::Dim);
    if (!sym)
      continue;
    if (d.size) {
      sym->dim = staticDim(*d.size);
      sym->dim.text = d.name.name;
      sym->determined = true;
    } else {
      sym->dim.entry.dynName = d.name.name;
      sym->dim.text = d.name.name;
    }
  }
}

void ModelChecker::checkBatch(const Item &item) {
  if (batchItem) {
    error(item.loc, "duplicate 'batch' item");
    note(batchItem->loc, "previous 'batch' item");
    return;
  }
  batchItem = &item;
  if (sawTensorDecl) {
    error(item.loc, "'batch' must come before the inputs and params");
    return;
  }
  checkDims(item);
  for (const ast::DimDecl &d : item.dims) {
    auto it = scope->symbols.find(d.name.name);
    if (it == scope->symbols.end() || it->second.loc.line != d.name.loc.line ||
        it->second.loc.col != d.name.loc.col)
      continue; // A duplicate, already reported.
    it->second.kind = SymKind::BatchDim;
    batchDims.push_back(d.name.name);
  }
  spec.numBatchDims = unsigned(batchDims.size());
}

void ModelChecker::checkTensorDecl(const Item &item, bool inBlock) {
  sawTensorDecl = true;
  bool isInput = item.kind == Item::Kind::Input;
  std::optional<DType> dtype = resolveElemType(item.type->elemType);
  std::optional<Shape> shape =
      resolveShape(*item.type, /*markDetermined=*/true);
  bool ok = dtype && shape;
  std::string batchText = shapeText(batchShape());

  if (ok && isInput) {
    // Inputs start with all batch dimensions, in order, and only there.
    for (size_t i = 0; i < batchDims.size(); ++i) {
      const auto &dims = item.type->dims;
      if (i >= dims.size() || dims[i].factors.size() != 1 ||
          !dims[i].factors[0].isName ||
          dims[i].factors[0].name != batchDims[i]) {
        error(item.type->loc,
              "an input must start with the batch dimensions " + batchText);
        ok = false;
        break;
      }
    }
  }
  if (ok) {
    size_t first = isInput ? batchDims.size() : 0;
    for (size_t i = first; i < item.type->dims.size(); ++i)
      for (const ast::DimFactor &f : item.type->dims[i].factors)
        if (f.isName && llvm::is_contained(batchDims, f.name)) {
          error(f.loc, isInput ? "batch dimension '" + f.name +
                                     "' may only appear as a leading dimension"
                               : "a param must not have batch dimensions ('" +
                                     f.name + "')");
          ok = false;
        }
  }

  for (const ast::Ident &name : item.names) {
    Symbol *sym = define(name, isInput ? SymKind::Input : SymKind::Param);
    if (!sym)
      continue;
    sym->valid = ok;
    if (!ok)
      continue;
    ArgSpec arg;
    arg.name = inBlock ? setPrefix + "_" + name.name : name.name;
    arg.role = isInput ? Role::Input : Role::Param;
    arg.dtype = *dtype;
    arg.shape = entries(*shape);
    arg.loc = name.loc;
    std::vector<std::string> text;
    for (const Dim &d : *shape)
      text.push_back(d.text);

    if (inBlock) {
      // The same parameter set again: the same argument.
      auto existing = llvm::find_if(
          spec.args, [&](const ArgSpec &a) { return a.name == arg.name; });
      if (existing != spec.args.end()) {
        int index = int(existing - spec.args.begin());
        auto decl = blockParamDecls.find(arg.name);
        if (decl == blockParamDecls.end() || decl->second != &item) {
          error(name.loc, "the param '" + arg.name +
                              "' of this call clashes with the model's "
                              "argument '" +
                              arg.name +
                              "'; choose another parameter set with 'with'");
          sym->valid = false;
          continue;
        }
        sym->arg = index;
        sym->value = argValues[index];
        continue;
      }
      if (modelScope.symbols.count(arg.name)) {
        error(name.loc, "the param '" + arg.name +
                            "' of this call clashes with the model's name '" +
                            arg.name + "'; choose another parameter set");
        sym->valid = false;
        continue;
      }
      blockParamDecls[arg.name] = &item;
    }
    sym->arg = int(spec.args.size());
    declaredText[sym->arg] = text;
    spec.args.push_back(arg);
    sym->value = addArgValue(sym->arg);
  }
}

void ModelChecker::checkLet(const Item &item) {
  ValueId v = evalValue(*item.value);
  nameValue(v, item.name.name, /*override=*/true);
  auto it = scope->symbols.find(item.name.name);
  if (it != scope->symbols.end() && it->second.kind == SymKind::Value) {
    // A later `let` rebinds the name (hops, running updates).
    it->second.value = v;
    it->second.valid = v >= 0;
    return;
  }
  Symbol *sym = define(item.name, SymKind::Value);
  if (!sym)
    return;
  sym->value = v;
  sym->valid = v >= 0;
}

void ModelChecker::checkFeature(const Item &item) {
  Symbol *self = define(item.name, SymKind::Feature);
  if (!self)
    return;
  ValueId v = evalValue(*item.value);
  nameValue(v, item.name.name, /*override=*/false);
  self->value = v;
  self->valid = v >= 0;
  if (v >= 0 && shapeOf(v).size() < 2) {
    error(item.value->loc, "the features have shape " +
                               shapeText(shapeOf(v)) +
                               ", but must be rows [.., n, d]");
    self->valid = false;
  }
}

/// query / keys / values: any value; inside `heads`, `W x (+ b)` is the
/// step's own projection, with W per head ([h, d_out, d_in]) or shared.
void ModelChecker::checkStepOperand(const Item &item, Step &step) {
  using K = Item::Kind;
  SymKind kind = item.kind == K::Query  ? SymKind::Query
                 : item.kind == K::Keys ? SymKind::Keys
                                        : SymKind::Values;
  Symbol *self = define(item.name, kind);
  if (!self)
    return;
  self->valid = false;
  ValueId value = -1;
  self->valid = checkStepOperandValue(*item.value, item.kind, step, &value);
  self->value = value;
  nameValue(value, item.name.name, /*override=*/false);
}

bool ModelChecker::checkStepOperandValue(const Expr &expr, Item::Kind kind,
                                         Step &step, ValueId *valueOut) {
  using K = Item::Kind;
  const char *what = kind == K::Query  ? "query"
                     : kind == K::Keys ? "keys"
                                       : "values";
  const Expr *value_ = &expr;
  StepOperand operand;
  operand.loc = expr.loc;
  Shape source;
  Dim cols;

  std::optional<LinearForm> form = matchLinear(*value_);
  Symbol *weightSym = nullptr;
  if (step.hasHeads && form && form->weight &&
      form->weight->kind == Expr::Kind::Name)
    weightSym = find(form->weight->name);
  if (weightSym && weightSym->kind == SymKind::Param) {
    ValueId x = evalValue(*form->source);
    if (x < 0)
      return false;
    ValueId w = expectParam(*form->weight, "a weight");
    if (w < 0 || !expectF32(x, *form->source, std::string("the ") + what))
      return false;
    source = shapeOf(x);
    const Shape &ws = shapeOf(w);
    bool headed = ws.size() == 3;
    // Keys and values may have fewer heads, g, than the queries, h, when g
    // divides h (grouped-query attention: query head j reads group
    // j / (h / g)).
    bool grouped = headed && kind != K::Query && !ws[0].entry.isDynamic() &&
                   !step.numHeads.entry.isDynamic() &&
                   ws[0].entry.staticSize > 0 &&
                   step.numHeads.entry.staticSize % ws[0].entry.staticSize ==
                       0;
    if (headed && !grouped && !sameDim(ws[0], step.numHeads)) {
      error(form->weight->loc,
            "'" + form->weight->name + "' has shape " + shapeText(ws) +
                "; a per-head weight must start with " + step.numHeads.text +
                " (the number of heads)" +
                (kind == K::Query ? std::string()
                                  : ", or for keys and values a static "
                                    "number of groups that divides it"));
      return false;
    }
    Shape core = headed ? Shape(ws.begin() + 1, ws.end()) : ws;
    if (core.size() != 2) {
      error(form->weight->loc, "'" + form->weight->name + "' has shape " +
                                   shapeText(ws) +
                                   ", but a weight must be [d_out, d_in] or "
                                   "[h, d_out, d_in]");
      return false;
    }
    if (source.empty() || !sameDim(core[1], source.back())) {
      error(form->weight->loc,
            "'" + form->weight->name + "' has shape " + shapeText(ws) +
                "; its last dimension must be " +
                (source.empty() ? std::string("the input's") : source.back().text) +
                " to apply it to '" +
                (form->source->kind == Expr::Kind::Name ? form->source->name
                                                        : std::string(what)) +
                "'");
      return false;
    }
    operand.source = x;
    operand.weight = w;
    if (form->bias) {
      ValueId b = expectParamShape(*form->bias, {core[0]}, step, headed,
                                   "the bias");
      if (b < 0)
        return false;
      operand.bias = b;
    }
    cols = core[0];
  } else {
    ValueId v = evalValue(*value_);
    if (v < 0)
      return false;
    if (!expectF32(v, *value_, std::string("the ") + what))
      return false;
    source = shapeOf(v);
    operand.source = v;
    if (valueOut)
      *valueOut = v;
    if (source.empty()) {
      error(value_->loc, std::string("the ") + what +
                                 " must be a vector or rows, not a scalar");
      return false;
    }
    cols = source.back();
  }
  if (kind != K::Query && source.size() < 2) {
    error(value_->loc, std::string("the ") + what + " have shape " +
                               shapeText(source) +
                               ", but must be rows [.., n, d]");
    return false;
  }
  if (kind == K::Query) {
    step.query = operand;
    step.querySource = source;
    step.queryCols = cols;
    step.queryOk = true;
  } else {
    // Keys and values pair up row by row, group by group.
    bool isKeys = kind == K::Keys;
    bool otherOk = isKeys ? step.valuesOk : step.keysOk;
    const Shape &other = isKeys ? step.valueSource : step.keySource;
    if (otherOk &&
        !sameShape(Shape(source.begin(), source.end() - 1),
                   Shape(other.begin(), other.end() - 1))) {
      error(value_->loc,
            llvm::Twine("the ") + what + " have shape " + shapeText(source) +
                " but the " + (isKeys ? "values" : "keys") + " have shape " +
                shapeText(other) +
                "; keys and values need the same rows (and groups): all "
                "dimensions but the last must agree");
      return false;
    }
    (isKeys ? step.keys : step.values) = operand;
    (isKeys ? step.keySource : step.valueSource) = source;
    (isKeys ? step.keyCols : step.valueCols) = cols;
    (isKeys ? step.keysOk : step.valuesOk) = true;
  }
  return true;
}

/// Whether the step's score is multi-dimensional (one score per value
/// feature, survey eqs. 30-32): the table's combine says so.
static bool multiDimensionalScore(const Step &step) {
  return step.scoreOk &&
         mlir::attn::getScoreCombineRules(
             mlir::attn::getScoreFunction(step.spec.score).combine)
             .perFeature;
}

void ModelChecker::checkScore(const Item &item, Step &step) {
  Symbol *self = define(item.name, SymKind::Score);
  if (!self)
    return;
  self->valid = false;
  AttentionSpec &att = step.spec;
  att.scoreLoc = item.loc;
  // `score e[i, l] = EXPR`: the score function's call is somewhere in EXPR
  // (a score modifier, checked at the end).
  const Expr *found =
      item.hasBinders ? findScoreCall(item) : item.value.get();
  if (!found)
    return;
  const Expr &call = *found;
  if (call.kind != Expr::Kind::Call) {
    error(call.loc, "unsupported score expression; expected a score function "
                    "call such as 'dot(q, K)' (to modify the score, bind the "
                    "indices: 'score e[i, l] = dot(q, K) + ...')");
    return;
  }
  // Everything about the function is read from its row of the dialect's
  // score-function table, the definition the verifier and the lowering use.
  const mlir::attn::ScoreFunction *info =
      mlir::attn::lookupScoreFunction(call.name);
  if (!info) {
    std::string names;
    llvm::ArrayRef<mlir::attn::ScoreFunction> all =
        mlir::attn::getScoreFunctions();
    for (auto [i, function] : llvm::enumerate(all))
      names += (i == 0                ? ""
                : i + 1 == all.size() ? " or "
                                      : ", ") +
               function.getName().str();
    std::vector<std::string> candidates;
    for (const mlir::attn::ScoreFunction &function : all)
      candidates.push_back(function.getName().str());
    error(call.loc, "unknown score function '" + call.name + "' (expected " +
                        names + ")" + didYouMean(call.name, candidates));
    return;
  }
  att.score = info->kind;
  size_t numParams = info->params.size();
  std::string paramNames = info->getParamList();
  if (call.operands.size() != 2) {
    error(call.loc, "'" + call.name +
                        "' takes the query and the keys as arguments: '" +
                        call.name + "(q, K" +
                        (numParams ? "; " + paramNames : std::string()) + ")'");
    return;
  }
  if (call.params.size() != numParams) {
    if (numParams == 0)
      error(call.params[0]->loc, "'" + call.name + "' takes no parameters");
    else
      error(call.loc, "'" + call.name + "' takes " + llvm::Twine(numParams) +
                          " parameter" + (numParams > 1 ? "s" : "") + " (" +
                          paramNames + ") after ';', got " +
                          llvm::Twine(call.params.size()));
    return;
  }
  bool ok = true;
  // The dialect's activation names are the language's.
  att.scoreAct =
      info->defaultAct
          ? *parseActivation(mlir::attn::stringifyActivation(*info->defaultAct))
          : Activation::Identity;
  bool sawAct = false;
  for (const ast::NamedArg &arg : call.named) {
    if (arg.key.name != "act") {
      error(arg.key.loc,
            "unknown argument '" + arg.key.name + "' of '" + call.name + "'");
      ok = false;
      continue;
    }
    if (!info->takesAct()) {
      error(arg.key.loc, "'" + call.name + "' takes no 'act' argument");
      ok = false;
      continue;
    }
    if (sawAct) {
      error(arg.key.loc, "duplicate argument 'act'");
      ok = false;
      continue;
    }
    sawAct = true;
    std::optional<Activation> act;
    if (arg.value->kind == Expr::Kind::Name)
      act = parseActivation(arg.value->name);
    if (!act) {
      error(arg.value->loc, "unknown activation (expected tanh, relu, "
                            "sigmoid or identity)");
      ok = false;
      continue;
    }
    att.scoreAct = *act;
  }

  // The arguments are the step's query and keys, or, without a `query`
  // (`keys`) item, any value, which then is the step's query (keys).
  auto operand = [&](const Expr &arg, SymKind kind, const Item *item,
                     bool &operandOk, const char *what) -> bool {
    Symbol *sym = arg.kind == Expr::Kind::Name ? find(arg.name) : nullptr;
    if (kind == SymKind::Keys && item && arg.kind != Expr::Kind::Name)
      return checkScoreKeysMap(arg, call.name, step);
    if (item || (sym && (sym->kind == SymKind::Query ||
                         sym->kind == SymKind::Keys ||
                         sym->kind == SymKind::Values ||
                         sym->kind == SymKind::Score ||
                         sym->kind == SymKind::Align))) {
      return expectName(arg, {kind},
                        std::string("the ") + what +
                            " argument of a score function") &&
             operandOk;
    }
    Item implicit;
    implicit.kind = kind == SymKind::Query ? Item::Kind::Query
                                           : Item::Kind::Keys;
    implicit.loc = arg.loc;
    checkStepOperandValue(arg, implicit.kind, step);
    return operandOk;
  };
  bool qOk = operand(*call.operands[0], SymKind::Query, step.queryItem,
                     step.queryOk, "first");
  bool kOk = operand(*call.operands[1], SymKind::Keys, step.keysItem,
                     step.keysOk, "second");
  if (!ok || !qOk || !kOk)
    return;

  const Dim &dq = step.queryCols, &dk = step.keyCols;
  if (info->comparesQueryAndKeys() && !sameDim(dq, dk)) {
    error(call.loc, "'" + call.name +
                        "' needs queries and keys of the same size, but "
                        "the query has size " +
                        dq.text + " and the keys have size " + dk.text);
    return;
  }
  // d_w is whatever the first parameter that has it says; the others must
  // agree with it.
  std::optional<Dim> dw;
  std::vector<ValueId> params;
  for (auto [i, param] : llvm::enumerate(info->params)) {
    const Expr &arg = *call.params[i];
    std::string what = (param.name + " of " + call.name).str();
    if (param.isScalar()) {
      ValueId v = expectParam(arg, what);
      if (v < 0)
        return;
      const Shape &s = shapeOf(v);
      if (!s.empty() && !(s.size() == 1 && sameDim(s[0], staticDim(1)))) {
        error(arg.loc, "'" + arg.name + "' has shape " + shapeText(s) +
                           ", but " + what + " must be a scalar: [] or [1]");
        return;
      }
      params.push_back(v);
      continue;
    }
    Shape expected;
    std::optional<size_t> definesDw;
    for (mlir::attn::ScoreSize size : param.shape) {
      switch (size) {
      case mlir::attn::ScoreSize::Query:
        expected.push_back(dq);
        break;
      case mlir::attn::ScoreSize::Key:
        expected.push_back(dk);
        break;
      case mlir::attn::ScoreSize::Value:
        // A multi-dimensional score has a score per value feature: the
        // values must be known here.
        if (!step.valuesOk) {
          error(call.loc, "'" + call.name + "' gives a score per value "
                          "feature: define the values before the score");
          return;
        }
        expected.push_back(step.valueCols);
        break;
      case mlir::attn::ScoreSize::Hidden:
        if (!dw) {
          definesDw = expected.size();
          expected.push_back(
              Dim{ShapeEntry(), mlir::attn::getScoreSizeName(size).str()});
        } else {
          expected.push_back(*dw);
        }
        break;
      }
    }
    bool perHead = param.mayBePerHead;
    if (!definesDw) {
      ValueId v = expectParamShape(arg, expected, step, perHead, what);
      ok &= v >= 0;
      params.push_back(v);
      continue;
    }
    // The parameter that defines d_w: any size there, the others as given.
    ValueId v = expectParam(arg, what);
    if (v < 0)
      return;
    Shape s = shapeOf(v);
    if (perHead && step.hasHeads && s.size() == expected.size() + 1 &&
        sameDim(s[0], step.numHeads))
      s.erase(s.begin());
    bool matches = s.size() == expected.size();
    for (size_t d = 0; matches && d < s.size(); ++d)
      matches = d == *definesDw || sameDim(s[d], expected[d]);
    if (!matches) {
      std::string headed;
      if (perHead && step.hasHeads) {
        Shape withHeads{step.numHeads};
        withHeads.insert(withHeads.end(), expected.begin(), expected.end());
        headed = " or " + shapeText(withHeads);
      }
      error(arg.loc, "'" + arg.name + "' has shape " + shapeText(shapeOf(v)) +
                         ", but " + what + " must be " + shapeText(expected) +
                         headed);
      return;
    }
    dw = s[*definesDw];
    params.push_back(v);
  }
  if (!ok)
    return;
  att.scoreParams = params;
  if (item.hasBinders && !checkScoreModifier(item, call, step))
    return;
  step.scoreOk = true;
  self->valid = true;
}

/// A score whose second argument maps the step's keys row by row, e.g.
/// `score e = dot(w, tanh(W K + b))`: the self-attentive scores of the
/// survey (eqs. 33-34, e_l = w^T act(W k_l + b)). The map is computed once
/// per key before the attention (a value, O(n_k d) memory), and the
/// attention compares the query with its rows: the keys of the step become
/// the map's result, while the `keys` item keeps naming k_l.
bool ModelChecker::checkScoreKeysMap(const Expr &expr, llvm::StringRef function,
                                     Step &step) {
  if (step.hasHeads) {
    error(expr.loc, "a map of the keys in the score is not supported inside "
                    "'heads'; define the keys item as that expression");
    return false;
  }
  if (!step.keysOk)
    return false;
  Shape keys = step.keySource;
  const Item *keysItem = step.keysItem;
  // Checked against the keys' rows below (which the values share), so that
  // the message names the map rather than the keys item.
  bool valuesOk = step.valuesOk;
  step.valuesOk = false;
  bool ok = checkStepOperandValue(expr, Item::Kind::Keys, step);
  step.valuesOk = valuesOk;
  if (!ok)
    return false;
  const Shape &mapped = step.keySource;
  if (mapped.size() != keys.size() ||
      !sameShape(Shape(mapped.begin(), mapped.end() - 1),
                 Shape(keys.begin(), keys.end() - 1))) {
    error(expr.loc, "the second argument of '" + function.str() +
                        "' must map each key of '" + keysItem->name.name +
                        "' " + shapeText(keys) +
                        " to one row, [.., d]; it has shape " +
                        shapeText(mapped));
    step.keysOk = false;
    return false;
  }
  return true;
}

void ModelChecker::checkMask(const Item &item, Step &step) {
  if (!step.sawMask)
    step.spec.maskLoc = item.loc;
  step.sawMask = true;
  if (item.hasBinders)
    return checkMaskPredicate(item, step);
  // Masks after the context item refine the attention already made.
  auto update = [&](auto &&set) {
    set(step.spec);
    if (step.attention >= 0)
      set(spec.attentions[step.attention]);
  };
  for (const ast::ExprPtr &m : item.masks) {
    bool isCall = m->kind == Expr::Kind::Call;
    if ((m->kind == Expr::Kind::Name || isCall) && m->name == "causal") {
      if (step.spec.causal) {
        error(m->loc, "duplicate mask 'causal'");
        continue;
      }
      std::optional<int64_t> offset;
      if (isCall) {
        // causal(o): an integer literal, possibly negative.
        const Expr *arg =
            m->operands.size() == 1 && !m->hasParamList && m->named.empty()
                ? m->operands[0].get()
                : nullptr;
        bool negative = arg && arg->kind == Expr::Kind::Neg;
        const Expr *lit = negative ? arg->operands[0].get() : arg;
        if (!lit || lit->kind != Expr::Kind::Int) {
          error(arg ? arg->loc : m->loc,
                "'causal(offset)' takes one integer literal, the offset of "
                "the diagonal");
          continue;
        }
        offset = negative ? -lit->intValue : lit->intValue;
        if (*offset > mlir::attn::kMaxMaskDistance ||
            *offset < -mlir::attn::kMaxMaskDistance) {
          error(arg->loc, "the causal offset must be within +-2^62, got " +
                              std::to_string(*offset));
          continue;
        }
      }
      update([&](AttentionSpec &a) {
        a.causal = true;
        a.causalOffset = offset;
      });
      continue;
    }
    if (isCall && m->name == "window") {
      if (m->operands.size() != 1 || m->hasParamList || !m->named.empty()) {
        error(m->loc, "'window(W)' takes one argument, the number of keys "
                      "a query sees (an integer literal or a static dim)");
        continue;
      }
      const Expr &arg = *m->operands[0];
      std::optional<int64_t> size;
      if (arg.kind == Expr::Kind::Int) {
        size = arg.intValue;
      } else if (arg.kind == Expr::Kind::Neg &&
                 arg.operands[0]->kind == Expr::Kind::Int) {
        size = -arg.operands[0]->intValue;
      } else if (arg.kind == Expr::Kind::Name) {
        Symbol *sym = lookup(arg.name, arg.loc);
        if (!sym)
          continue;
        if (sym->kind != SymKind::Dim || sym->dim.entry.isDynamic()) {
          error(arg.loc, "the window '" + arg.name +
                             "' must be a static dimension from 'dims' or "
                             "an integer literal");
          continue;
        }
        size = sym->dim.entry.staticSize;
      } else {
        error(arg.loc, "the window must be an integer literal or a static "
                       "dimension");
        continue;
      }
      if (*size < 1) {
        error(arg.loc,
              "the window must be positive, got " + std::to_string(*size));
        continue;
      }
      if (*size > mlir::attn::kMaxMaskDistance) {
        error(arg.loc,
              "the window must be at most 2^62, got " + std::to_string(*size));
        continue;
      }
      if (step.spec.window) {
        error(m->loc, "duplicate mask 'window'");
        continue;
      }
      if (step.prefix) {
        error(m->loc, "a 'window' and a 'prefix' mask do not combine (the "
                      "visible keys would not be an interval)");
        continue;
      }
      step.windowExpr = m.get();
      update([&](AttentionSpec &a) { a.window = size; });
      continue;
    }
    bool isPrefix = isCall && m->name == "prefix";
    if (isCall && (m->name == "lengths" || isPrefix) &&
        (m->operands.size() != 1 || m->hasParamList || !m->named.empty())) {
      error(m->loc, "'" + m->name + "(" + (isPrefix ? "P" : "L") +
                        ")' takes one argument, an i32 input of one " +
                        (isPrefix ? "prefix length" : "length") +
                        " per batch entry");
      continue;
    }
    if (!isCall || (m->name != "lengths" && !isPrefix)) {
      error(m->loc, "unsupported mask; expected 'causal', 'causal(offset)', "
                    "'lengths(L)', 'window(W)' or 'prefix(P)'");
      continue;
    }
    const Expr &arg = *m->operands[0];
    Symbol *sym = expectName(arg, {SymKind::Input, SymKind::Value},
                             isPrefix ? "the prefix lengths of a mask"
                                      : "the lengths of a mask");
    if (!sym)
      continue;
    if (infos[sym->value].dtype != DType::I32) {
      error(arg.loc,
            std::string(isPrefix ? "the prefix lengths '" : "the lengths '") +
                arg.name + "' must be i32");
      continue;
    }
    if (isPrefix) {
      if (step.prefix) {
        error(m->loc, "duplicate mask 'prefix'");
        continue;
      }
      if (step.spec.window) {
        error(m->loc, "a 'prefix' and a 'window' mask do not combine (the "
                      "visible keys would not be an interval)");
        continue;
      }
      if (step.attention >= 0) {
        error(m->loc, "a 'prefix' mask must come before the 'context' item");
        continue;
      }
      step.prefix = sym;
      step.prefixExpr = &arg;
      continue;
    }
    if (step.lengths) {
      error(m->loc, "duplicate mask 'lengths'");
      continue;
    }
    if (step.attention >= 0) {
      error(m->loc, "a 'lengths' mask must come before the 'context' item");
      continue;
    }
    step.lengths = sym;
    step.lengthsExpr = &arg;
  }
}

void ModelChecker::checkAlign(const Item &item, Step &step) {
  Symbol *self = define(item.name, SymKind::Align);
  if (!self)
    return;
  self->valid = false;
  step.alignSymbol = self;
  step.spec.alignLoc = item.loc;
  // `align a[i, l] = softmax(e) * FACTOR`: a weight factor.
  const Expr *alignCall =
      item.hasBinders ? checkWeightFactor(item, step) : item.value.get();
  if (!alignCall)
    return;
  const Expr &e = *alignCall;
  if (e.kind != Expr::Kind::Call) {
    error(e.loc, "unsupported alignment expression; expected 'softmax(e)', "
                 "'sigmoid(e)', 'argmax(e)', 'hard(e; seed = S)', "
                 "'sparsemax(e)' or 'entmax15(e)'");
    return;
  }
  AlignKind kind;
  if (e.name == "softmax")
    kind = AlignKind::Softmax;
  else if (e.name == "sigmoid")
    kind = AlignKind::Sigmoid;
  else if (e.name == "argmax")
    kind = AlignKind::Argmax;
  else if (e.name == "hard")
    kind = AlignKind::Hard;
  else if (e.name == "sparsemax")
    kind = AlignKind::Sparsemax;
  else if (e.name == "entmax15")
    kind = AlignKind::Entmax15;
  else {
    error(e.loc, "unsupported alignment function '" + e.name +
                     "'; expected 'softmax', 'sigmoid', 'argmax', 'hard', "
                     "'sparsemax' or 'entmax15'" +
                     didYouMean(e.name, {"softmax", "sigmoid", "argmax", "hard",
                                         "sparsemax", "entmax15"}));
    return;
  }
  if (kind == AlignKind::Hard) {
    // hard(e; seed = S), S an integer literal in [0, 2^32).
    if (e.operands.size() != 1 || !e.params.empty() || e.named.size() != 1 ||
        e.named[0].key.name != "seed") {
      error(e.loc, "'hard' takes the score and a seed: 'hard(e; seed = S)'");
      return;
    }
    const Expr &seed = *e.named[0].value;
    if (seed.kind != Expr::Kind::Int || seed.intValue < 0 ||
        seed.intValue > 0xffffffffLL) {
      error(seed.loc, "the seed of 'hard' must be an integer in [0, 2^32)");
      return;
    }
    step.spec.seed = seed.intValue;
  } else if (e.operands.size() != 1 || e.hasParamList || !e.named.empty()) {
    error(e.loc, "'" + e.name + "' takes one argument, the score");
    return;
  }
  if (!expectName(*e.operands[0], {SymKind::Score},
                  "the argument of " + e.name))
    return;
  if (!step.spec.weightFactor.empty() && kind != AlignKind::Softmax &&
      kind != AlignKind::Sigmoid) {
    error(e.loc, "a weight factor needs 'softmax' or 'sigmoid', not '" +
                     e.name + "'");
    return;
  }
  if (kind != AlignKind::Softmax && multiDimensionalScore(step)) {
    error(e.loc, "a multi-dimensional score needs 'softmax(" +
                     e.operands[0]->name + ")' (a softmax over the keys per "
                     "feature), not '" + e.name + "'");
    return;
  }
  step.spec.align = kind;
  step.alignOk = true;
  self->valid = true;
}

/// The context item completes the step: the groups, the query's form and
/// the masks are checked against the keys, and the attention value is made.
void ModelChecker::checkContext(const Item &item, Step &step) {
  Symbol *self = define(item.name, SymKind::Context);
  if (!self)
    return;
  self->valid = false;
  AttentionSpec &att = step.spec;
  att.contextLoc = item.loc;
  const Expr &e = *item.value;
  const Expr *product = nullptr;
  if (e.kind == Expr::Kind::Call && e.name == "sum" && e.operands.size() == 1 &&
      !e.hasParamList && e.named.empty() &&
      e.operands[0]->kind == Expr::Kind::Binary && e.operands[0]->op == '*')
    product = e.operands[0].get();
  if (!product) {
    error(e.loc, "unsupported context expression; expected 'sum(a * V)'");
    return;
  }
  // Accept both `a * V` and `V * a`.
  const Expr *lhs = product->operands[0].get();
  const Expr *rhs = product->operands[1].get();
  if (lhs->kind == Expr::Kind::Name && rhs->kind == Expr::Kind::Name) {
    Symbol *sym = find(lhs->name);
    if (sym && sym->kind == SymKind::Values)
      std::swap(lhs, rhs);
  }
  Symbol *a = expectName(*lhs, {SymKind::Align}, "the weights of the context");
  Symbol *v = expectName(*rhs, {SymKind::Values}, "the vectors of the context");
  if (!a || !v || !step.queryOk || !step.keysOk || !step.valuesOk ||
      !step.scoreOk || !step.alignOk)
    return;

  // Groups: every dimension of the keys before [n_k, d_k].
  const Shape &ks = step.keySource;
  Shape groups(ks.begin(), ks.end() - 2);
  att.numGroupDims = unsigned(groups.size());
  const Shape &qs = step.querySource;
  bool queryIndependent = !infos[step.query.source].dependsOnInput;
  auto prefixIs = [&](const Shape &s, const Shape &prefix) {
    return s.size() >= prefix.size() &&
           sameShape(Shape(s.begin(), s.begin() + prefix.size()), prefix);
  };
  if (qs.size() == groups.size() + 1 && prefixIs(qs, groups)) {
    att.multiQuery = false;
  } else if (qs.size() == groups.size() + 2 && prefixIs(qs, groups)) {
    att.multiQuery = true;
  } else if (queryIndependent && (qs.size() == 1 || qs.size() == 2)) {
    att.queryBroadcast = !groups.empty();
    att.multiQuery = qs.size() == 2;
  } else {
    auto withTail = [&](const char *tail) {
      std::string text = shapeText(groups);
      text.insert(text.size() - 1, std::string(groups.empty() ? "" : ", ") +
                                       tail);
      return text;
    };
    error(step.queryItem ? step.queryItem->value->loc : item.loc,
          "the query has shape " + shapeText(qs) + ", but the keys " +
              shapeText(ks) + " need a query " + withTail("d_q") +
              " (one per group) or " + withTail("n_q, d_q") +
              (queryIndependent ? ", or a learned [d_q] or [n_q, d_q]" : ""));
    return;
  }
  if (step.lengths) {
    ValueId lv = step.lengths->value;
    if (!sameShape(shapeOf(lv), groups)) {
      error(step.lengthsExpr->loc,
            "the lengths '" + step.lengthsExpr->name + "' have shape " +
                shapeText(shapeOf(lv)) + ", but must be " +
                shapeText(groups) + " (one length per " +
                (att.numGroupDims == spec.numBatchDims ? "batch entry"
                                                       : "group") +
                ")");
      return;
    }
    att.lengths = lv;
  }
  if (step.prefix) {
    ValueId pv = step.prefix->value;
    if (!sameShape(shapeOf(pv), groups)) {
      error(step.prefixExpr->loc,
            "the prefix lengths '" + step.prefixExpr->name + "' have shape " +
                shapeText(shapeOf(pv)) + ", but must be " + shapeText(groups) +
                " (one prefix per " +
                (att.numGroupDims == spec.numBatchDims ? "batch entry"
                                                       : "group") +
                ")");
      return;
    }
    att.prefix = pv;
    att.causal = true; // prefix-LM: the keys after the prefix are causal
  }
  att.query = step.query;
  att.keys = step.keys;
  att.values = step.values;
  att.hasHeads = step.hasHeads;
  att.numHeads = step.numHeads.entry;

  Shape shape = groups;
  if (att.multiQuery)
    shape.push_back(qs[qs.size() - 2]);
  if (step.hasHeads)
    shape.push_back(step.numHeads);
  shape.push_back(step.valueCols);

  checkScalarTables(att, att.scoreModifier.empty() ? att.maskLoc
                                                    : att.scoreLoc);
  if (multiDimensionalScore(step) &&
      !(att.scoreModifier.empty() && att.maskPredicate.empty() &&
        att.weightFactor.empty())) {
    error(!att.scoreModifier.empty() ? att.scoreLoc
          : !att.maskPredicate.empty() ? att.maskLoc
                                       : att.alignLoc,
          "a multi-dimensional score takes no score modifier, mask predicate "
          "or weight factor (masks that are key bands are fine)");
    return;
  }
  spec.attentions.push_back(att);
  step.attention = int(spec.attentions.size() - 1);
  ValueSpec value;
  value.kind = ValueSpec::Kind::Attention;
  value.loc = item.loc;
  value.attention = step.attention;
  for (ValueId op :
       {att.query.source, att.query.weight, att.query.bias, att.keys.source,
        att.keys.weight, att.keys.bias, att.values.source, att.values.weight,
        att.values.bias, att.lengths})
    if (op >= 0)
      value.operands.push_back(op);
  for (ValueId p : att.scoreParams)
    value.operands.push_back(p);
  ValueInfo info;
  info.shape = shape;
  info.headsContext = step.hasHeads;
  value.name = item.name.name;
  self->value = addValue(std::move(value), std::move(info));
  self->valid = true;
  std::vector<std::pair<const Item *, size_t>> deferred;
  std::swap(deferred, step.deferredWeights);
  for (auto [out, slot] : deferred) {
    completingSlot = slot;
    checkOutput(*out, step);
    completingSlot = -1;
  }
}

void ModelChecker::checkHeads(const Item &item, Context where, Step &step) {
  if (where == Context::Heads) {
    error(item.loc, "'heads' blocks cannot be nested");
    return;
  }
  if (step.headsItem) {
    error(item.loc, "duplicate 'heads' block");
    note(step.headsItem->loc, "previous 'heads' block");
    return;
  }
  step.headsItem = &item;
  bool ok = true;
  if (item.countIsInt) {
    step.numHeads = staticDim(item.countValue);
  } else if (Symbol *sym = lookup(item.count.name, item.count.loc)) {
    if (sym->kind != SymKind::Dim) {
      error(item.count.loc, "'" + item.count.name + "' is " +
                                describe(sym->kind) +
                                ", but the number of heads must be a "
                                "dimension from 'dims'");
      ok = false;
    } else {
      step.numHeads = sym->dim;
    }
  } else {
    ok = false;
  }
  if (!ok)
    return;
  step.hasHeads = true;
  checkItems(item.body, Context::Heads, step);
}

void ModelChecker::checkHops(const Item &item) {
  if (item.countValue < 1 || item.countValue > 64) {
    error(item.count.loc, "the number of hops must be between 1 and 64");
    return;
  }
  for (const Item &sub : item.body)
    if (sub.kind != Item::Kind::Let && sub.kind != Item::Kind::Hops) {
      error(sub.loc, llvm::Twine("'") + ast::itemKeyword(sub.kind) +
                         "' is not allowed inside 'hops' (only 'let')");
      return;
    }
  std::string savedSuffix = hopSuffix;
  for (int64_t hop = 1; hop <= item.countValue; ++hop) {
    if (!expandOnce(item.loc))
      break;
    if (item.untied)
      hopSuffix = savedSuffix + "_" + std::to_string(hop);
    bool failedBefore = failed;
    failed = false;
    Step none;
    checkItems(item.body, Context::Hops, none);
    bool hopFailed = failed;
    failed |= failedBefore;
    if (hopFailed)
      break; // Later hops would repeat the same errors.
  }
  hopSuffix = savedSuffix;
}

void ModelChecker::checkOutput(const Item &item, Step &step) {
  sawOutput = true;
  Symbol *existing = find(item.name.name);
  bool completing = existing && existing->kind == SymKind::Output &&
                    existing->loc.line == item.name.loc.line &&
                    existing->loc.col == item.name.loc.col;
  if (!completing && !define(item.name, SymKind::Output))
    return;
  PendingOutput pending;
  pending.arg.name = item.name.name;
  pending.arg.role = Role::Output;
  pending.arg.loc = item.name.loc;
  const Expr *e = item.value.get();
  Shape shape;

  // The log-sum-exp of the model's own step's scores.
  if (e->kind == Expr::Kind::Call && e->name == "logsumexp") {
    const Expr *arg =
        e->operands.size() == 1 && !e->hasParamList && e->named.empty()
            ? e->operands[0].get()
            : nullptr;
    if (!arg || arg->kind != Expr::Kind::Name) {
      error(e->loc, "'logsumexp' takes one argument, the score name");
      return;
    }
    Symbol *score = find(arg->name);
    if (!score) {
      error(arg->loc, "undefined name '" + arg->name + "'");
      return;
    }
    if (score->kind != SymKind::Score) {
      error(arg->loc, "'" + arg->name + "' is " + describe(score->kind) +
                          ", but 'logsumexp' takes the score name");
      return;
    }
    if (!score->valid)
      return;
    if (multiDimensionalScore(step)) {
      error(e->loc, "a multi-dimensional score has no 'logsumexp' output "
                    "(there is one softmax per value feature)");
      return;
    }
    if (!step.scoreItem || step.scoreItem->name.name != arg->name) {
      error(arg->loc, "the log-sum-exp of '" + arg->name +
                          "' can only be output by the model of its step");
      return;
    }
    if (step.alignOk && step.spec.align != AlignKind::Softmax) {
      error(e->loc, std::string("'logsumexp' is the normalizer of the softmax; "
                                "the alignment '") +
                        (step.spec.align == AlignKind::Sigmoid     ? "sigmoid"
                         : step.spec.align == AlignKind::Argmax    ? "argmax"
                         : step.spec.align == AlignKind::Sparsemax ? "sparsemax"
                         : step.spec.align == AlignKind::Entmax15  ? "entmax15"
                                                                   : "hard") +
                        "' has none");
      return;
    }
    pending.lse = true;
    if (step.attention < 0) {
      step.deferredWeights.emplace_back(&item, outputs.size());
      outputs.push_back(std::move(pending));
      outputs.back().weightsOf = -2;
      return;
    }
    shape = weightsShape(step);
    shape.pop_back(); // no key dimension
    pending.weightsOf = step.attention;
    if (item.type) {
      error(item.type->loc, "a 'logsumexp' output takes no type annotation");
      return;
    }
    pending.arg.shape = entries(shape);
    if (completingSlot >= 0)
      outputs[completingSlot] = std::move(pending);
    else
      outputs.push_back(std::move(pending));
    return;
  }

  // The attention weights of the model's own step.
  Symbol *weights = e->kind == Expr::Kind::Name ? find(e->name) : nullptr;
  if (weights && weights->kind == SymKind::Align) {
    if (!weights->valid)
      return;
    if (step.alignSymbol == weights && multiDimensionalScore(step)) {
      error(e->loc, "the weights of a multi-dimensional score ([.., n_q, "
                    "n_k, d_v]) cannot be output; output the context");
      return;
    }
    if (step.alignSymbol != weights) {
      error(e->loc, "the weights '" + e->name +
                        "' can only be output by the model of their step");
      return;
    }
    if (step.attention < 0) {
      // Completed when the context item builds the step; the slot keeps
      // the output's place in the ABI.
      step.deferredWeights.emplace_back(&item, outputs.size());
      outputs.push_back(std::move(pending));
      outputs.back().weightsOf = -2;
      return;
    }
    shape = weightsShape(step);
    pending.weightsOf = step.attention;
  } else {
    ValueId v = evalValue(*e);
    if (v < 0)
      return;
    if (infos[v].dtype != DType::F32) {
      error(e->loc, "outputs must be f32");
      return;
    }
    shape = shapeOf(v);
    pending.value = v;
    nameValue(v, item.name.name, /*override=*/false);
  }

  if (item.type) {
    std::optional<DType> dtype = resolveElemType(item.type->elemType);
    std::optional<Shape> declared =
        item.type->shaped ? resolveShape(*item.type, /*markDetermined=*/false)
                          : std::optional<Shape>(shape);
    if (!dtype || !declared)
      return;
    if (!isFloat(*dtype)) {
      error(item.type->elemType.loc,
            "outputs must be f32, bf16 or f16, not '" +
                item.type->elemType.name + "'");
      return;
    }
    pending.arg.dtype = *dtype; // Rounded from f32 when stored.
    if (!sameShape(*declared, shape)) {
      error(item.type->loc, "output '" + item.name.name + "' is declared " +
                                shapeText(*declared) +
                                " but its value has shape " + shapeText(shape));
      return;
    }
    shape = *declared; // Keep the declared spelling.
  }
  pending.arg.shape = entries(shape);
  if (completingSlot >= 0)
    outputs[completingSlot] = std::move(pending);
  else
    outputs.push_back(std::move(pending));
}

Shape ModelChecker::weightsShape(const Step &step) {
  const AttentionSpec &att = spec.attentions[step.attention];
  Shape shape(step.keySource.begin(), step.keySource.end() - 2);
  if (att.hasHeads)
    shape.push_back(step.numHeads);
  if (att.multiQuery)
    shape.push_back(step.querySource[step.querySource.size() - 2]);
  shape.push_back(step.keySource[step.keySource.size() - 2]);
  return shape;
}

void ModelChecker::checkItems(const std::vector<Item> &items, Context where,
                              Step &step) {
  for (const Item &item : items)
    checkItem(item, where, step);
}

void ModelChecker::checkItem(const Item &item, Context where, Step &step) {
  using K = Item::Kind;
  bool attentionItem = item.kind == K::Query || item.kind == K::Keys ||
                       item.kind == K::Values || item.kind == K::Score ||
                       item.kind == K::Mask || item.kind == K::Align ||
                       item.kind == K::Context;
  const char *keyword = ast::itemKeyword(item.kind);
  if (where == Context::Heads && !attentionItem && item.kind != K::Heads) {
    error(item.loc,
          llvm::Twine("'") + keyword + "' is not allowed inside 'heads'");
    return;
  }
  if (where != Context::Heads && attentionItem && step.hasHeadsAhead) {
    error(item.loc, llvm::Twine("with 'heads', '") + keyword +
                        "' must be inside the 'heads' block");
    return;
  }
  bool modelOnly = item.kind == K::Dims || item.kind == K::Batch ||
                   item.kind == K::Input || item.kind == K::Output;
  if (where == Context::Block && modelOnly) {
    error(item.loc, llvm::Twine("'") + keyword +
                        "' is not allowed inside a block (only in a model)");
    return;
  }
  if (where == Context::Model && item.kind == K::Return) {
    error(item.loc, "'return' is only allowed inside a block");
    return;
  }
  // Attention items appear once each (masks may be split over items).
  const Item **slot = nullptr;
  switch (item.kind) {
  case K::Query:
    slot = &step.queryItem;
    break;
  case K::Keys:
    slot = &step.keysItem;
    break;
  case K::Values:
    slot = &step.valuesItem;
    break;
  case K::Score:
    slot = &step.scoreItem;
    break;
  case K::Align:
    slot = &step.alignItem;
    break;
  case K::Context:
    slot = &step.contextItem;
    break;
  default:
    break;
  }
  if (slot) {
    if (*slot) {
      error(item.loc, llvm::Twine("duplicate '") + keyword + "' item");
      note((*slot)->loc, llvm::Twine("previous '") + keyword + "' item");
      // Still define the name, so that its uses are not reported again.
      if (Symbol *sym = define(item.name, SymKind::Output)) {
        sym->kind = symKindOf(item.kind);
        sym->valid = false;
      }
      return;
    }
    *slot = &item;
  }
  if (item.hasBinders && item.kind != Item::Kind::Score &&
      item.kind != Item::Kind::Align && item.kind != Item::Kind::Mask) {
    error(item.loc, llvm::Twine("'") + keyword +
                        "' binds no indices; only 'score', 'align' and "
                        "'mask' take '[i, l]'");
    // The item is still checked, so that its name is defined.
  }

  switch (item.kind) {
  case K::Dims:
    return checkDims(item);
  case K::Batch:
    return checkBatch(item);
  case K::Input:
  case K::Param:
    return checkTensorDecl(item, where == Context::Block);
  case K::Feature:
    return checkFeature(item);
  case K::Query:
  case K::Keys:
  case K::Values:
    return checkStepOperand(item, step);
  case K::Score:
    return checkScore(item, step);
  case K::Mask:
    return checkMask(item, step);
  case K::Align:
    return checkAlign(item, step);
  case K::Context:
    return checkContext(item, step);
  case K::Heads:
    return checkHeads(item, where, step);
  case K::Output:
    return checkOutput(item, step);
  case K::Let:
    return checkLet(item);
  case K::Hops:
    return checkHops(item);
  case K::Return:
    return; // Evaluated by the block call, after the other items.
  }
}

/// Every attention item of a scope, or none.
void ModelChecker::checkStepComplete(const Step &step, const SourceLoc &loc,
                                     llvm::StringRef owner) {
  if (!step.any())
    return;
  struct Required {
    const Item *item;
    const char *keyword;
  };
  for (const Required &r :
       // The score may give the query and keys itself: `dot(u, K)`.
       {Required{step.queryItem ? step.queryItem : step.scoreItem, "query"},
        Required{step.keysItem ? step.keysItem : step.scoreItem, "keys"},
        Required{step.valuesItem, "values"},
        Required{step.scoreItem, "score"}, Required{step.alignItem, "align"},
        Required{step.contextItem, "context"}}) {
    if (!r.item)
      error(loc, owner + " has no '" + r.keyword + "' item");
  }
}

/// Dynamic dimensions that no argument determines: the compiled function
/// could not know their size.
void ModelChecker::checkDeterminedDims() {
  for (const Item &item : model.items) {
    if (item.kind != Item::Kind::Dims && item.kind != Item::Kind::Batch)
      continue;
    for (const ast::DimDecl &d : item.dims) {
      auto it = modelScope.symbols.find(d.name.name);
      if (it == modelScope.symbols.end() || it->second.determined ||
          it->second.loc.line != d.name.loc.line ||
          it->second.loc.col != d.name.loc.col)
        continue;
      error(d.name.loc, "dynamic dimension '" + d.name.name +
                            "' is not determined by any input or param");
    }
  }
}

void ModelChecker::collectNames(const std::vector<Item> &items,
                                Scope &target) {
  for (const Item &item : items) {
    for (const ast::DimDecl &d : item.dims)
      target.allNames.insert(d.name.name);
    for (const ast::Ident &n : item.names)
      target.allNames.insert(n.name);
    if (!item.name.name.empty())
      target.allNames.insert(item.name.name);
    if (item.kind == Item::Kind::Heads || item.kind == Item::Kind::Hops)
      collectNames(item.body, target);
  }
}

std::optional<ModelSpec> ModelChecker::run() {
  spec.name = model.name.name;
  spec.loc = model.loc;
  collectNames(model.items, modelScope);

  Step step;
  for (const Item &item : model.items)
    if (item.kind == Item::Kind::Heads)
      step.hasHeadsAhead = true;
  checkItems(model.items, Context::Model, step);
  checkStepComplete(step, model.name.loc, "model '" + model.name.name + "'");
  if (!sawOutput)
    error(model.name.loc,
          "model '" + model.name.name + "' has no 'output' item");
  checkDeterminedDims();

  // Outputs come after every input and param in the ABI.
  for (PendingOutput &p : outputs) {
    if (p.weightsOf == -2)
      continue; // Its step never got a context: reported already.
    int arg = int(spec.args.size());
    spec.args.push_back(std::move(p.arg));
    if (p.weightsOf >= 0 && p.lse)
      spec.attentions[p.weightsOf].lseOutputs.push_back(arg);
    else if (p.weightsOf >= 0)
      spec.attentions[p.weightsOf].weightsOutputs.push_back(arg);
    else
      spec.outputs.emplace_back(arg, p.value);
  }
  if (failed)
    return std::nullopt;
  warnUnused();
  warnEmptyMasks();
  if (failed) // -Werror
    return std::nullopt;
  return spec;
}

} // namespace attnc::sema

std::optional<std::vector<ModelSpec>>
attnc::analyzeFile(const ast::File &file, DiagnosticReporter &diag) {
  std::vector<ModelSpec> specs;
  bool ok = true;
  llvm::StringMap<SourceLoc> names;
  llvm::StringMap<const ast::Block *> blocks;
  for (const ast::Block &block : file.blocks) {
    auto [it, inserted] = names.try_emplace(block.name.name, block.name.loc);
    if (!inserted) {
      diag.error(block.name.loc,
                 "duplicate block or model '" + block.name.name + "'");
      diag.note(it->second, "previous definition of '" + block.name.name + "'");
      ok = false;
      continue;
    }
    blocks[block.name.name] = &block;
  }
  for (const ast::Model &model : file.models) {
    auto [it, inserted] =
        names.try_emplace(model.name.name, model.name.loc);
    if (!inserted) {
      diag.error(model.name.loc, (blocks.count(model.name.name)
                                      ? "duplicate block or model '"
                                      : "duplicate model '") +
                                     model.name.name + "'");
      diag.note(it->second, "previous definition of '" + model.name.name + "'");
      ok = false;
    }
    ModelChecker checker(model, blocks, diag);
    std::optional<ModelSpec> spec = checker.run();
    if (!spec) {
      ok = false;
      continue;
    }
    specs.push_back(std::move(*spec));
  }
  if (file.models.empty()) {
    SourceLoc loc;
    loc.file = file.filename;
    loc.line = 1;
    loc.col = 1;
    diag.error(loc, "no model in file");
    ok = false;
  }
  if (!ok)
    return std::nullopt;
  return specs;
}
