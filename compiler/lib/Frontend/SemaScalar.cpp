//===- SemaScalar.cpp - Score modifiers and mask predicates ---------------===//
//
// Checks the scalar expressions of an attention step, evaluated for every
// (batch entry, head, query, key):
//
//   score e[i, l] = scaled_dot(q, K) - slope[h] * abs(i - l)   (modifier)
//   mask [i, l]: l <= i && seg[i] == seg[l]                   (predicate)
//
// and turns them into ScalarPrograms (ModelSpec.h). The conjuncts of a mask
// predicate that bound the key index by the query index (`l <= i + c`,
// `i - l < W`, `abs(i - l) <= D`, ...) become the step's key band, which
// the tiled form turns into loop bounds (fully masked key tiles are never
// visited); only the other conjuncts are evaluated per key.
//
//===----------------------------------------------------------------------===//

#include "ModelChecker.h"

#include "attn/Dialect/Attn/IR/ScoreFunctions.h"

using namespace attnc;
using namespace attnc::sema;
using ast::Expr;
using ast::Item;
using Node = ScalarNode;
using llvm::ArrayRef;

/// What the expressions of one item may name, and the program being built.
struct ModelChecker::ScalarScope {
  llvm::StringMap<Node::IndexKind> binders;
  const Expr *scoreCall = nullptr; ///< The score function's call (modifiers).
  const Step *step = nullptr;
  ScalarProgram program;
};

