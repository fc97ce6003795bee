//===- Sema.cpp - Check .attn models and build ModelSpecs -----------------===//
//
// Names, roles, shapes and supported combinations (docs/language.md). The
// grammar accepts general expressions; this is where the supported forms are
// recognized, so every "unsupported" message comes from here.
//
// Items are checked in source order, one function per item kind, and each
// records what later items need (the query's size, the keys' rows, ...). An
// item that fails still defines its name, marked invalid, so that later items
// that use it stay quiet instead of repeating the error.
//
// Shapes are compared entry by entry: static sizes by value, dynamic
// dimensions by name. A static and a dynamic entry never match, since the
// compiler could not prove them equal.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Frontend.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <functional>
#include <map>

using namespace attnc;
using ast::Expr;
using ast::Item;

namespace {

constexpr unsigned kMaxRank = 8;

//===----------------------------------------------------------------------===//
// Shapes with their spelling
//===----------------------------------------------------------------------===//

/// A shape entry together with how to show it in messages (`d_q`, `64`,
/// `h * d_k`).
struct Dim {
  ShapeEntry entry;
  std::string text;
};
using Shape = std::vector<Dim>;

bool sameDim(const Dim &a, const Dim &b) {
  if (a.entry.isDynamic() || b.entry.isDynamic())
    return a.entry.isDynamic() && b.entry.isDynamic() &&
           a.entry.dynName == b.entry.dynName;
  return a.entry.staticSize == b.entry.staticSize;
}

bool sameShape(const Shape &a, const Shape &b) {
  return a.size() == b.size() &&
         llvm::all_of(llvm::zip(a, b), [](const auto &p) {
           return sameDim(std::get<0>(p), std::get<1>(p));
         });
}

std::string shapeText(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + shape[i].text;
  return s + "]";
}

Dim staticDim(int64_t size) {
  Dim d;
  d.entry.staticSize = size;
  d.text = std::to_string(size);
  return d;
}

std::vector<ShapeEntry> entries(const Shape &shape) {
  std::vector<ShapeEntry> out;
  for (const Dim &d : shape)
    out.push_back(d.entry);
  return out;
}

//===----------------------------------------------------------------------===//
// Symbols
//===----------------------------------------------------------------------===//

enum class SymKind {
  Dim,
  BatchDim,
  Input,
  Param,
  Feature,
  Query,
  Keys,
  Values,
  Score,
  Align,
  Context,
  Output
};

const char *describe(SymKind kind) {
  switch (kind) {
  case SymKind::Dim:
    return "a dimension";
  case SymKind::BatchDim:
    return "a batch dimension";
  case SymKind::Input:
    return "an input";
  case SymKind::Param:
    return "a param";
  case SymKind::Feature:
    return "the features";
  case SymKind::Query:
    return "the query";
  case SymKind::Keys:
    return "the keys";
  case SymKind::Values:
    return "the values";
  case SymKind::Score:
    return "the score";
  case SymKind::Align:
    return "the alignment";
  case SymKind::Context:
    return "the context";
  case SymKind::Output:
    return "an output";
  }
  return "a name";
}

/// The kind of the name an item defines (Feature ... Context).
SymKind symKindOf(Item::Kind kind) {
  switch (kind) {
  case Item::Kind::Feature:
    return SymKind::Feature;
  case Item::Kind::Query:
    return SymKind::Query;
  case Item::Kind::Keys:
    return SymKind::Keys;
  case Item::Kind::Values:
    return SymKind::Values;
  case Item::Kind::Score:
    return SymKind::Score;
  case Item::Kind::Align:
    return SymKind::Align;
  case Item::Kind::Context:
    return SymKind::Context;
  default:
    return SymKind::Output;
  }
}

struct Symbol {
  SymKind kind = SymKind::Dim;
  SourceLoc loc;
  bool valid = true;
  int arg = -1;            ///< Input, Param: the argument index.
  Dim dim;                 ///< Dim, BatchDim.
  bool determined = false; ///< Dim, BatchDim: set by an input/param shape.
};

std::optional<Activation> parseActivation(llvm::StringRef name) {
  if (name == "tanh")
    return Activation::Tanh;
  if (name == "relu")
    return Activation::Relu;
  if (name == "sigmoid")
    return Activation::Sigmoid;
  if (name == "identity")
    return Activation::Identity;
  return std::nullopt;
}

struct ScoreInfo {
  const char *name;
  ScoreKind kind;
  unsigned numParams;
  const char *paramNames;
  bool takesAct;
};

const ScoreInfo kScores[] = {
    {"additive", ScoreKind::Additive, 4, "W1, W2, b, w", true},
    {"dot", ScoreKind::Dot, 0, "", false},
    {"scaled_dot", ScoreKind::ScaledDot, 0, "", false},
    {"general", ScoreKind::General, 1, "W", false},
    {"biased_general", ScoreKind::BiasedGeneral, 2, "W, b", false},
    {"activated_general", ScoreKind::ActivatedGeneral, 2, "W, b", true},
    {"cosine", ScoreKind::Cosine, 0, "", false},
};

/// `W x + b`, `W x` or `x`, before any check of what the names are.
struct LinearForm {
  const Expr *weight = nullptr;
  const Expr *source = nullptr;
  const Expr *bias = nullptr;
};

std::optional<LinearForm> matchLinear(const Expr &e) {
  LinearForm form;
  const Expr *applied = &e;
  if (e.kind == Expr::Kind::Binary) {
    if (e.op != '+' || e.operands[1]->kind != Expr::Kind::Name)
      return std::nullopt;
    form.bias = e.operands[1].get();
    applied = e.operands[0].get();
    if (applied->kind != Expr::Kind::Apply)
      return std::nullopt;
  }
  if (applied->kind == Expr::Kind::Apply) {
    if (applied->operands[0]->kind != Expr::Kind::Name)
      return std::nullopt;
    form.weight = applied->operands[0].get();
    form.source = applied->operands[1].get();
  } else {
    form.source = applied;
  }
  return form;
}

//===----------------------------------------------------------------------===//
// The checker of one model
//===----------------------------------------------------------------------===//

class ModelChecker {
public:
  ModelChecker(const ast::Model &model, DiagnosticReporter &diag)
      : model(model), diag(diag) {}

