//===- ExpPolynomialsTest.cpp - The kernels' exp polynomials --------------===//
//
// The blocked kernels' exp (BlockedPanels.cpp, exp2NonPositive) computes
// 2^r on [-1/2, 1/2] by the polynomial exp2Polynomial(precision), its
// coefficients scaled by 2^27 and rounded to f32, evaluated by f32 FMAs in
// Horner's order. These tests evaluate them the same way on a fine grid
// and check the relative error each precision states (BlockedPanels.h),
// against 2^r in double: a mistyped digit fails here even where no
// kernel's result would show it (bf16 rounding hides the BF16 one).
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir::attn::loops;

namespace {

/// The largest relative error of the polynomial, as the kernel evaluates
/// it, over 2^20 + 1 points of [-1/2, 1/2].
double maxRelativeError(ExpPrecision precision) {
  llvm::ArrayRef<double> coeffs = exp2Polynomial(precision);
  const double twoTo27 = 134217728.0;
  const int steps = 1 << 20;
  double worst = 0;
  for (int i = 0; i <= steps; ++i) {
    float r = static_cast<float>(-0.5 + double(i) / steps);
    float p = static_cast<float>(coeffs.back() * twoTo27);
    for (double c : llvm::reverse(coeffs.drop_back()))
      p = std::fma(p, r, static_cast<float>(c * twoTo27));
    double exact = std::exp2(double(r));
    worst = std::max(worst, std::fabs(double(p) / twoTo27 / exact - 1));
  }
  return worst;
}

TEST(ExpPolynomialsTest, F32WithinStatedBound) {
  EXPECT_EQ(exp2Polynomial(ExpPrecision::F32).size(), 6u);
  EXPECT_LE(maxRelativeError(ExpPrecision::F32), 2.3e-7);
}

TEST(ExpPolynomialsTest, BF16WithinStatedBound) {
  EXPECT_EQ(exp2Polynomial(ExpPrecision::BF16).size(), 4u);
  double error = maxRelativeError(ExpPrecision::BF16);
  EXPECT_LE(error, 7.5e-5);
  // Far below the bf16 rounding of the probabilities that follows.
  EXPECT_LE(26 * error, std::ldexp(1.0, -9));
}

} // namespace