namespace {

const char *typeName(Node::Type type) {
  switch (type) {
  case Node::Type::Int:
    return "an integer";
  case Node::Type::Float:
    return "a number";
  case Node::Type::Bool:
    return "a condition";
  }
  return "a value";
}

int addNode(ScalarProgram &p, Node node) {
  p.nodes.push_back(std::move(node));
  return int(p.nodes.size()) - 1;
}

/// Appends the nodes of `from` to `to` (tables and dims merged) and returns
/// the index of `from`'s root there.
int appendProgram(ScalarProgram &to, const ScalarProgram &from) {
  int offset = int(to.nodes.size());
  std::vector<int> tableMap, dimMap;
  for (const ScalarTable &t : from.tables) {
    auto it = llvm::find_if(to.tables, [&](const ScalarTable &u) {
      return u.value == t.value;
    });
    tableMap.push_back(int(it - to.tables.begin()));
    if (it == to.tables.end())
      to.tables.push_back(t);
  }
  for (const ShapeEntry &d : from.dims) {
    auto it = llvm::find_if(
        to.dims, [&](const ShapeEntry &u) { return u.dynName == d.dynName; });
    dimMap.push_back(int(it - to.dims.begin()));
    if (it == to.dims.end())
      to.dims.push_back(d);
  }
  for (Node n : from.nodes) {
    for (int &o : n.operands)
      o += offset;
    if (n.table >= 0)
      n.table = tableMap[n.table];
    if (n.dim >= 0)
      n.dim = dimMap[n.dim];
    to.nodes.push_back(std::move(n));
  }
  return int(to.nodes.size()) - 1;
}

/// `a && b` of two programs' roots (either may be empty).
ScalarProgram conjoin(const ScalarProgram &a, const ScalarProgram &b) {
  if (a.empty())
    return b;
  if (b.empty())
    return a;
  ScalarProgram out = a;
  int lhs = int(out.nodes.size()) - 1;
  int rhs = appendProgram(out, b);
  Node both;
  both.kind = Node::Kind::Binary;
  both.type = Node::Type::Bool;
  both.op = "&&";
  both.operands = {lhs, rhs};
  addNode(out, both);
  return out;
}

/// c_i * i + c_l * l + c_0 with integer coefficients.
struct LinearIndex {
  int64_t ci = 0, cl = 0, c0 = 0;
};

/// x + y and k * x; std::nullopt when a coefficient overflows int64 (the
/// expression is then not treated as linear: it stays a predicate).
std::optional<LinearIndex> sum(const LinearIndex &x, const LinearIndex &y) {
  LinearIndex r;
  if (__builtin_add_overflow(x.ci, y.ci, &r.ci) ||
      __builtin_add_overflow(x.cl, y.cl, &r.cl) ||
      __builtin_add_overflow(x.c0, y.c0, &r.c0))
    return std::nullopt;
  return r;
}
std::optional<LinearIndex> scaled(const LinearIndex &x, int64_t k) {
  LinearIndex r;
  if (__builtin_mul_overflow(x.ci, k, &r.ci) ||
      __builtin_mul_overflow(x.cl, k, &r.cl) ||
      __builtin_mul_overflow(x.c0, k, &r.c0))
    return std::nullopt;
  return r;
}

std::optional<LinearIndex> linearOf(const ScalarProgram &p, int id) {
  const Node &n = p.nodes[id];
  if (n.type != Node::Type::Int)
    return std::nullopt;
  switch (n.kind) {
  case Node::Kind::Int:
    return LinearIndex{0, 0, n.intValue};
  case Node::Kind::Index:
    if (n.index == Node::IndexKind::Query)
      return LinearIndex{1, 0, 0};
    if (n.index == Node::IndexKind::Key)
      return LinearIndex{0, 1, 0};
    return std::nullopt;
  case Node::Kind::Unary: {
    if (n.op != "neg")
      return std::nullopt;
    auto x = linearOf(p, n.operands[0]);
    if (!x)
      return std::nullopt;
    return scaled(*x, -1);
  }
  case Node::Kind::Binary: {
    auto a = linearOf(p, n.operands[0]), b = linearOf(p, n.operands[1]);
    if (!a || !b)
      return std::nullopt;
    if (n.op == "+")
      return sum(*a, *b);
    if (n.op == "-") {
      std::optional<LinearIndex> minusB = scaled(*b, -1);
      return minusB ? sum(*a, *minusB) : std::nullopt;
    }
    if (n.op == "*") {
      if (!a->ci && !a->cl)
        return scaled(*b, a->c0);
      if (!b->ci && !b->cl)
        return scaled(*a, b->c0);
    }
    return std::nullopt;
  }
  default:
    return std::nullopt;
  }
}

/// Keys i + lower <= l <= i + upper.
struct Band {
  std::optional<int64_t> lower, upper;
  void lowerAtLeast(int64_t v) { lower = lower ? std::max(*lower, v) : v; }
  void upperAtMost(int64_t v) { upper = upper ? std::min(*upper, v) : v; }
};

/// Whether the conjunct `id` bounds l by i; adds the bounds to `band`.
bool addToBand(const ScalarProgram &p, int id, Band &band) {
  const Node &n = p.nodes[id];
  if (n.kind != Node::Kind::Compare || n.op == "!=")
    return false;
  // Keep the constants small: no overflow when they are combined.
  constexpr int64_t kLimit = int64_t(1) << 40;
  auto small = [&](const LinearIndex &x) {
    auto fits = [&](int64_t v) { return v > -kLimit && v < kLimit; };
    return fits(x.c0) && fits(x.ci) && fits(x.cl);
  };
  std::string op = n.op;
  // abs(i - l + c) <= D (or < D): both bounds.
  const Node &lhsNode = p.nodes[n.operands[0]];
  if (lhsNode.kind == Node::Kind::Unary && lhsNode.op == "abs" &&
      (op == "<=" || op == "<")) {
    auto x = linearOf(p, lhsNode.operands[0]);
    auto bound = linearOf(p, n.operands[1]);
    if (!x || !bound || bound->ci || bound->cl || !small(*x) ||
        !small(*bound))
      return false;
    if (!((x->ci == 1 && x->cl == -1) || (x->ci == -1 && x->cl == 1)))
      return false;
    // |l - i + c| <= D with c = the constant in the l - i orientation.
    int64_t c = x->cl == 1 ? x->c0 : -x->c0;
    int64_t d = op == "<" ? bound->c0 - 1 : bound->c0;
    band.lowerAtLeast(-d - c);
    band.upperAtMost(d - c);
    return true;
  }
  auto a = linearOf(p, n.operands[0]), b = linearOf(p, n.operands[1]);
  if (!a || !b || !small(*a) || !small(*b))
    return false;
  LinearIndex d{a->ci - b->ci, a->cl - b->cl, a->c0 - b->c0};
  if (d.cl == -1 && d.ci == 1) {
    d = {-d.ci, -d.cl, -d.c0};
    op = op == "<"    ? ">"
         : op == "<=" ? ">="
         : op == ">"  ? "<"
         : op == ">=" ? "<="
                      : op;
  }
  if (d.cl != 1 || d.ci != -1)
    return false;
  // l - i + c0 OP 0, i.e. l OP i - c0.
  int64_t at = -d.c0;
  if (op == "<=" || op == "==")
    band.upperAtMost(at);
  if (op == "<")
    band.upperAtMost(at - 1);
  if (op == ">=" || op == "==")
    band.lowerAtLeast(at);
  if (op == ">")
    band.lowerAtLeast(at + 1);
  return true;
}

bool dependsOnKey(const ScalarProgram &p, int id) {
  const Node &n = p.nodes[id];
  if (n.kind == Node::Kind::Score ||
      (n.kind == Node::Kind::Index && n.index == Node::IndexKind::Key))
    return true;
  return llvm::any_of(n.operands,
                      [&](int o) { return dependsOnKey(p, o); });
}

bool isKey(const ScalarProgram &p, int id) {
  const Node &n = p.nodes[id];
  return n.kind == Node::Kind::Index && n.index == Node::IndexKind::Key;
}

/// A key range lower <= l <= upper (node ids; -1: unbounded) that does not
/// depend on the key, implied by a conjunct; conservative (floor for lower
/// bounds, ceil for upper ones: the conjunct stays the exact test).
struct KeyRange {
  int lower = -1, upper = -1;
};

int addOp(ScalarProgram &p, Node::Kind kind, Node::Type type,
          llvm::StringRef op, std::vector<int> operands) {
  Node n;
  n.kind = kind;
  n.type = type;
  n.op = op.str();
  n.operands = std::move(operands);
  return addNode(p, n);
}

/// `x` as an integer: itself, or floor/ceil of a number.
int toIndex(ScalarProgram &p, int x, bool up) {
  if (p.nodes[x].type == Node::Type::Int)
    return x;
  return addOp(p, Node::Kind::Unary, Node::Type::Int, up ? "ceil" : "floor",
               {x});
}

std::optional<KeyRange> keyRangeOf(ScalarProgram &p, int id) {
  // Copies: addOp may reallocate the node list.
  Node n = p.nodes[id];
  if (n.kind != Node::Kind::Compare || n.op == "!=")
    return std::nullopt;
  int a = n.operands[0], b = n.operands[1];
  std::string op = n.op;
  KeyRange r;
  Node lhs = p.nodes[a];
  // abs(l - X) <= R, abs(X - l) < R.
  if (lhs.kind == Node::Kind::Unary && lhs.op == "abs" &&
      (op == "<=" || op == "<") && !dependsOnKey(p, b)) {
    Node diff = p.nodes[lhs.operands[0]];
    if (diff.kind != Node::Kind::Binary || diff.op != "-")
      return std::nullopt;
    int x;
    if (isKey(p, diff.operands[0]) && !dependsOnKey(p, diff.operands[1]))
      x = diff.operands[1];
    else if (isKey(p, diff.operands[1]) && !dependsOnKey(p, diff.operands[0]))
      x = diff.operands[0];
    else
      return std::nullopt;
    bool isFloat = p.nodes[x].type == Node::Type::Float ||
                   p.nodes[b].type == Node::Type::Float;
    Node::Type t = isFloat ? Node::Type::Float : Node::Type::Int;
    r.lower = toIndex(p, addOp(p, Node::Kind::Binary, t, "-", {x, b}), false);
    r.upper = toIndex(p, addOp(p, Node::Kind::Binary, t, "+", {x, b}), true);
    return r;
  }
  // l OP X or X OP l.
  int x;
  if (isKey(p, a) && !dependsOnKey(p, b)) {
    x = b;
  } else if (isKey(p, b) && !dependsOnKey(p, a)) {
    x = a;
    op = op == "<" ? ">" : op == "<=" ? ">=" : op == ">" ? "<" : op == ">=" ? "<=" : op;
  } else {
    return std::nullopt;
  }
  if (op == "<" || op == "<=" || op == "==")
    r.upper = toIndex(p, x, true);
  if (op == ">" || op == ">=" || op == "==")
    r.lower = toIndex(p, x, false);
  return r;
}

void collectConjuncts(const ScalarProgram &p, int id, std::vector<int> &out) {
  const Node &n = p.nodes[id];
  if (n.kind == Node::Kind::Binary && n.op == "&&") {
    collectConjuncts(p, n.operands[0], out);
    collectConjuncts(p, n.operands[1], out);
    return;
  }
  out.push_back(id);
}

/// The program that computes only the nodes reachable from `roots` joined
/// by `&&` (empty when there are none).
ScalarProgram keepConjuncts(const ScalarProgram &p, ArrayRef<int> roots) {
  if (roots.empty())
    return {};
  ScalarProgram out = p;
  int acc = roots[0];
  for (int r : roots.drop_front()) {
    Node both;
    both.kind = Node::Kind::Binary;
    both.type = Node::Type::Bool;
    both.op = "&&";
    both.operands = {acc, r};
    acc = addNode(out, both);
  }
  // The root is the last node: append a copy of `acc` when it is not.
  if (acc != int(out.nodes.size()) - 1) {
    Node copy = out.nodes[acc];
    addNode(out, copy);
  }
  return out;
}

bool isScoreFunction(const Expr &e) {
  return e.kind == Expr::Kind::Call && mlir::attn::lookupScoreFunction(e.name);
}

void findScoreCalls(const Expr &e, std::vector<const Expr *> &out) {
  if (isScoreFunction(e)) {
    out.push_back(&e);
    return;
  }
  for (const ast::ExprPtr &o : e.operands)
    findScoreCalls(*o, out);
}

} // namespace

