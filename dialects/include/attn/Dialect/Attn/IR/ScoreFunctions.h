//===- ScoreFunctions.h - The one table of score functions ------*- C++ -*-===//
//
// Every score function of the survey's Table 2 is described once, here (the
// rows are in ScoreFunctions.cpp): its parameters by name with their shapes
// over symbolic sizes, whether it takes an activation, and how
// -attn-decompose-scores splits it into projections before the key loop and
// a combine inside it. Sema (the .attn checks), the attn.attention verifier
// and its assembly format, DecomposeScores and the combine checks of the
// lowered ops all read this table, so a new score function is one row (plus
// a combine, if no existing one fits; see docs/design.md).
//
// The enum values (ScoreKind, ScoreCombine, Activation) stay defined in
// AttnBase.td; a kind's name in the language is its enum string.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_SCOREFUNCTIONS_H
#define ATTN_DIALECT_ATTN_IR_SCOREFUNCTIONS_H

#include "attn/Dialect/Attn/IR/AttnEnums.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::attn {

/// A size a score parameter's shape is written in.
enum class ScoreSize {
  Query,  ///< d_q, the query's last dimension
  Key,    ///< d_k, the keys' last dimension
  Hidden, ///< d_w, set by the first parameter that has it (additive's W1)
  Value,  ///< d_v, the values' last dimension (multidim_additive's Wd)
};

/// "d_q", "d_k", "d_w", "d_v": how messages and docs write a size.
llvm::StringRef getScoreSizeName(ScoreSize size);

/// What -attn-decompose-scores does with a parameter.
enum class ScoreParamRole {
  QueryMap,       ///< q := W q, before the key loop
  QueryBias,      ///< q := W q + b, with the QueryMap parameter's W
  KeyMap,         ///< k := W k, before the key loop
  CombineWeights, ///< w of the additive combine
  CombineBias,    ///< the scalar bias of the dot combine
};

/// The scale of the dot combine.
enum class ScoreScale {
  None,
  InverseSqrtKeySize, ///< 1 / sqrt(d_k) (1 when d_k = 0)
};

struct ScoreParam {
  llvm::StringLiteral name;
  /// The shape without the leading [H] of a per-head parameter. Empty for a
  /// scalar, which may be written [] or [1].
  llvm::SmallVector<ScoreSize, 2> shape;
  ScoreParamRole role;
  /// Whether a leading dimension of the query heads gives one per head.
  bool mayBePerHead = true;

  bool isScalar() const { return shape.empty(); }
};

struct ScoreFunction {
  ScoreKind kind;
  /// The score inside the key loop once the parameters are applied.
  ScoreCombine combine;
  ScoreScale scale;
  /// The default of `act`, or none: the function takes no activation.
  std::optional<Activation> defaultAct;
  /// In the order of the survey's formula, which is the order of the .attn
  /// call, of the attn.attention operands and of `params(...)`.
  llvm::SmallVector<ScoreParam, 4> params;

  /// The name in the language and in the IR: "additive", "scaled_dot", ...
  llvm::StringRef getName() const;
  bool takesAct() const { return defaultAct.has_value(); }
  /// The position of the parameter `name`, if the function has one.
  std::optional<unsigned> getParamIndex(llvm::StringRef name) const;
  /// The position of the parameter with `role`, if any.
  std::optional<unsigned> getParamIndex(ScoreParamRole role) const;
  /// "W1, W2, b, w" (empty without parameters).
  std::string getParamList() const;
  /// Neither q nor k is mapped: the combine compares them directly, so
  /// d_q must equal d_k.
  bool comparesQueryAndKeys() const {
    return !getParamIndex(ScoreParamRole::QueryMap) &&
           !getParamIndex(ScoreParamRole::KeyMap);
  }
};

/// Every score function, in the order of ScoreKind.
llvm::ArrayRef<ScoreFunction> getScoreFunctions();
const ScoreFunction &getScoreFunction(ScoreKind kind);
/// The function named `name` in the language, or null.
const ScoreFunction *lookupScoreFunction(llvm::StringRef name);

/// What a combine takes and needs: read by the verifiers of
/// online_attention and the tile-level ops, and by the kernels. Its
/// arithmetic is the lowering's (emitScore in AttnToLoops/TileKernels.cpp).
struct ScoreCombineRules {
  bool takesScoreWeights; ///< w [Dw] or [Hq, Dw]
  bool takesScaleAndBias;
  bool takesAct;
  bool dividesByNorms; ///< needs |q| (once per query row) and |k|
  /// The score is a vector of Dv, one per value feature, each with its own
  /// softmax over the keys (multi-dimensional attention, survey eqs.
  /// 30-32): score_weights is W_d [Dv, Dw] (never per head), and only
  /// online_attention takes it (no tiled form, no weights, no lse).
  bool perFeature = false;
};
ScoreCombineRules getScoreCombineRules(ScoreCombine combine);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_SCOREFUNCTIONS_H
