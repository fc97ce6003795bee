//===- ModelSpec.h - A checked attention model ------------------*- C++ -*-===//
//
// The semantic form of one `model` of a .attn file, produced by Sema after all
// names, shapes and combinations have been checked. It is the only thing the
// rest of the compiler (MLIRGen, the signature/header emitters) sees of the
// source language: no AST and no ANTLR type crosses this boundary.
//
// Every tensor the model reads or writes is an *argument* (compiled models do
// not own weights). Arguments are numbered in ABI order: inputs and params in
// declaration order, then outputs in declaration order. Everything below
// refers to arguments by that index.
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

#include <cstdint>
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

enum class Role { Input, Param, Output };

enum class Activation { Identity, Tanh, Relu, Sigmoid };

/// The score functions of the survey's Table 2.
enum class ScoreKind {
  Additive,         // w^T act(W1 q + W2 k + b)
  Dot,              // q^T k
  ScaledDot,        // q^T k / sqrt(d_k)
  General,          // k^T W q
  BiasedGeneral,    // k^T (W q + b)
  ActivatedGeneral, // act(k^T W q + b), b a scalar
  Cosine            // q^T k / (|q| |k|), 0 when either norm is 0
};

/// Alignment functions; only softmax is implemented so far.
enum class AlignKind { Softmax };

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

/// y = W x + b on the last dimension of `source`. `weight == -1` is the
/// identity (then `bias` is -1 too). `source` is an argument index, or
/// kFeatures for the output of the feature model.
struct LinearMap {
  static constexpr int kFeatures = -2;
  int source = kFeatures;
  int weight = -1;
  int bias = -1;
  SourceLoc loc;
  bool isIdentity() const { return weight < 0; }
};

enum class QuerySource {
  Input,   ///< queries from an input: q = queryMap(input)
  Param,   ///< a learned query vector / matrix: q = queryMap(param)
  Features ///< self-attention: one query per feature, Q = queryMap(F)
};

/// One output of the model (the output model of the survey).
struct OutputSpec {
  enum class Kind {
    Context, ///< y = c (multi-head: the concatenation of the heads' c)
    Weights, ///< y = a, the attention weights (for inspection)
    Linear   ///< y = act(W c + b), or softmax(W c + b) when `softmax`
  };
  int arg = -1; ///< The argument index this output is written to.
  Kind kind = Kind::Context;
  LinearMap map; ///< For Linear: source is unused (always c).
  Activation act = Activation::Identity;
  bool softmax = false;
  SourceLoc loc;
};

/// A model after semantic checks.
struct ModelSpec {
  std::string name;
  SourceLoc loc;

  /// Inputs and params in declaration order, then outputs.
  std::vector<ArgSpec> args;
  /// Number of leading batch dimensions of every input and output.
  unsigned numBatchDims = 0;

  /// Feature model: F = featureMap(X); featureMap.source is an input index.
  LinearMap featureMap;

  /// Query model.
  QuerySource querySource = QuerySource::Features;
  /// For Input/Param the argument holding the raw query; source of queryMap.
  LinearMap queryMap;
  /// True when there are several queries (n_q rows) rather than a single one.
  bool multiQuery = true;

  /// Multi-head attention: the maps of query/keys/values may be per head
  /// (weights of rank 3). `hasHeads` is false for single-head models.
  bool hasHeads = false;
  ShapeEntry numHeads; ///< Valid when hasHeads.

  /// Attention model.
  LinearMap keyMap;   ///< K = keyMap(F or an input)
  LinearMap valueMap; ///< V = valueMap(F or an input)
  ScoreKind score = ScoreKind::Dot;
  Activation scoreAct = Activation::Identity;
  /// Score parameters, as argument indices, in the canonical order of the
  /// kind: Additive: W1, W2, b, w. General: W. BiasedGeneral: W, b.
  /// ActivatedGeneral: W, b (b of shape [] or [1]). Others: none.
  std::vector<int> scoreParams;
  SourceLoc scoreLoc;
  bool causal = false;
  int lengthsArg = -1; ///< i32 [batch...] valid key counts, or -1.
  SourceLoc maskLoc;
  AlignKind align = AlignKind::Softmax;
  SourceLoc alignLoc;
  SourceLoc contextLoc;

  /// Output model.
  std::vector<OutputSpec> outputs;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_MODELSPEC_H