const Expr *ModelChecker::findScoreCall(const Item &item) {
  std::vector<const Expr *> calls;
  findScoreCalls(*item.value, calls);
  if (calls.size() == 1)
    return calls[0];
  if (calls.empty())
    error(item.value->loc,
          "a score expression needs one score function call, such as "
          "'scaled_dot(q, K)', whose value the expression modifies");
  else
    error(calls[1]->loc, "a score expression has one score function call; "
                         "this is a second one");
  return nullptr;
}

bool ModelChecker::bindScalarIndices(const Item &item, const Step &step,
                                     ScalarScope &sc) {
  using IK = Node::IndexKind;
  size_t n = item.binders.size();
  std::vector<IK> kinds;
  if (n == 2)
    kinds = {IK::Query, IK::Key};
  else if (n == 3)
    kinds = step.hasHeads ? std::vector<IK>{IK::Head, IK::Query, IK::Key}
                          : std::vector<IK>{IK::Batch, IK::Query, IK::Key};
  else if (n == 4 && step.hasHeads)
    kinds = {IK::Batch, IK::Head, IK::Query, IK::Key};
  if (kinds.empty()) {
    error(item.loc,
          "bind the query and key indices as '[i, l]', or '[h, i, l]' / "
          "'[b, h, i, l]' inside 'heads' ('[b, i, l]' outside), got " +
              llvm::Twine(n) + " name" + (n == 1 ? "" : "s"));
    return false;
  }
  for (auto [k, id] : llvm::enumerate(item.binders)) {
    if (Symbol *sym = find(id.name)) {
      sym->used = false; // a clash, not a use
      error(id.loc, "the index name '" + id.name + "' is already " +
                        describe(sym->kind) + "; choose another name");
      return false;
    }
    if (!sc.binders.try_emplace(id.name, kinds[k]).second) {
      error(id.loc, "duplicate index name '" + id.name + "'");
      return false;
    }
  }
  sc.step = &step;
  return true;
}

