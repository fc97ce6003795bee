//===- ModelSpec.h - A checked attention model ------------------*- C++ -*-===//
//
// The semantic form of one `model` of a .attn file, produced by Sema after all
// names, shapes and combinations have been checked. It is the only thing the
// rest of the compiler (MLIRGen, the signature/header emitters) sees of the
// source language: no AST and no ANTLR type crosses this boundary.
//
// Every tensor the model reads or writes is an *argument* (compiled models do
// not own weights). Arguments are numbered in ABI order: inputs and params in
// declaration order (a block's params at their first use), then outputs in
// declaration order. The model itself is a list of values (a data-flow graph
// in topological order): arguments, linear maps, attention steps and the
// glue between them (sums, products, concatenations, pooling, norms).
//
// Conventions (see docs/language.md):
//  * A feature/key/value tensor is [batch..., n, d]: one row per vector (the
//    survey writes the transposed F in R^{d x n}).
//  * A query input is [batch..., d_q] (one query) or [batch..., n_q, d_q].
//  * A linear map `W x + b` has W : [d_out, d_in] (or [h, d_out, d_in] inside
//    `heads`, one matrix per head) and b : [d_out] (or [h, d_out]); it acts
//    on the last dimension of x.
//  * Params never have batch dimensions; every input has all of them, leading.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_MODELSPEC_H
#define ATTNC_FRONTEND_MODELSPEC_H

#include "attn/Dialect/Attn/IR/AttnEnums.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attnc {

/// A position in a .attn source file (1-based line and column).
struct SourceLoc {
  std::string file;
  unsigned line = 0;
  unsigned col = 0;
};

/// Element types; the numeric values match attnc_dtype in attnc.h.
enum class DType { F32 = 0, F64 = 1, F16 = 2, BF16 = 3, I32 = 4, I64 = 5 };

/// The floating-point element types. The model computes in f32: bf16 and f16
/// arguments are widened on entry and outputs rounded on exit.
inline bool isFloat(DType d) {
  return d == DType::F32 || d == DType::F16 || d == DType::BF16;
}

enum class Role { Input, Param, Output };

enum class Activation { Identity, Tanh, Relu, Sigmoid };

/// Alignment functions: softmax, sigmoid (unnormalized, per key), argmax
/// (deterministic hard attention: the first key of maximum score) and hard
/// (a key sampled from the softmax with a seeded counter-based generator);
/// sparsemax and entmax15 (1.5-entmax: sparse, a threshold over the row).
enum class AlignKind { Softmax, Sigmoid, Argmax, Hard, Sparsemax, Entmax15 };

/// One entry of a shape: a static size, or a dynamic dimension taken from the
/// arguments at call time (named by `dynName`).
struct ShapeEntry {
  int64_t staticSize = -1; ///< >= 0 when static.
  std::string dynName;     ///< Non-empty when dynamic.
  bool isDynamic() const { return staticSize < 0; }
};

/// One argument of the compiled function.
struct ArgSpec {
  std::string name;
  Role role = Role::Input;
  DType dtype = DType::F32;
  std::vector<ShapeEntry> shape;
  SourceLoc loc;
};

/// The values of a model are numbered in the order they are computed; every
/// operand refers to an earlier value.
using ValueId = int;

/// One attention step's query, keys or values: `source`, optionally through
/// a linear map W x + b (inside `heads`, W may be per head: [h, d_out, d_in]).
/// Outside `heads` the map is always a separate Linear value, so `weight` is
/// -1 there.
struct StepOperand {
  ValueId source = -1;
  ValueId weight = -1;
  ValueId bias = -1;
  SourceLoc loc;
};

/// One value of the program (a tensor). `shape` is the logical shape, all
/// dimensions explicit; MLIRGen materializes it as a contiguous buffer.
struct ValueSpec {
  enum class Kind {
    Arg,        ///< an input or param: `arg`
    Linear,     ///< W x (+ b): operands {x, W, (b)}; see `linearForm`
    Attention,  ///< one attention step: see `attention`
    Binary,     ///< operands {a, b}, NumPy broadcasting: `binaryOp`
    Activation, ///< act(x) elementwise: `act`
    Softmax,    ///< softmax over the last dimension
    LayerNorm,  ///< operands {x, (gamma, beta)}; over the last dimension
    Concat,     ///< along the last dimension
    Pool,       ///< mean or max over the rows: [.., n, d] -> [.., d]
    Dot,        ///< sum(x * y) over the last dimension, kept as size 1
    MatMul,     ///< [.., m, k] x [.., k, n]
    Transpose,  ///< swaps the last two dimensions
    Reshape     ///< the same elements with another shape (concat(c))
  };
  enum class LinearForm {
    Shared,  ///< W [o, i] on x [.., i]
    PerGroup ///< W [g, o, i] on x [.., g, i]: one matrix per row
  };
  enum class PoolKind { Mean, Max };

  Kind kind = Kind::Arg;
  SourceLoc loc;
  /// The name the program gives the value (`let x`, `context c`, ...), for
  /// readable IR; empty if none.
  std::string name;
  DType dtype = DType::F32; ///< The element type.
  std::vector<ShapeEntry> shape;
  std::vector<ValueId> operands;

  int arg = -1;
  LinearForm linearForm = LinearForm::Shared;
  char binaryOp = '+';
  Activation act = Activation::Identity;
  PoolKind pool = PoolKind::Mean;
  int attention = -1; ///< Attention: index into ModelSpec::attentions.
};