  std::optional<ModelSpec> run();

private:
  // Items, one function per kind.
  void checkItem(const Item &item, bool inHeads);
  void checkDims(const Item &item);
  void checkBatch(const Item &item);
  void checkTensorDecl(const Item &item);
  void checkFeature(const Item &item);
  void checkQuery(const Item &item);
  void checkKeysOrValues(const Item &item);
  void checkScore(const Item &item);
  void checkMask(const Item &item);
  void checkAlign(const Item &item);
  void checkContext(const Item &item);
  void checkHeads(const Item &item);
  void checkOutput(const Item &item);
  void checkComplete();

  // Helpers.
  void error(const SourceLoc &loc, const llvm::Twine &message) {
    diag.error(loc, message);
    failed = true;
  }
  Symbol *define(const ast::Ident &id, SymKind kind);
  Symbol *lookup(const std::string &name, const SourceLoc &loc);
  Symbol *expectName(const Expr &e, llvm::ArrayRef<SymKind> allowed,
                     llvm::StringRef what);
  bool expectF32(const Symbol &sym, const Expr &use, llvm::StringRef what);
  std::optional<Shape> resolveShape(const ast::TensorType &type,
                                    bool markDetermined);
  std::optional<DType> resolveElemType(const ast::Ident &elem);
  Shape argShape(int arg) const;
  Shape batchShape() const;
  Shape stripBatch(const Shape &shape) const {
    return Shape(shape.begin() + std::min(shape.size(), batchDims.size()),
                 shape.end());
  }
  int expectParam(const Expr &e, llvm::StringRef what);
  int expectParamShape(const Expr &e, const Shape &expected, bool perHead,
                       llvm::StringRef what);
  std::optional<Dim> applyLinear(const LinearForm &form, const Dim &inDim,
                                 const std::string &srcName, bool perHead,
                                 LinearMap &map);

  const ast::Model &model;
  DiagnosticReporter &diag;
  bool failed = false;
  ModelSpec spec;

  llvm::StringMap<Symbol> symbols;
  /// The declared spelling of each argument's shape entries, for messages.
  std::map<int, std::vector<std::string>> declaredText;
  llvm::StringSet<> allNames; ///< Every name the model defines, anywhere.
  std::vector<std::string> batchDims;
  bool sawTensorDecl = false;
  bool modelHasHeads = false;
  bool inHeads = false;

  const Item *featureItem = nullptr, *queryItem = nullptr, *keysItem = nullptr,
             *valuesItem = nullptr, *scoreItem = nullptr, *alignItem = nullptr,
             *contextItem = nullptr, *headsItem = nullptr, *batchItem = nullptr;
  bool sawMask = false;

  // What the items established (valid when the item checked cleanly).
  Dim featureRows, featureCols;
  Dim queryRows, queryCols; ///< queryRows only when multiQuery.
  Dim keyRows, keyCols, valueRows, valueCols;
  Dim numHeads;
  bool queryOk = false, keysOk = false, valuesOk = false, featureOk = false;