int ModelChecker::checkScalarTable(const Expr &e, const Expr &base,
                                   llvm::ArrayRef<const Expr *> subscripts,
                                   ScalarScope &sc) {
  ValueId v = evalName(base);
  if (v < 0)
    return -1;
  const Shape &shape = shapeOf(v);
  // Inputs and values computed from them carry the batch dimensions; the
  // program reads the step's batch entry of them.
  unsigned batch = 0;
  bool isParam = spec.values[v].kind == ValueSpec::Kind::Arg &&
                 spec.args[spec.values[v].arg].role == Role::Param;
  if (!isParam && !batchDims.empty() && shape.size() >= batchDims.size()) {
    bool leading = true;
    for (size_t k = 0; k < batchDims.size(); ++k)
      leading &= shape[k].text == batchDims[k];
    if (leading)
      batch = unsigned(batchDims.size());
  }
  size_t rest = shape.size() - batch;
  bool implicitZero = subscripts.empty() && rest == 1 &&
                      sameDim(shape[batch], staticDim(1));
  if (subscripts.size() != rest && !implicitZero) {
    std::string indexed = batch ? " (its batch dimensions are implied)" : "";
    error(e.loc, "'" + base.name + "' has shape " + shapeText(shape) +
                     indexed + ", so it takes " + llvm::Twine(rest) +
                     " subscript" + (rest == 1 ? "" : "s") + ", got " +
                     llvm::Twine(subscripts.size()));
    return -1;
  }
  DType dtype = infos[v].dtype;
  Node node;
  node.kind = Node::Kind::Table;
  node.type = dtype == DType::I32 || dtype == DType::I64 ? Node::Type::Int
                                                           : Node::Type::Float;
  for (const Expr *sub : subscripts) {
    int s = checkScalar(*sub, sc);
    if (s < 0)
      return -1;
    if (sc.program.nodes[s].type != Node::Type::Int) {
      error(sub->loc, "a subscript must be an integer, got " +
                          llvm::Twine(typeName(sc.program.nodes[s].type)));
      return -1;
    }
    node.operands.push_back(s);
  }
  if (implicitZero) {
    Node zero;
    node.operands.push_back(addNode(sc.program, zero));
  }
  auto it = llvm::find_if(sc.program.tables,
                          [&](const ScalarTable &t) { return t.value == v; });
  node.table = int(it - sc.program.tables.begin());
  if (it == sc.program.tables.end())
    sc.program.tables.push_back({v, batch});
  return addNode(sc.program, node);
}