/// A scalar expression evaluated for each (batch entry, head, query, key)
/// of an attention step: a score modifier (`score e[i, l] = EXPR`, a float)
/// or a mask predicate (`mask [i, l]: EXPR`, a bool). Nodes are stored in
/// post order: every operand precedes its user; the last node is the root.
struct ScalarNode {
  enum class Kind {
    Score,  ///< the score function's value e (score modifiers only)
    Index,  ///< a bound index: `index` (batch, head, query or key)
    Int,    ///< `intValue`
    Float,  ///< `floatValue`
    Dim,    ///< the size of a dimension: ScalarProgram::dims[`dim`]
    Table,  ///< an element of ScalarProgram::tables[`table`]; the operands
            ///< are the subscripts (the table's batch dims are implied)
    Unary,  ///< `op`: neg not tanh exp log abs sigmoid relu sqrt, and
            ///< floor ceil (a number to an integer, clamped to +-2^40;
            ///< NaN: floor -2^40, ceil 2^40)
    Binary, ///< `op`: + - * / min max && ||
    Compare ///< `op`: < <= > >= == !=
  };
  enum class Type { Int, Float, Bool };
  enum class IndexKind { Batch, Head, Query, Key };

  Kind kind = Kind::Int;
  Type type = Type::Int;
  IndexKind index = IndexKind::Query;
  int64_t intValue = 0;
  double floatValue = 0;
  int dim = -1;
  int table = -1;
  std::string op;
  std::vector<int> operands;
};

/// A table read by a ScalarProgram: a value with `batchDims` leading batch
/// dimensions (indexed by the step's batch entry) followed by the
/// dimensions the subscripts index.
struct ScalarTable {
  ValueId value = -1;
  unsigned batchDims = 0;
};

struct ScalarProgram {
  std::vector<ScalarNode> nodes;
  std::vector<ScalarTable> tables;
  /// Dynamic dimensions the program reads (static ones are Int nodes).
  std::vector<ShapeEntry> dims;
  /// The results: the last node, or these nodes (a key range: lower,
  /// upper).
  std::vector<int> roots;
  bool empty() const { return nodes.empty(); }
};

/// One attention step (the survey's attention model) over groups: keys
/// [G.., n_k, d_k]; the query [G.., (n_q,) d_q], or [(n_q,) d_q] shared by
/// all groups; the context [G.., (n_q,) (h,) d_v].
struct AttentionSpec {
  StepOperand query, keys, values;
  unsigned numGroupDims = 0;   ///< |G..|
  bool queryBroadcast = false; ///< The query has no group dimensions.
  bool multiQuery = false;     ///< n_q rows rather than a single query.
  bool hasHeads = false;
  ShapeEntry numHeads;

  /// The score function: a row of the table in
  /// attn/Dialect/Attn/IR/ScoreFunctions.h, which the dialect shares.
  mlir::attn::ScoreKind score = mlir::attn::ScoreKind::dot;
  Activation scoreAct = Activation::Identity;
  /// The score's parameters in the order of the function's row (additive:
  /// W1, W2, b, w; general: W; ...).
  std::vector<ValueId> scoreParams;
  bool causal = false;
  ValueId lengths = -1; ///< i32 [G..] valid key counts, or -1.
  /// `mask causal(o)`: l <= i' + o (with `causal`).
  std::optional<int64_t> causalOffset;
  /// `mask window(W)`: i' - W < l <= i', W >= 1.
  std::optional<int64_t> window;
  ValueId prefix = -1; ///< `mask prefix(P)`: i32 [G..], or -1 (with causal).
  /// The interval part of mask predicates: keys i + bandLower <= l <= i +
  /// bandUpper of query i (i the query's own index, not aligned).
  std::optional<int64_t> bandLower, bandUpper;
  /// `score e[i, l] = EXPR` beyond the score function, and the rest of the
  /// mask predicates (what is not an interval); empty if none.
  ScalarProgram scoreModifier, maskPredicate;
  /// `align a[i, l] = softmax(e) * EXPR`: a factor of each weight after the
  /// alignment (the local alignment's Gaussian prior, survey eq. 29).
  ScalarProgram weightFactor;
  /// Bounds lower(b, h, i) <= l <= upper(b, h, i) that the mask predicate
  /// implies and that depend on data (`abs(l - p[i]) <= D`): the tiled form
  /// visits only the key tiles of the union of a query tile's ranges (the
  /// predicate itself is still evaluated per key). Roots {lower, upper}.
  ScalarProgram keyRange;
  AlignKind align = AlignKind::Softmax;
  int64_t seed = 0; ///< hard: the seed of the sampling, in [0, 2^32)
  /// Output arguments that receive the weights [G.., (h,) (n_q,) n_k].
  std::vector<int> weightsOutputs;
  /// Output arguments that receive the log-sum-exp of the scores
  /// (`logsumexp(e)`) [G.., (h,) (n_q,)].
  std::vector<int> lseOutputs;
  SourceLoc scoreLoc, maskLoc, alignLoc, contextLoc;
};

/// A model after semantic checks: a program of values over its arguments.
struct ModelSpec {
  std::string name;
  SourceLoc loc;

  /// Inputs and params in declaration order (block params at their first
  /// use), then outputs.
  std::vector<ArgSpec> args;
  /// Number of leading batch dimensions of every input and output.
  unsigned numBatchDims = 0;

  std::vector<ValueSpec> values;
  std::vector<AttentionSpec> attentions;

  /// Output arguments and the value each one receives (outputs that are
  /// attention weights are written by their attention step instead).
  std::vector<std::pair<int, ValueId>> outputs;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_MODELSPEC_H
