//===- ScoreFunctionsTest.cpp - Unit tests of the score-function table ----===//
//
// The table in attn/Dialect/Attn/IR/ScoreFunctions.h is read by Sema, the
// attn.attention verifier and parser, and -attn-decompose-scores; these
// tests check the invariants they rely on, so that a new row that breaks
// one fails here rather than in one of them.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/ScoreFunctions.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"

#include "llvm/ADT/StringSet.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

TEST(ScoreFunctionsTest, OneRowPerKindInEnumOrder) {
  ArrayRef<ScoreFunction> table = getScoreFunctions();
  ASSERT_EQ(table.size(), getMaxEnumValForScoreKind() + 1);
  for (auto [i, function] : llvm::enumerate(table)) {
    EXPECT_EQ(static_cast<uint32_t>(function.kind), i);
    EXPECT_EQ(&getScoreFunction(function.kind), &function);
    EXPECT_EQ(lookupScoreFunction(function.getName()), &function);
  }
  EXPECT_EQ(lookupScoreFunction("euclid"), nullptr);
}

TEST(ScoreFunctionsTest, RowsAreConsistent) {
  for (const ScoreFunction &function : getScoreFunctions()) {
    SCOPED_TRACE(function.getName().str());
    llvm::StringSet<> names;
    for (const ScoreParam &param : function.params)
      EXPECT_TRUE(names.insert(param.name).second) << "duplicate name";
    // Every role once at most, and what DecomposeScores needs with it.
    for (ScoreParamRole role :
         {ScoreParamRole::QueryMap, ScoreParamRole::QueryBias,
          ScoreParamRole::KeyMap, ScoreParamRole::CombineWeights,
          ScoreParamRole::CombineBias}) {
      unsigned count = llvm::count_if(
          function.params, [&](const auto &p) { return p.role == role; });
      EXPECT_LE(count, 1u);
    }
    if (function.getParamIndex(ScoreParamRole::QueryBias))
      EXPECT_TRUE(function.getParamIndex(ScoreParamRole::QueryMap));
    ScoreCombineRules rules = getScoreCombineRules(function.combine);
    EXPECT_EQ(
        rules.takesScoreWeights,
        function.getParamIndex(ScoreParamRole::CombineWeights).has_value());
    if (function.getParamIndex(ScoreParamRole::CombineBias) ||
        function.scale != ScoreScale::None)
      EXPECT_TRUE(rules.takesScaleAndBias);
    if (function.takesAct())
      EXPECT_TRUE(rules.takesAct);
    for (const ScoreParam &param : function.params) {
      // A scalar is loaded once; one per head is not supported.
      if (param.isScalar())
        EXPECT_FALSE(param.mayBePerHead) << param.name.str();
      if (param.role == ScoreParamRole::CombineBias)
        EXPECT_TRUE(param.isScalar()) << param.name.str();
    }
  }
}

TEST(ScoreFunctionsTest, NamesOfTheSurvey) {
  EXPECT_EQ(getScoreFunction(ScoreKind::additive).getParamList(),
            "W1, W2, b, w");
  EXPECT_EQ(getScoreFunction(ScoreKind::general).getParamList(), "W");
  EXPECT_EQ(getScoreFunction(ScoreKind::biased_general).getParamList(), "W, b");
  EXPECT_EQ(getScoreFunction(ScoreKind::activated_general).getParamList(),
            "W, b");
  EXPECT_EQ(getScoreFunction(ScoreKind::cosine).getParamList(), "");
  EXPECT_EQ(getScoreFunction(ScoreKind::neg_sq_euclidean).getParamList(), "");
  EXPECT_TRUE(getScoreFunction(ScoreKind::neg_sq_euclidean)
                  .comparesQueryAndKeys());
  EXPECT_FALSE(getScoreFunction(ScoreKind::neg_sq_euclidean).takesAct());
  EXPECT_EQ(getScoreFunction(ScoreKind::additive).defaultAct, Activation::tanh);
  EXPECT_FALSE(getScoreFunction(ScoreKind::scaled_dot).takesAct());
}

TEST(ScoreFunctionsTest, ParamsByNameOnTheOp) {
  MLIRContext context;
  context.loadDialect<AttnDialect, func::FuncDialect>();
  const char *text = R"mlir(
    func.func @f(%q: memref<1x1x3x8xf32>, %k: memref<1x1x5x16xf32>,
                 %v: memref<1x1x5x4xf32>, %W1: memref<6x8xf32>,
                 %W2: memref<6x16xf32>, %b: memref<6xf32>,
                 %w: memref<6xf32>, %c: memref<1x3x1x4xf32>) {
      attn.attention additive act(tanh) align(softmax)
          ins(%q, %k, %v : memref<1x1x3x8xf32>, memref<1x1x5x16xf32>,
                           memref<1x1x5x4xf32>)
          params(W1 = %W1, W2 = %W2, b = %b, w = %w
                 : memref<6x8xf32>, memref<6x16xf32>, memref<6xf32>,
                   memref<6xf32>)
          outs(%c : memref<1x3x1x4xf32>)
      return
    })mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
  ASSERT_TRUE(module);
  AttentionOp op;
  module->walk([&](AttentionOp found) { op = found; });
  ASSERT_TRUE(op);
  auto args = op->getParentOfType<func::FuncOp>().getArguments();
  EXPECT_EQ(op.getScoreParam("W1"), args[3]);
  EXPECT_EQ(op.getScoreParam("W2"), args[4]);
  EXPECT_EQ(op.getScoreParam("b"), args[5]);
  EXPECT_EQ(op.getScoreParam("w"), args[6]);
  EXPECT_FALSE(op.getScoreParam("W"));
}

} // namespace