int ModelChecker::checkScalar(const Expr &e, ScalarScope &sc) {
  ScalarProgram &p = sc.program;
  auto numeric = [&](int id, const Expr &at, llvm::StringRef what) {
    if (id >= 0 && p.nodes[id].type == Node::Type::Bool) {
      error(at.loc, "the operand of '" + what + "' must be a number, got " +
                        typeName(Node::Type::Bool));
      return false;
    }
    return id >= 0;
  };
  switch (e.kind) {
  case Expr::Kind::Int: {
    Node n;
    n.intValue = e.intValue;
    return addNode(p, n);
  }
  case Expr::Kind::Float: {
    Node n;
    n.kind = Node::Kind::Float;
    n.type = Node::Type::Float;
    n.floatValue = e.floatValue;
    return addNode(p, n);
  }
  case Expr::Kind::Name: {
    auto binder = sc.binders.find(e.name);
    if (binder != sc.binders.end()) {
      Node n;
      n.kind = Node::Kind::Index;
      n.index = binder->second;
      return addNode(p, n);
    }
    Symbol *sym = find(e.name);
    if (sym && (sym->kind == SymKind::Dim || sym->kind == SymKind::BatchDim)) {
      Node n;
      if (!sym->dim.entry.isDynamic()) {
        n.intValue = sym->dim.entry.staticSize;
        return addNode(p, n);
      }
      n.kind = Node::Kind::Dim;
      auto it = llvm::find_if(p.dims, [&](const ShapeEntry &d) {
        return d.dynName == sym->dim.entry.dynName;
      });
      n.dim = int(it - p.dims.begin());
      if (it == p.dims.end())
        p.dims.push_back(sym->dim.entry);
      return addNode(p, n);
    }
    return checkScalarTable(e, e, {}, sc);
  }
  case Expr::Kind::Index: {
    const Expr &base = *e.operands[0];
    if (base.kind != Expr::Kind::Name) {
      error(base.loc, "only a named tensor can be subscripted");
      return -1;
    }
    std::vector<const Expr *> subs;
    for (size_t k = 1; k < e.operands.size(); ++k)
      subs.push_back(e.operands[k].get());
    return checkScalarTable(e, base, subs, sc);
  }
  case Expr::Kind::Neg:
  case Expr::Kind::Not: {
    bool isNot = e.kind == Expr::Kind::Not;
    int x = checkScalar(*e.operands[0], sc);
    if (x < 0)
      return -1;
    Node::Type t = p.nodes[x].type;
    if (isNot != (t == Node::Type::Bool)) {
      error(e.loc, std::string("'") + (isNot ? "!" : "-") + "' needs " +
                       (isNot ? "a condition" : "a number") + ", got " +
                       typeName(t));
      return -1;
    }
    Node n;
    n.kind = Node::Kind::Unary;
    n.type = t;
    n.op = isNot ? "not" : "neg";
    n.operands = {x};
    return addNode(p, n);
  }
  case Expr::Kind::Binary: {
    std::string op = e.op == '&' ? "&&" : e.op == '|' ? "||" : std::string(1, e.op);
    int a = checkScalar(*e.operands[0], sc);
    int b = a < 0 ? -1 : checkScalar(*e.operands[1], sc);
    if (a < 0 || b < 0)
      return -1;
    Node::Type ta = p.nodes[a].type, tb = p.nodes[b].type;
    Node n;
    n.kind = Node::Kind::Binary;
    n.op = op;
    n.operands = {a, b};
    bool logical = op == "&&" || op == "||";
    if (logical) {
      if (ta != Node::Type::Bool || tb != Node::Type::Bool) {
        error(e.opLoc, "'" + op + "' combines conditions, got " +
                           typeName(ta != Node::Type::Bool ? ta : tb));
        return -1;
      }
      n.type = Node::Type::Bool;
      return addNode(p, n);
    }
    if (ta == Node::Type::Bool || tb == Node::Type::Bool) {
      error(e.opLoc, "'" + op + "' needs numbers, got a condition");
      return -1;
    }
    n.type = op == "/" || ta == Node::Type::Float || tb == Node::Type::Float
                 ? Node::Type::Float
                 : Node::Type::Int;
    return addNode(p, n);
  }
  case Expr::Kind::Compare: {
    int a = checkScalar(*e.operands[0], sc);
    int b = a < 0 ? -1 : checkScalar(*e.operands[1], sc);
    if (a < 0 || b < 0)
      return -1;
    Node::Type ta = p.nodes[a].type, tb = p.nodes[b].type;
    bool bools = ta == Node::Type::Bool && tb == Node::Type::Bool;
    if ((ta == Node::Type::Bool || tb == Node::Type::Bool) &&
        !(bools && (e.name == "==" || e.name == "!="))) {
      error(e.opLoc, "'" + e.name + "' compares numbers, got a condition");
      return -1;
    }
    Node n;
    n.kind = Node::Kind::Compare;
    n.type = Node::Type::Bool;
    n.op = e.name;
    n.operands = {a, b};
    return addNode(p, n);
  }
  case Expr::Kind::Call: {
    if (&e == sc.scoreCall) {
      Node n;
      n.kind = Node::Kind::Score;
      n.type = Node::Type::Float;
      return addNode(p, n);
    }
    if (isScoreFunction(e)) {
      error(e.loc, sc.scoreCall
                       ? "a score expression has one score function call"
                       : "a mask predicate cannot call a score function");
      return -1;
    }
    static const llvm::StringSet<> unary = {"tanh", "exp",  "log", "sigmoid",
                                            "relu", "sqrt", "abs"};
    bool isUnary = unary.contains(e.name);
    bool isMinMax = e.name == "min" || e.name == "max";
    if (!isUnary && !isMinMax) {
      error(e.loc, "unknown function '" + e.name +
                       "' in a scalar expression (expected tanh, exp, log, "
                       "sigmoid, relu, sqrt, abs, min or max)" +
                       didYouMean(e.name, {"tanh", "exp", "log", "sigmoid",
                                           "relu", "sqrt", "abs", "min",
                                           "max"}));
      return -1;
    }
    size_t arity = isUnary ? 1 : 2;
    if (e.operands.size() != arity || e.hasParamList || !e.named.empty() ||
        !e.withSet.name.empty()) {
      error(e.loc, "'" + e.name + "' takes " + llvm::Twine(arity) +
                       " argument" + (arity == 1 ? "" : "s"));
      return -1;
    }
    Node n;
    n.kind = isUnary ? Node::Kind::Unary : Node::Kind::Binary;
    n.op = e.name;
    bool anyFloat = false;
    for (const ast::ExprPtr &o : e.operands) {
      int x = checkScalar(*o, sc);
      if (!numeric(x, *o, e.name))
        return -1;
      anyFloat |= p.nodes[x].type == Node::Type::Float;
      n.operands.push_back(x);
    }
    bool keepsInt = e.name == "abs" || isMinMax;
    n.type = keepsInt && !anyFloat ? Node::Type::Int : Node::Type::Float;
    return addNode(p, n);
  }
  case Expr::Kind::Apply:
    error(e.loc, "a linear map 'W x' cannot be used in a scalar expression");
    return -1;
  }
  return -1;
}

