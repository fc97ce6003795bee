//===- ScoreFunctions.cpp - The one table of score functions --------------===//
//
// The score functions of the survey's Table 2, one row each; see
// ScoreFunctions.h for what reads them.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/ScoreFunctions.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace mlir::attn;

ArrayRef<ScoreFunction> mlir::attn::getScoreFunctions() {
  constexpr ScoreSize Dq = ScoreSize::Query, Dk = ScoreSize::Key,
                      Dw = ScoreSize::Hidden, Dv = ScoreSize::Value;
  using Role = ScoreParamRole;
  // A function-local static: built on first use, no global constructor.
  static const ScoreFunction table[] = {
      // w^T act(W1 q + W2 k + b): q' = W1 q + b, k' = W2 k, sum w act(q'+k')
      {ScoreKind::additive,
       ScoreCombine::additive,
       ScoreScale::None,
       Activation::tanh,
       {{"W1", {Dw, Dq}, Role::QueryMap},
        {"W2", {Dw, Dk}, Role::KeyMap},
        {"b", {Dw}, Role::QueryBias},
        {"w", {Dw}, Role::CombineWeights}}},
      // q^T k
      {ScoreKind::dot, ScoreCombine::dot, ScoreScale::None, std::nullopt, {}},
      // q^T k / sqrt(d_k)
      {ScoreKind::scaled_dot,
       ScoreCombine::dot,
       ScoreScale::InverseSqrtKeySize,
       std::nullopt,
       {}},
      // k^T W q: q' = W q
      {ScoreKind::general,
       ScoreCombine::dot,
       ScoreScale::None,
       std::nullopt,
       {{"W", {Dk, Dq}, Role::QueryMap}}},
      // k^T (W q + b): q' = W q + b
      {ScoreKind::biased_general,
       ScoreCombine::dot,
       ScoreScale::None,
       std::nullopt,
       {{"W", {Dk, Dq}, Role::QueryMap}, {"b", {Dk}, Role::QueryBias}}},
      // act(k^T W q + b), b a scalar: q' = W q, act(q'.k + b)
      {ScoreKind::activated_general,
       ScoreCombine::dot,
       ScoreScale::None,
       Activation::tanh,
       {{"W", {Dk, Dq}, Role::QueryMap},
        {"b", {}, Role::CombineBias, /*mayBePerHead=*/false}}},
      // q^T k / (|q| |k|), 0 when either norm is 0
      {ScoreKind::cosine,
       ScoreCombine::cosine,
       ScoreScale::None,
       std::nullopt,
       {}},
      // W_d act(W1 q + W2 k + b) in R^{d_v} (survey eq. 30): as additive,
      // with a matrix W_d [d_v, d_w] for the vector w: one score per value
      // feature, each normalized over the keys separately (eq. 31)
      {ScoreKind::multidim_additive,
       ScoreCombine::multidim_additive,
       ScoreScale::None,
       Activation::tanh,
       {{"W1", {Dw, Dq}, Role::QueryMap},
        {"W2", {Dw, Dk}, Role::KeyMap},
        {"b", {Dw}, Role::QueryBias},
        {"Wd", {Dv, Dw}, Role::CombineWeights, /*mayBePerHead=*/false}}},
      // -|q - k|^2, the negative squared Euclidean distance
      {ScoreKind::neg_sq_euclidean,
       ScoreCombine::neg_sq_euclidean,
       ScoreScale::None,
       std::nullopt,
       {}},
  };
  return table;
}

ScoreCombineRules mlir::attn::getScoreCombineRules(ScoreCombine combine) {
  switch (combine) {
  case ScoreCombine::dot: // act(scale * q.k + bias)
    return {/*takesScoreWeights=*/false, /*takesScaleAndBias=*/true,
            /*takesAct=*/true, /*dividesByNorms=*/false};
  case ScoreCombine::additive: // sum_d w_d act(q_d + k_d)
    return {/*takesScoreWeights=*/true, /*takesScaleAndBias=*/false,
            /*takesAct=*/true, /*dividesByNorms=*/false};
  case ScoreCombine::cosine: // q.k / (|q| |k|)
    return {/*takesScoreWeights=*/false, /*takesScaleAndBias=*/false,
            /*takesAct=*/false, /*dividesByNorms=*/true};
  case ScoreCombine::multidim_additive: // W_d act(q + k), a vector of Dv
    return {/*takesScoreWeights=*/true, /*takesScaleAndBias=*/false,
            /*takesAct=*/true, /*dividesByNorms=*/false, /*perFeature=*/true};
  case ScoreCombine::neg_sq_euclidean: // -sum_d (q_d - k_d)^2
    return {/*takesScoreWeights=*/false, /*takesScaleAndBias=*/false,
            /*takesAct=*/false, /*dividesByNorms=*/false, /*perFeature=*/false};
  }
  llvm_unreachable("unknown score combine");
}

StringRef mlir::attn::getScoreSizeName(ScoreSize size) {
  switch (size) {
  case ScoreSize::Query:
    return "d_q";
  case ScoreSize::Key:
    return "d_k";
  case ScoreSize::Hidden:
    return "d_w";
  case ScoreSize::Value:
    return "d_v";
  }
  llvm_unreachable("unknown score size");
}

const ScoreFunction &mlir::attn::getScoreFunction(ScoreKind kind) {
  const ScoreFunction &function =
      getScoreFunctions()[static_cast<unsigned>(kind)];
  assert(function.kind == kind && "the table must follow ScoreKind's order");
  return function;
}

const ScoreFunction *mlir::attn::lookupScoreFunction(StringRef name) {
  std::optional<ScoreKind> kind = symbolizeScoreKind(name);
  return kind ? &getScoreFunction(*kind) : nullptr;
}

StringRef ScoreFunction::getName() const { return stringifyScoreKind(kind); }

std::optional<unsigned> ScoreFunction::getParamIndex(StringRef name) const {
  for (auto [i, param] : llvm::enumerate(params))
    if (param.name == name)
      return i;
  return std::nullopt;
}

std::optional<unsigned>
ScoreFunction::getParamIndex(ScoreParamRole role) const {
  for (auto [i, param] : llvm::enumerate(params))
    if (param.role == role)
      return i;
  return std::nullopt;
}

std::string ScoreFunction::getParamList() const {
  std::string list;
  for (const ScoreParam &param : params) {
    if (!list.empty())
      list += ", ";
    list += param.name;
  }
  return list;
}