  struct PendingOutput {
    ArgSpec arg;
    OutputSpec out;
  };
  std::vector<PendingOutput> outputs;
};

Symbol *ModelChecker::define(const ast::Ident &id, SymKind kind) {
  auto [it, inserted] = symbols.try_emplace(id.name);
  if (!inserted) {
    error(id.loc, "duplicate name '" + id.name + "'");
    diag.note(it->second.loc, "previous definition of '" + id.name + "'");
    return nullptr;
  }
  it->second.kind = kind;
  it->second.loc = id.loc;
  return &it->second;
}

Symbol *ModelChecker::lookup(const std::string &name, const SourceLoc &loc) {
  auto it = symbols.find(name);
  if (it != symbols.end())
    return &it->second;
  if (allNames.contains(name))
    error(loc, "'" + name + "' is used before its definition");
  else
    error(loc, "undefined name '" + name + "'");
  return nullptr;
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

bool ModelChecker::expectF32(const Symbol &sym, const Expr &use,
                             llvm::StringRef what) {
  if (sym.arg < 0 || spec.args[sym.arg].dtype == DType::F32)
    return true;
  error(use.loc, "'" + use.name + "' has element type i32, but " + what +
                     " must be f32");
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
    shape.push_back(symbols.lookup(b).dim);
  return shape;
}

std::optional<DType> ModelChecker::resolveElemType(const ast::Ident &elem) {
  if (elem.name == "f32")
    return DType::F32;
  if (elem.name == "i32")
    return DType::I32;
  if (elem.name == "f16" || elem.name == "bf16" || elem.name == "f64" ||
      elem.name == "i64") {
    error(elem.loc, "unsupported element type '" + elem.name +
                        "' (only f32 and i32 are supported)");
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

/// The argument index of the param named by `e`, or -1 after an error.
int ModelChecker::expectParam(const Expr &e, llvm::StringRef what) {
  Symbol *sym = expectName(e, {SymKind::Param}, what);
  if (!sym || !expectF32(*sym, e, what))
    return -1;
  return sym->arg;
}

/// Like expectParam, and the param must have shape `expected` (or, inside
/// `heads` when `perHead`, [h] + `expected`).
int ModelChecker::expectParamShape(const Expr &e, const Shape &expected,
                                   bool perHead, llvm::StringRef what) {
  int arg = expectParam(e, what);
  if (arg < 0)
    return -1;
  Shape shape = argShape(arg);
  if (sameShape(shape, expected))
    return arg;
  Shape headed;
  if (perHead && inHeads) {
    headed.push_back(numHeads);
    headed.insert(headed.end(), expected.begin(), expected.end());
    if (sameShape(shape, headed))
      return arg;
  }
  error(e.loc, "'" + e.name + "' has shape " + shapeText(shape) + ", but " +
                   what + " must be " + shapeText(expected) +
                   (headed.empty() ? "" : " or " + shapeText(headed)));
  return -1;
}

/// Checks the weight and bias of `form` applied to vectors of size `inDim`
/// and fills `map` (but not map.source). Returns the output size.
std::optional<Dim> ModelChecker::applyLinear(const LinearForm &form,
                                             const Dim &inDim,
                                             const std::string &srcName,
                                             bool perHead, LinearMap &map) {
  if (!form.weight)
    return inDim;
  map.loc = form.weight->loc;
  int w = expectParam(*form.weight, "a weight");
  if (w < 0)
    return std::nullopt;
  Shape ws = argShape(w);
  bool headed = perHead && inHeads && ws.size() == 3;
  if (headed && !sameDim(ws[0], numHeads)) {
    error(form.weight->loc, "'" + form.weight->name + "' has shape " +
                                shapeText(ws) +
                                "; a per-head weight must start with " +
                                numHeads.text + " (the number of heads)");
    return std::nullopt;
  }
  Shape core = headed ? Shape(ws.begin() + 1, ws.end()) : ws;
  if (core.size() != 2) {
    error(form.weight->loc,
          "'" + form.weight->name + "' has shape " + shapeText(ws) +
              ", but a weight must be [d_out, d_in]" +
              (perHead && inHeads ? " or [h, d_out, d_in]" : ""));
    return std::nullopt;
  }
  if (!sameDim(core[1], inDim)) {
    error(form.weight->loc, "'" + form.weight->name + "' has shape " +
                                shapeText(ws) +
                                "; its last dimension must be " + inDim.text +
                                " to apply it to '" + srcName + "'");
    return std::nullopt;
  }
  map.weight = w;
  if (form.bias) {
    Shape expected{core[0]};
    int b = expectParamShape(*form.bias, expected, headed, "the bias");
    if (b < 0)
      return std::nullopt;
    // A per-head bias with a shared weight would change the map per head
    // only by its bias: allowed, the bias alone decides.
    map.bias = b;
  }
  return core[0];
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
    diag.note(batchItem->loc, "previous 'batch' item");
    return;
  }
  batchItem = &item;
  if (sawTensorDecl) {
    error(item.loc, "'batch' must come before the inputs and params");
    return;
  }
  checkDims(item);
  for (const ast::DimDecl &d : item.dims) {
    auto it = symbols.find(d.name.name);
    if (it == symbols.end() || it->second.loc.line != d.name.loc.line ||
        it->second.loc.col != d.name.loc.col)
      continue; // A duplicate, already reported.
    it->second.kind = SymKind::BatchDim;
    batchDims.push_back(d.name.name);
  }
  spec.numBatchDims = unsigned(batchDims.size());
}

void ModelChecker::checkTensorDecl(const Item &item) {
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
    arg.name = name.name;
    arg.role = isInput ? Role::Input : Role::Param;
    arg.dtype = *dtype;
    arg.shape = entries(*shape);
    arg.loc = name.loc;
    sym->arg = int(spec.args.size());
    std::vector<std::string> text;
    for (const Dim &d : *shape)
      text.push_back(d.text);
    declaredText[sym->arg] = text;
    spec.args.push_back(arg);
  }
}

void ModelChecker::checkFeature(const Item &item) {
  Symbol *self = define(item.name, SymKind::Feature);
  if (!self)
    return;
  self->valid = false;
  std::optional<LinearForm> form = matchLinear(*item.value);
  if (!form || form->source->kind != Expr::Kind::Name) {
    error(item.value->loc, "unsupported feature expression; expected 'X', "
                           "'Wf X' or 'Wf X + bf'");
    return;
  }
  const Expr &src = *form->source;
  Symbol *in = expectName(src, {SymKind::Input}, "the source of the features");
  if (!in || !expectF32(*in, src, "the source of the features"))
    return;
  Shape shape = stripBatch(argShape(in->arg));
  if (shape.size() != 2) {
    error(src.loc,
          "'" + src.name + "' has shape " + shapeText(argShape(in->arg)) +
              ", but the source of the features must be [batch.., n, d]");
    return;
  }
  LinearMap map;
  map.source = in->arg;
  map.loc = item.value->loc;
  std::optional<Dim> out =
      applyLinear(*form, shape[1], src.name, /*perHead=*/false, map);
  if (!out)
    return;
  spec.featureMap = map;
  featureRows = shape[0];
  featureCols = *out;
  featureOk = self->valid = true;
}

void ModelChecker::checkQuery(const Item &item) {
  Symbol *self = define(item.name, SymKind::Query);
  if (!self)
    return;
  self->valid = false;
  std::optional<LinearForm> form = matchLinear(*item.value);
  if (!form || form->source->kind != Expr::Kind::Name) {
    error(item.value->loc, "unsupported query expression; expected 'q', "
                           "'Wq q' or 'Wq q + bq'");
    return;
  }
  const Expr &src = *form->source;
  Symbol *sym =
      expectName(src, {SymKind::Input, SymKind::Param, SymKind::Feature},
                 "the source of the query");
  if (!sym)
    return;
  Dim rows, cols;
  bool multi = true;
  LinearMap map;
  map.loc = item.value->loc;
  if (sym->kind == SymKind::Feature) {
    spec.querySource = QuerySource::Features;
    map.source = LinearMap::kFeatures;
    rows = featureRows;
    cols = featureCols;
  } else {
    if (!expectF32(*sym, src, "the query"))
      return;
    bool isInput = sym->kind == SymKind::Input;
    spec.querySource = isInput ? QuerySource::Input : QuerySource::Param;
    map.source = sym->arg;
    Shape shape = argShape(sym->arg);
    if (isInput)
      shape = stripBatch(shape);
    if (shape.size() != 1 && shape.size() != 2) {
      error(src.loc, "'" + src.name + "' has shape " +
                         shapeText(argShape(sym->arg)) +
                         ", but a query must be " +
                         (isInput ? "[batch.., d_q] or [batch.., n_q, d_q]"
                                  : "[d_q] or [n_q, d_q]"));
      return;
    }
    multi = shape.size() == 2;
    if (multi)
      rows = shape[0];
    cols = shape.back();
  }
  std::optional<Dim> out =
      applyLinear(*form, cols, src.name, /*perHead=*/true, map);
  if (!out)
    return;
  spec.queryMap = map;
  spec.multiQuery = multi;
  queryRows = rows;
  queryCols = *out;
  queryOk = self->valid = true;
}

void ModelChecker::checkKeysOrValues(const Item &item) {
  bool isKeys = item.kind == Item::Kind::Keys;
  const char *what = isKeys ? "keys" : "values";
  Symbol *self = define(item.name, isKeys ? SymKind::Keys : SymKind::Values);
  if (!self)
    return;
  self->valid = false;
  std::optional<LinearForm> form = matchLinear(*item.value);
  if (!form || form->source->kind != Expr::Kind::Name) {
    error(item.value->loc, llvm::Twine("unsupported ") + what +
                               " expression; expected 'F', 'W F' or 'W F + b'");
    return;
  }
  const Expr &src = *form->source;
  std::string position = std::string("the source of the ") + what;
  Symbol *sym = expectName(src, {SymKind::Feature, SymKind::Input}, position);
  if (!sym)
    return;
  LinearMap map;
  map.loc = item.value->loc;
  Dim rows, cols;
  if (sym->kind == SymKind::Feature) {
    map.source = LinearMap::kFeatures;
    rows = featureRows;
    cols = featureCols;
  } else {
    if (!expectF32(*sym, src, position))
      return;
    Shape shape = stripBatch(argShape(sym->arg));
    if (shape.size() != 2) {
      error(src.loc, "'" + src.name + "' has shape " +
                         shapeText(argShape(sym->arg)) + ", but " + position +
                         " must be [batch.., n, d]");
      return;
    }
    map.source = sym->arg;
    rows = shape[0];
    cols = shape[1];
  }
  std::optional<Dim> out =
      applyLinear(*form, cols, src.name, /*perHead=*/true, map);
  if (!out)
    return;

  // Keys and values pair up row by row.
  bool otherOk = isKeys ? valuesOk : keysOk;
  const Dim &otherRows = isKeys ? valueRows : keyRows;
  if (otherOk && !sameDim(rows, otherRows)) {
    error(src.loc, llvm::Twine("the ") + what + " have " + rows.text +
                       " rows but the " + (isKeys ? "values" : "keys") +
                       " have " + otherRows.text + " rows" +
                       "; keys and values need the same number of rows");
    return;
  }
  if (isKeys) {
    spec.keyMap = map;
    keyRows = rows;
    keyCols = *out;
    keysOk = true;
  } else {
    spec.valueMap = map;
    valueRows = rows;
    valueCols = *out;
    valuesOk = true;
  }
  self->valid = true;
}

void ModelChecker::checkScore(const Item &item) {
  Symbol *self = define(item.name, SymKind::Score);
  if (!self)
    return;
  self->valid = false;
  spec.scoreLoc = item.loc;
  const Expr &call = *item.value;
  if (call.kind != Expr::Kind::Call) {
    error(call.loc, "unsupported score expression; expected a score function "
                    "call such as 'dot(q, K)'");
    return;
  }
  const ScoreInfo *info = nullptr;
  for (const ScoreInfo &s : kScores)
    if (call.name == s.name)
      info = &s;
  if (!info) {
    error(call.loc, "unknown score function '" + call.name +
                        "' (expected additive, dot, scaled_dot, general, "
                        "biased_general, activated_general or cosine)");
    return;
  }
  spec.score = info->kind;
  if (call.operands.size() != 2) {
    error(call.loc, "'" + call.name +
                        "' takes the query and the keys as arguments: '" +
                        call.name + "(q, K" +
                        (info->numParams ? std::string("; ") + info->paramNames
                                         : std::string()) +
                        ")'");
    return;
  }
  if (call.params.size() != info->numParams) {
    if (info->numParams == 0)
      error(call.params[0]->loc, "'" + call.name + "' takes no parameters");
    else
      error(call.loc, "'" + call.name + "' takes " +
                          llvm::Twine(info->numParams) + " parameter" +
                          (info->numParams > 1 ? "s" : "") + " (" +
                          info->paramNames + ") after ';', got " +
                          llvm::Twine(call.params.size()));
    return;
  }
  bool ok = true;
  spec.scoreAct = info->takesAct ? Activation::Tanh : Activation::Identity;
  bool sawAct = false;
  for (const ast::NamedArg &arg : call.named) {
    if (arg.key.name != "act") {
      error(arg.key.loc,
            "unknown argument '" + arg.key.name + "' of '" + call.name + "'");
      ok = false;
      continue;
    }
    if (!info->takesAct) {
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
    spec.scoreAct = *act;
  }

  Symbol *q = expectName(*call.operands[0], {SymKind::Query},
                         "the first argument of a score function");
  Symbol *k = expectName(*call.operands[1], {SymKind::Keys},
                         "the second argument of a score function");
  if (!ok || !q || !k || !queryOk || !keysOk)
    return;

  const Dim &dq = queryCols, &dk = keyCols;
  std::vector<int> params;
  auto param = [&](size_t i, const Shape &expected, bool perHead,
                   llvm::StringRef what) {
    int arg = expectParamShape(*call.params[i], expected, perHead, what);
    ok &= arg >= 0;
    params.push_back(arg);
  };
  switch (info->kind) {
  case ScoreKind::Dot:
  case ScoreKind::ScaledDot:
  case ScoreKind::Cosine:
    if (!sameDim(dq, dk)) {
      error(call.loc, "'" + call.name +
                          "' needs queries and keys of the same size, but "
                          "the query has size " +
                          dq.text + " and the keys have size " + dk.text);
      ok = false;
    }
    break;
  case ScoreKind::Additive: {
    // d_w is whatever W1 says; the other params must agree with it.
    int w1 = expectParam(*call.params[0], "W1 of additive");
    if (w1 < 0)
      return;
    Shape s = argShape(w1);
    if (inHeads && s.size() == 3 && sameDim(s[0], numHeads))
      s.erase(s.begin());
    if (s.size() != 2 || !sameDim(s[1], dq)) {
      Shape expected{Dim{ShapeEntry(), "d_w"}, dq};
      error(call.params[0]->loc,
            "'" + call.params[0]->name + "' has shape " +
                shapeText(argShape(w1)) + ", but W1 of additive must be " +
                shapeText(expected) +
                (inHeads ? " or [" + numHeads.text + ", d_w, " + dq.text + "]"
                         : ""));
      return;
    }
    Dim dw = s[0];
    params.push_back(w1);
    param(1, {dw, dk}, true, "W2 of additive");
    param(2, {dw}, true, "b of additive");
    param(3, {dw}, true, "w of additive");
    break;
  }
  case ScoreKind::General:
    param(0, {dk, dq}, true, "W of general");
    break;
  case ScoreKind::BiasedGeneral:
    param(0, {dk, dq}, true, "W of biased_general");
    param(1, {dk}, true, "b of biased_general");
    break;
  case ScoreKind::ActivatedGeneral: {
    param(0, {dk, dq}, true, "W of activated_general");
    int b = expectParam(*call.params[1], "b of activated_general");
    if (b < 0)
      return;
    Shape s = argShape(b);
    if (!s.empty() && !(s.size() == 1 && sameDim(s[0], staticDim(1)))) {
      error(call.params[1]->loc, "'" + call.params[1]->name + "' has shape " +
                                     shapeText(s) +
                                     ", but b of activated_general must be a "
                                     "scalar: [] or [1]");
      return;
    }
    params.push_back(b);
    break;
  }
  }
  if (!ok)
    return;
  spec.scoreParams = params;
  self->valid = true;
}

void ModelChecker::checkMask(const Item &item) {
  if (!sawMask)
    spec.maskLoc = item.loc;
  sawMask = true;
  for (const ast::ExprPtr &m : item.masks) {
    if (m->kind == Expr::Kind::Name && m->name == "causal") {
      if (spec.causal)
        error(m->loc, "duplicate mask 'causal'");
      spec.causal = true;
      continue;
    }
    if (m->kind != Expr::Kind::Call || m->name != "lengths" ||
        m->operands.size() != 1 || m->hasParamList || !m->named.empty()) {
      error(m->loc, "unsupported mask; expected 'causal' or 'lengths(L)'");
      continue;
    }
    const Expr &arg = *m->operands[0];
    Symbol *sym = expectName(arg, {SymKind::Input}, "the lengths of a mask");
    if (!sym)
      continue;
    const ArgSpec &spec_ = spec.args[sym->arg];
    if (spec_.dtype != DType::I32) {
      error(arg.loc, "the lengths '" + arg.name + "' must be i32");
      continue;
    }
    Shape expected = batchShape();
    if (!sameShape(argShape(sym->arg), expected)) {
      error(arg.loc, "the lengths '" + arg.name + "' have shape " +
                         shapeText(argShape(sym->arg)) + ", but must be " +
                         shapeText(expected) + " (one length per batch entry)");
      continue;
    }
    if (spec.lengthsArg >= 0) {
      error(m->loc, "duplicate mask 'lengths'");
      continue;
    }
    spec.lengthsArg = sym->arg;
  }
}

void ModelChecker::checkAlign(const Item &item) {
  Symbol *self = define(item.name, SymKind::Align);
  if (!self)
    return;
  self->valid = false;
  spec.alignLoc = item.loc;
  const Expr &e = *item.value;
  if (e.kind != Expr::Kind::Call) {
    error(e.loc, "unsupported alignment expression; expected 'softmax(e)'");
    return;
  }
  if (e.name != "softmax") {
    error(e.loc, "unsupported alignment function '" + e.name +
                     "'; only 'softmax' is supported");
    return;
  }
  if (e.operands.size() != 1 || e.hasParamList || !e.named.empty()) {
    error(e.loc, "'softmax' takes one argument, the score");
    return;
  }
  if (!expectName(*e.operands[0], {SymKind::Score}, "the argument of softmax"))
    return;
  spec.align = AlignKind::Softmax;
  self->valid = true;
}

void ModelChecker::checkContext(const Item &item) {
  Symbol *self = define(item.name, SymKind::Context);
  if (!self)
    return;
  self->valid = false;
  spec.contextLoc = item.loc;
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
    auto it = symbols.find(lhs->name);
    if (it != symbols.end() && it->second.kind == SymKind::Values)
      std::swap(lhs, rhs);
  }
  Symbol *a = expectName(*lhs, {SymKind::Align}, "the weights of the context");
  Symbol *v = expectName(*rhs, {SymKind::Values}, "the vectors of the context");
  if (!a || !v)
    return;
  self->valid = true;
}

void ModelChecker::checkHeads(const Item &item) {
  if (inHeads) {
    error(item.loc, "'heads' blocks cannot be nested");
    return;
  }
  if (headsItem) {
    error(item.loc, "duplicate 'heads' block");
    diag.note(headsItem->loc, "previous 'heads' block");
    return;
  }
  headsItem = &item;
  bool ok = true;
  if (item.countIsInt) {
    numHeads = staticDim(item.countValue);
  } else if (Symbol *sym = lookup(item.count.name, item.count.loc)) {
    if (sym->kind != SymKind::Dim) {
      error(item.count.loc, "'" + item.count.name + "' is " +
                                describe(sym->kind) +
                                ", but the number of heads must be a "
                                "dimension from 'dims'");
      ok = false;
    } else {
      numHeads = sym->dim;
    }
  } else {
    ok = false;
  }
  if (!ok)
    return;
  spec.hasHeads = true;
  spec.numHeads = numHeads.entry;
  inHeads = true;
  for (const Item &sub : item.body)
    checkItem(sub, /*inHeads=*/true);
  inHeads = false;
}

void ModelChecker::checkOutput(const Item &item) {
  if (!define(item.name, SymKind::Output))
    return;
  PendingOutput pending;
  pending.arg.name = item.name.name;
  pending.arg.role = Role::Output;
  pending.arg.loc = item.name.loc;
  OutputSpec &out = pending.out;
  out.loc = item.loc;

  const Expr *e = item.value.get();
  Shape shape = batchShape();
  bool multi = queryOk && spec.multiQuery;

  // The attention weights.
  if (e->kind == Expr::Kind::Name) {
    auto it = symbols.find(e->name);
    if (it != symbols.end() && it->second.kind == SymKind::Align) {
      if (!it->second.valid || !queryOk || !keysOk)
        return;
      out.kind = OutputSpec::Kind::Weights;
      if (spec.hasHeads)
        shape.push_back(numHeads);
      if (multi)
        shape.push_back(queryRows);
      shape.push_back(keyRows);
    }
  }

  if (out.kind != OutputSpec::Kind::Weights) {
    // An optional activation or softmax around an optional linear layer
    // around the context (concatenated over heads).
    if (e->kind == Expr::Kind::Call && e->operands.size() == 1 &&
        !e->hasParamList && e->named.empty() &&
        (e->name == "softmax" || e->name == "tanh" || e->name == "relu" ||
         e->name == "sigmoid")) {
      if (e->name == "softmax")
        out.softmax = true;
      else
        out.act = *parseActivation(e->name);
      e = e->operands[0].get();
    }
    std::optional<LinearForm> form = matchLinear(*e);
    const Expr *src = form ? form->source : nullptr;
    const Expr *ctxName = src;
    bool concat = false;
    if (src && src->kind == Expr::Kind::Call && src->name == "concat" &&
        src->operands.size() == 1 && !src->hasParamList && src->named.empty()) {
      concat = true;
      ctxName = src->operands[0].get();
    }
    if (!ctxName || ctxName->kind != Expr::Kind::Name) {
      error(item.value->loc,
            "unsupported output expression; expected the context 'c', the "
            "weights 'a', 'W c + b', or an activation or softmax of it");
      return;
    }
    Symbol *c = expectName(*ctxName, {SymKind::Context, SymKind::Align},
                           "an output's source");
    if (!c || !valuesOk || !queryOk)
      return;
    if (c->kind == SymKind::Align) {
      error(ctxName->loc, "the weights '" + ctxName->name +
                              "' can only be output as they are");
      return;
    }
    if (spec.hasHeads && !concat) {
      error(ctxName->loc, "with 'heads', the context must be concatenated: "
                          "write 'concat(" +
                              ctxName->name + ")'");
      return;
    }
    if (!spec.hasHeads && concat) {
      error(src->loc, "'concat' needs a 'heads' block");
      return;
    }
    Dim width = valueCols;
    if (concat) {
      // The concatenation is h * d_v wide; only representable when the
      // product is static (or a factor is 1).
      if (!numHeads.entry.isDynamic() && !valueCols.entry.isDynamic()) {
        int64_t h = numHeads.entry.staticSize, d = valueCols.entry.staticSize;
        if (d != 0 && h > INT64_MAX / d) {
          error(src->loc, "dimension too large");
          return;
        }
        width = staticDim(h * d);
        width.text = numHeads.text + " * " + valueCols.text;
      } else if (numHeads.entry.staticSize == 1) {
        width = valueCols;
      } else {
        error(src->loc, "unsupported: 'concat' needs a static number of "
                        "heads and a static value size");
        return;
      }
    }
    out.kind = OutputSpec::Kind::Context;
    if (form->weight) {
      out.kind = OutputSpec::Kind::Linear;
      std::optional<Dim> dy = applyLinear(*form, width, ctxName->name,
                                          /*perHead=*/false, out.map);
      if (!dy)
        return;
      width = *dy;
    } else if (out.softmax || out.act != Activation::Identity) {
      // OutputSpec::Linear always has a layer; keep that contract simple.
      error(item.value->loc, "unsupported output expression: an activation "
                             "or softmax needs a linear layer 'W c + b'");
      return;
    }
    if (multi)
      shape.push_back(queryRows);
    shape.push_back(width);
  }

  if (item.type) {
    std::optional<DType> dtype = resolveElemType(item.type->elemType);
    std::optional<Shape> declared =
        resolveShape(*item.type, /*markDetermined=*/false);
    if (!dtype || !declared)
      return;
    if (*dtype != DType::F32) {
      error(item.type->elemType.loc, "outputs must be f32");
      return;
    }
    if (!sameShape(*declared, shape)) {
      error(item.type->loc, "output '" + item.name.name + "' is declared " +
                                shapeText(*declared) +
                                " but its value has shape " + shapeText(shape));
      return;
    }
    shape = *declared; // Keep the declared spelling.
  }
  pending.arg.shape = entries(shape);
  outputs.push_back(std::move(pending));
}

void ModelChecker::checkItem(const Item &item, bool nested) {
  using K = Item::Kind;
  bool attentionItem = item.kind == K::Query || item.kind == K::Keys ||
                       item.kind == K::Values || item.kind == K::Score ||
                       item.kind == K::Mask || item.kind == K::Align ||
                       item.kind == K::Context;
  const char *keyword = ast::itemKeyword(item.kind);
  if (nested && !attentionItem && item.kind != K::Heads) {
    error(item.loc,
          llvm::Twine("'") + keyword + "' is not allowed inside 'heads'");
    return;
  }
  if (!nested && attentionItem && modelHasHeads) {
    error(item.loc, llvm::Twine("with 'heads', '") + keyword +
                        "' must be inside the 'heads' block");
    return;
  }
  // Attention items appear once each (masks may be split over items).
  const Item **slot = nullptr;
  switch (item.kind) {
  case K::Feature:
    slot = &featureItem;
    break;
  case K::Query:
    slot = &queryItem;
    break;
  case K::Keys:
    slot = &keysItem;
    break;
  case K::Values:
    slot = &valuesItem;
    break;
  case K::Score:
    slot = &scoreItem;
    break;
  case K::Align:
    slot = &alignItem;
    break;
  case K::Context:
    slot = &contextItem;
    break;
  default:
    break;
  }
  if (slot) {
    if (*slot) {
      error(item.loc, llvm::Twine("duplicate '") + keyword + "' item");
      diag.note((*slot)->loc, llvm::Twine("previous '") + keyword + "' item");
      // Still define the name, so that its uses are not reported again.
      if (Symbol *sym = define(item.name, SymKind::Output)) {
        sym->kind = symKindOf(item.kind);
        sym->valid = false;
      }
      return;
    }
    *slot = &item;
  }

  switch (item.kind) {
  case K::Dims:
    return checkDims(item);
  case K::Batch:
    return checkBatch(item);
  case K::Input:
  case K::Param:
    return checkTensorDecl(item);
  case K::Feature:
    return checkFeature(item);
  case K::Query:
    return checkQuery(item);
  case K::Keys:
  case K::Values:
    return checkKeysOrValues(item);
  case K::Score:
    return checkScore(item);
  case K::Mask:
    return checkMask(item);
  case K::Align:
    return checkAlign(item);
  case K::Context:
    return checkContext(item);
  case K::Heads:
    return checkHeads(item);
  case K::Output:
    return checkOutput(item);
  }
}

/// Whole-model checks: required items, and dynamic dimensions that no
/// argument determines (the compiled function could not know their size).
void ModelChecker::checkComplete() {
  struct Required {
    const Item *item;
    const char *keyword;
  };
  for (const Required &r :
       {Required{queryItem, "query"}, Required{keysItem, "keys"},
        Required{valuesItem, "values"}, Required{scoreItem, "score"},
        Required{alignItem, "align"}, Required{contextItem, "context"}}) {
    if (!r.item)
      error(model.name.loc,
            "model '" + model.name.name + "' has no '" + r.keyword + "' item");
  }
  bool hasOutputItem = false;
  for (const Item &item : model.items)
    hasOutputItem |= item.kind == Item::Kind::Output;
  if (!hasOutputItem)
    error(model.name.loc,
          "model '" + model.name.name + "' has no 'output' item");

  for (const Item &item : model.items) {
    if (item.kind != Item::Kind::Dims && item.kind != Item::Kind::Batch)
      continue;
    for (const ast::DimDecl &d : item.dims) {
      auto it = symbols.find(d.name.name);
      if (it == symbols.end() || it->second.determined ||
          it->second.loc.line != d.name.loc.line ||
          it->second.loc.col != d.name.loc.col)
        continue;
      error(d.name.loc, "dynamic dimension '" + d.name.name +
                            "' is not determined by any input or param");
    }
  }
}

std::optional<ModelSpec> ModelChecker::run() {
  spec.name = model.name.name;
  spec.loc = model.loc;
  // Names defined anywhere, to tell "used before its definition" from
  // "undefined".
  std::function<void(const std::vector<Item> &)> collect =
      [&](const std::vector<Item> &items) {
        for (const Item &item : items) {
          for (const ast::DimDecl &d : item.dims)
            allNames.insert(d.name.name);
          for (const ast::Ident &n : item.names)
            allNames.insert(n.name);
          if (!item.name.name.empty())
            allNames.insert(item.name.name);
          if (item.kind == Item::Kind::Heads) {
            modelHasHeads = true;
            collect(item.body);
          }
        }
      };
  collect(model.items);

  for (const Item &item : model.items)
    checkItem(item, /*inHeads=*/false);
  checkComplete();

  // Only a feature-less model can leave featureMap unset: then keys (or
  // values) read an input directly and the "features" are that input.
  if (!featureItem && keysOk && spec.keyMap.source >= 0) {
    spec.featureMap = LinearMap();
    spec.featureMap.source = spec.keyMap.source;
  }

  // Outputs come after every input and param in the ABI.
  for (PendingOutput &p : outputs) {
    p.out.arg = int(spec.args.size());
    spec.args.push_back(std::move(p.arg));
    spec.outputs.push_back(p.out);
  }
  if (failed)
    return std::nullopt;
  return spec;
}

} // namespace

std::optional<std::vector<ModelSpec>>
attnc::analyzeFile(const ast::File &file, DiagnosticReporter &diag) {
  std::vector<ModelSpec> specs;
  bool ok = true;
  llvm::StringMap<SourceLoc> modelNames;
  for (const ast::Model &model : file.models) {
    auto [it, inserted] =
        modelNames.try_emplace(model.name.name, model.name.loc);
    if (!inserted) {
      diag.error(model.name.loc, "duplicate model '" + model.name.name + "'");
      diag.note(it->second, "previous definition of '" + model.name.name + "'");
      ok = false;
    }
    ModelChecker checker(model, diag);
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