bool ModelChecker::checkScoreModifier(const Item &item, const Expr &call,
                                      Step &step) {
  ScalarScope sc;
  sc.scoreCall = &call;
  if (!bindScalarIndices(item, step, sc))
    return false;
  int root = checkScalar(*item.value, sc);
  if (root < 0)
    return false;
  if (sc.program.nodes[root].type == Node::Type::Bool) {
    error(item.value->loc, "a score expression must be a number, got a "
                           "condition (masks are written 'mask [i, l]: ...')");
    return false;
  }
  // `score e[i, l] = f(q, K)` modifies nothing.
  if (sc.program.nodes[root].kind != Node::Kind::Score)
    step.spec.scoreModifier = std::move(sc.program);
  return true;
}

void ModelChecker::checkMaskPredicate(const Item &item, Step &step) {
  if (item.masks.size() != 1) {
    error(item.masks[1]->loc, "a mask predicate is one condition; combine "
                              "conditions with '&&'");
    return;
  }
  ScalarScope sc;
  if (!bindScalarIndices(item, step, sc))
    return;
  const Expr &e = *item.masks[0];
  int root = checkScalar(e, sc);
  if (root < 0)
    return;
  if (sc.program.nodes[root].type != Node::Type::Bool) {
    error(e.loc, "a mask predicate must be a condition such as 'l <= i', "
                 "got " +
                     llvm::Twine(typeName(sc.program.nodes[root].type)));
    return;
  }
  // The conjuncts that bound l by i become the key band; the rest stays a
  // predicate evaluated per key.
  std::vector<int> conjuncts, rest;
  collectConjuncts(sc.program, root, conjuncts);
  Band band;
  for (int c : conjuncts)
    if (!addToBand(sc.program, c, band))
      rest.push_back(c);
  // Of the rest, the conjuncts that bound the key by data (a position the
  // model computes, an input) also give the key loop bounds.
  KeyRange range;
  for (int c : rest) {
    std::optional<KeyRange> r = keyRangeOf(sc.program, c);
    if (!r)
      continue;
    ScalarProgram &p = sc.program;
    if (r->lower >= 0)
      range.lower = range.lower < 0
                        ? r->lower
                        : addOp(p, Node::Kind::Binary, Node::Type::Int, "max",
                                {range.lower, r->lower});
    if (r->upper >= 0)
      range.upper = range.upper < 0
                        ? r->upper
                        : addOp(p, Node::Kind::Binary, Node::Type::Int, "min",
                                {range.upper, r->upper});
  }
  ScalarProgram rangeProgram;
  if (range.lower >= 0 || range.upper >= 0) {
    ScalarProgram &p = sc.program;
    // An open side: 0, or 2^40 (the loop bounds cut both by the keys).
    if (range.lower < 0) {
      Node zero;
      range.lower = addNode(p, zero);
    }
    if (range.upper < 0) {
      Node big;
      big.intValue = int64_t(1) << 40;
      range.upper = addNode(p, big);
    }
    rangeProgram = sc.program;
    rangeProgram.roots = {range.lower, range.upper};
  }
  ScalarProgram remaining = keepConjuncts(sc.program, rest);
  auto update = [&](AttentionSpec &a) {
    if (band.lower)
      a.bandLower = a.bandLower ? std::max(*a.bandLower, *band.lower)
                                : *band.lower;
    if (band.upper)
      a.bandUpper = a.bandUpper ? std::min(*a.bandUpper, *band.upper)
                                : *band.upper;
    a.maskPredicate = conjoin(a.maskPredicate, remaining);
    if (!rangeProgram.empty()) {
      if (a.keyRange.empty()) {
        a.keyRange = rangeProgram;
      } else {
        // The intersection of two ranges: max of the lower bounds, min of
        // the upper ones.
        ScalarProgram merged = a.keyRange;
        int offset = int(merged.nodes.size());
        appendProgram(merged, rangeProgram);
        int lo = addOp(merged, Node::Kind::Binary, Node::Type::Int, "max",
                       {a.keyRange.roots[0], rangeProgram.roots[0] + offset});
        int hi = addOp(merged, Node::Kind::Binary, Node::Type::Int, "min",
                       {a.keyRange.roots[1], rangeProgram.roots[1] + offset});
        merged.roots = {lo, hi};
        a.keyRange = merged;
      }
    }
  };
  update(step.spec);
  if (step.attention >= 0) {
    update(spec.attentions[step.attention]);
    checkScalarTables(spec.attentions[step.attention], item.loc);
  }
}

