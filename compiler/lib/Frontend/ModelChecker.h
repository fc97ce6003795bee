//===- ModelChecker.h - The state of Sema for one model ---------*- C++ -*-===//
//
// Internal to the front end: what Sema.cpp (items, attention steps, the
// model) and SemaValues.cpp (value expressions, block calls) share: shapes
// with their spelling, symbols and scopes, the state of one attention step,
// and the checker of one model. See Sema.cpp for how checking works.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_MODELCHECKER_H
#define ATTNC_FRONTEND_MODELCHECKER_H

#include "attn/Dialect/Attn/IR/ScoreFunctions.h"
#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Frontend.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <functional>
#include <map>
#include <optional>

namespace attnc::sema {

using ast::Expr;
using ast::Item;


inline constexpr unsigned kMaxRank = 8;
/// Bounds of a model once block calls and hops are expanded (each call
/// checks the block's body anew, each hop its items, so nesting multiplies
/// them): block calls plus hop iterations, and values.
inline constexpr unsigned kMaxExpansions = 1 << 12;
inline constexpr unsigned kMaxValues = 1 << 14;

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

inline bool sameDim(const Dim &a, const Dim &b) {
  if (a.entry.isDynamic() || b.entry.isDynamic())
    return a.entry.isDynamic() && b.entry.isDynamic() &&
           a.entry.dynName == b.entry.dynName;
  return a.entry.staticSize == b.entry.staticSize;
}

inline bool sameShape(const Shape &a, const Shape &b) {
  return a.size() == b.size() &&
         llvm::all_of(llvm::zip(a, b), [](const auto &p) {
           return sameDim(std::get<0>(p), std::get<1>(p));
         });
}

inline std::string shapeText(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + shape[i].text;
  return s + "]";
}

inline Dim staticDim(int64_t size) {
  Dim d;
  d.entry.staticSize = size;
  d.text = std::to_string(size);
  return d;
}

inline std::vector<ShapeEntry> entries(const Shape &shape) {
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
  Value,
  Feature,
  Query,
  Keys,
  Values,
  Score,
  Align,
  Context,
  Output
};

inline const char *describe(SymKind kind) {
  switch (kind) {
  case SymKind::Dim:
    return "a dimension";
  case SymKind::BatchDim:
    return "a batch dimension";
  case SymKind::Input:
    return "an input";
  case SymKind::Param:
    return "a param";
  case SymKind::Value:
    return "a value";
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
inline SymKind symKindOf(Item::Kind kind) {
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
  ValueId value = -1;      ///< The value the name stands for, if any.
  Dim dim;                 ///< Dim, BatchDim.
  bool determined = false; ///< Dim, BatchDim: set by an input/param shape.
  bool used = false;       ///< Looked up by a use (for -Wunused-dim).
};

inline std::optional<Activation> parseActivation(llvm::StringRef name) {
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

/// `W x + b`, `W x` or `x`, before any check of what the names are.
struct LinearForm {
  const Expr *weight = nullptr;
  const Expr *source = nullptr;
  const Expr *bias = nullptr;
};

inline std::optional<LinearForm> matchLinear(const Expr &e) {
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
// Scopes and attention steps
//===----------------------------------------------------------------------===//

/// What Sema knows of a value beyond its ValueSpec: shapes with spelling,
/// and whether it depends on an input (a value that does not is the same
/// for every batch entry, e.g. a learned query).
struct ValueInfo {
  Shape shape;
  DType dtype = DType::F32;
  bool dependsOnInput = false;
  /// The per-head context of a `heads` step: only `concat(c)` may use it.
  bool headsContext = false;
};

/// The names of the model, of a block instance, or of a `heads` block.
struct Scope {
  llvm::StringMap<Symbol> symbols;
  /// Lookups continue here; a block body sees only the model's dimensions.
  Scope *parent = nullptr;
  bool parentDimsOnly = false;
  /// Every name some item of this scope defines, to tell "used before its
  /// definition" from "undefined".
  llvm::StringSet<> allNames;
};

/// The attention items of one scope, and what they established.
struct Step {
  const Item *queryItem = nullptr, *keysItem = nullptr, *valuesItem = nullptr,
             *scoreItem = nullptr, *alignItem = nullptr,
             *contextItem = nullptr, *headsItem = nullptr;
  bool sawMask = false;
  bool hasHeads = false;
  bool hasHeadsAhead = false; ///< The scope has a `heads` item somewhere.
  Dim numHeads;

  StepOperand query, keys, values;
  bool queryOk = false, keysOk = false, valuesOk = false;
  Shape querySource, keySource, valueSource; ///< Shapes before the maps.
  Dim queryCols, keyCols, valueCols;         ///< Sizes after the maps.

  bool scoreOk = false, alignOk = false;
  AttentionSpec spec;
  const Expr *lengthsExpr = nullptr;
  Symbol *lengths = nullptr;
  const Expr *prefixExpr = nullptr, *windowExpr = nullptr;
  Symbol *prefix = nullptr;
  int attention = -1; ///< Set once the context item built the step.
  Symbol *alignSymbol = nullptr;
  /// `output A = a` items before the context: completed by the context.
  std::vector<std::pair<const Item *, size_t>> deferredWeights;

  bool any() const {
    return queryItem || keysItem || valuesItem || scoreItem || alignItem ||
           contextItem || sawMask;
  }
};

//===----------------------------------------------------------------------===//
// The checker of one model
//===----------------------------------------------------------------------===//

class ModelChecker {
public:
  ModelChecker(const ast::Model &model,
               const llvm::StringMap<const ast::Block *> &blocks,
               DiagnosticReporter &diag)
      : model(model), blocks(blocks), diag(diag) {}

  std::optional<ModelSpec> run();

private:
  enum class Context { Model, Block, Heads, Hops };

  // Items, one function per kind.
  void checkItems(const std::vector<Item> &items, Context where, Step &step);
  void checkItem(const Item &item, Context where, Step &step);
  void checkDims(const Item &item);
  void checkBatch(const Item &item);
  void checkTensorDecl(const Item &item, bool inBlock);
  void checkLet(const Item &item);
  void checkFeature(const Item &item);
  void checkStepOperand(const Item &item, Step &step);
  bool checkStepOperandValue(const Expr &expr, Item::Kind kind, Step &step,
                             ValueId *valueOut = nullptr);
  void checkScore(const Item &item, Step &step);
  bool checkScoreKeysMap(const Expr &expr, llvm::StringRef function,
                         Step &step);
  void checkMask(const Item &item, Step &step);

  // Score modifiers and mask predicates (SemaScalar.cpp).
  struct ScalarScope;
  const Expr *findScoreCall(const Item &item);
  bool bindScalarIndices(const Item &item, const Step &step, ScalarScope &sc);
  int checkScalar(const Expr &e, ScalarScope &sc);
  int checkScalarTable(const Expr &e, const Expr &base,
                       llvm::ArrayRef<const Expr *> subscripts,
                       ScalarScope &sc);
  bool checkScoreModifier(const Item &item, const Expr &call, Step &step);
  void checkMaskPredicate(const Item &item, Step &step);
  const Expr *checkWeightFactor(const Item &item, Step &step);
  void checkScalarTables(const AttentionSpec &att, const SourceLoc &loc);

  void checkAlign(const Item &item, Step &step);
  void checkContext(const Item &item, Step &step);
  void checkHeads(const Item &item, Context where, Step &step);
  void checkHops(const Item &item);
  void checkOutput(const Item &item, Step &step);
  Shape weightsShape(const Step &step);
  void checkStepComplete(const Step &step, const SourceLoc &loc,
                         llvm::StringRef owner);
  void checkDeterminedDims();
  /// Warnings about a model that checked cleanly (SemaWarnings.cpp).
  void warnUnused();
  void warnEmptyMasks();
  /// Every name visible from the current scope (for suggestions).
  std::vector<std::string> visibleNames();

  // Values.
  ValueId evalValue(const Expr &e);
  ValueId evalName(const Expr &e);
  ValueId evalCall(const Expr &e);
  ValueId evalLinear(const Expr &weightExpr, ValueId x, const Expr *biasExpr,
                     const SourceLoc &loc);
  ValueId evalBlockCall(const Expr &e, const ast::Block &block);
  ValueId addValue(ValueSpec value, ValueInfo info);
  ValueId addArgValue(int arg);
  /// Counts one more block call or hop at `loc`; false (after reporting
  /// it, once per model) when the model has grown past kMaxExpansions or
  /// kMaxValues.
  bool expandOnce(const SourceLoc &loc);
  /// Gives value `v` a readable name (`let` names win over item names).
  void nameValue(ValueId v, const std::string &name, bool override);
  std::optional<Shape> broadcastShapes(const Shape &a, const Shape &b);

  // Helpers.
  /// A block is checked at every call: the same error at the same place is
  /// reported once.
  void error(const SourceLoc &loc, const llvm::Twine &message) {
    failed = true;
    std::string key = std::to_string(loc.line) + ":" +
                      std::to_string(loc.col) + ":" + message.str();
    if (reported.insert(key).second)
      diag.error(loc, message);
  }
  void note(const SourceLoc &loc, const llvm::Twine &message) {
    diag.note(loc, message);
  }
  Symbol *define(const ast::Ident &id, SymKind kind);
  Symbol *lookup(const std::string &name, const SourceLoc &loc);
  Symbol *find(const std::string &name);
  Symbol *expectName(const Expr &e, llvm::ArrayRef<SymKind> allowed,
                     llvm::StringRef what);
  bool expectF32(ValueId v, const Expr &use, llvm::StringRef what);
  std::optional<Shape> resolveShape(const ast::TensorType &type,
                                    bool markDetermined);
  std::optional<DType> resolveElemType(const ast::Ident &elem);
  Shape argShape(int arg) const;
  Shape batchShape() const;
  const Shape &shapeOf(ValueId v) const { return infos[v].shape; }
  ValueId expectParam(const Expr &e, llvm::StringRef what);
  ValueId expectParamShape(const Expr &e, const Shape &expected,
                           const Step &step, bool perHead,
                           llvm::StringRef what);
  void collectNames(const std::vector<Item> &items, Scope &scope);

  const ast::Model &model;
  const llvm::StringMap<const ast::Block *> &blocks;
  DiagnosticReporter &diag;
  bool failed = false;
  llvm::StringSet<> reported;
  ModelSpec spec;
  std::vector<ValueInfo> infos;

  Scope modelScope;
  Scope *scope = &modelScope;
  /// The declared spelling of each argument's shape entries, for messages.
  std::map<int, std::vector<std::string>> declaredText;
  std::vector<std::string> batchDims;
  const Item *batchItem = nullptr;
  bool sawTensorDecl = false;
  bool sawOutput = false;
  std::vector<ValueId> argValues; ///< Per argument index, its Arg value.

  /// Block instantiation: the parameter set prefix of the enclosing calls,
  /// the `_k` suffix of untied hops, and the calls in progress.
  std::string setPrefix, hopSuffix;
  std::vector<const ast::Block *> callStack;
  /// Block calls and hop iterations expanded so far (expandOnce).
  unsigned expansions = 0;
  bool expansionLimitReported = false;
  /// Where each generated param name came from (block and declaration).
  llvm::StringMap<const Item *> blockParamDecls;

  struct PendingOutput {
    ArgSpec arg;
    ValueId value = -1;
    int weightsOf = -1; ///< The attention whose weights this output is.
    bool lse = false;   ///< With weightsOf: its log-sum-exp instead.
  };
  std::vector<PendingOutput> outputs;
  long completingSlot = -1; ///< The deferred output being completed.
};

} // namespace attnc::sema

#endif // ATTNC_FRONTEND_MODELCHECKER_H