const Expr *ModelChecker::checkWeightFactor(const Item &item, Step &step) {
  const Expr &e = *item.value;
  auto isAlignCall = [&](const Expr &x) {
    if (x.kind != Expr::Kind::Call || x.operands.empty() ||
        x.operands[0]->kind != Expr::Kind::Name)
      return false;
    Symbol *sym = find(x.operands[0]->name);
    return sym && sym->kind == SymKind::Score;
  };
  if (e.kind != Expr::Kind::Binary || e.op != '*' ||
      !(isAlignCall(*e.operands[0]) || isAlignCall(*e.operands[1]))) {
    error(e.loc, "an alignment with bound indices is the alignment times a "
                 "weight factor: 'softmax(e) * EXPR'");
    return nullptr;
  }
  bool callFirst = isAlignCall(*e.operands[0]);
  const Expr &call = *e.operands[callFirst ? 0 : 1];
  const Expr &factor = *e.operands[callFirst ? 1 : 0];
  ScalarScope sc;
  if (!bindScalarIndices(item, step, sc))
    return nullptr;
  int root = checkScalar(factor, sc);
  if (root < 0)
    return nullptr;
  if (sc.program.nodes[root].type == Node::Type::Bool) {
    error(factor.loc, "a weight factor must be a number, got a condition");
    return nullptr;
  }
  step.spec.weightFactor = std::move(sc.program);
  return &call;
}

void ModelChecker::checkScalarTables(const AttentionSpec &att,
                                     const SourceLoc &loc) {
  for (const ScalarProgram *p :
       {&att.scoreModifier, &att.maskPredicate, &att.weightFactor})
    for (const ScalarTable &t : p->tables)
      if (t.batchDims && (att.numGroupDims != spec.numBatchDims ||
                          att.queryBroadcast)) {
        error(loc, "a score or mask expression reads a tensor with batch "
                   "dimensions, which needs an attention whose groups are "
                   "exactly the batch dimensions");
        return;
      }
}
