# RUN: %python %s
# The blocked kernels' inline exp (BlockedPanels.cpp, expNonPositive) seen
# through the weights output, at a tolerance far below the suites' 1e-4:
# with q = e_0 and key j = s_j e_0 the dot scores are the f32 values s_j
# exactly, spread over 88 below the maximum with every fractional part, so
# the weights a_j = exp(s_j - m) / sum_l exp(s_l - m) test the exp over its
# whole range. Bound (stated in BlockedPanels.h): relative 2.3e-7 for the
# polynomial and about 6e-8 |s_j - m| for the rounding of (s_j - m) log2 e,
# plus the sum's rounding; checked as |a - ref| <= (1e-6 + 1e-7 |s_j - m|)
# ref + 1e-37. Weights under 2^-99.5 of the largest (s_j - m below
# -99.5 ln 2 = -68.97) must come out exactly 0 (the cutoff that keeps subnormal
# products out of the kernels), those above it within the bound (the
# rounding of (s_j - m) log2 e decides within 1e-5 of the cutoff). One query (the
# single-query kernel, through the copy for a dynamic n_q) and 5 (the
# packed panels), 16 and 300 keys. An error of 2e-4 in one coefficient of
# the polynomial fails it; the other suites do not see that.

import math
import random
import sys

import attnc_testlib as T

MODEL = """
model weights {
  dims n_q, n_k, d = 16
  input Q : f32[n_q, d]
  input K : f32[n_k, d]
  query q = Q
  keys k = K
  values v = K
  score e = dot(q, k)
  align a = softmax(e)
  context c = sum(a * v)
  output y = c
  output A = a
}
"""

model = T.compile(MODEL).model("weights")
CUTOFF = -99.5 * math.log(2.0)
rng = random.Random(5)
failures = 0
worst = 0.0
for nq in (1, 5):
    for nk in (16, 300):
        scores = T.rounded_f32([rng.uniform(-88.0, 0.0) for _ in range(nk)])
        scores[rng.randrange(nk)] = 0.0  # the maximum
        q = T.Tensor([1.0 if c == 0 else 0.0 for _ in range(nq)
                      for c in range(16)], [nq, 16])
        k = T.Tensor([s if c == 0 else 0.0 for s in scores for c in range(16)],
                     [nk, 16])
        y = T.Tensor.full([nq, 16], T.SENTINEL)
        a = T.Tensor.full([nq, nk], T.SENTINEL)
        rc = model.call([q, k, y, a])
        if rc != 0:
            print("FAIL: the call returned %d: %s" % (rc, model.last_error()))
            sys.exit(1)
        m = max(scores)
        total = math.fsum(math.exp(s - m) for s in scores)
        got = a.values()
        for i in range(nq):
            for j, s in enumerate(scores):
                x = s - m
                ref = math.exp(x) / total
                err = abs(got[i * nk + j] - ref)
                if ref > 1e-30:
                    worst = max(worst, err / ref)
                if x < CUTOFF - 1e-5:
                    bad = got[i * nk + j] != 0.0
                elif x < CUTOFF + 1e-5:
                    bad = got[i * nk + j] != 0.0 and \
                        err > (1e-6 + 1e-7 * abs(x)) * ref + 1e-37
                else:
                    bad = err > (1e-6 + 1e-7 * abs(x)) * ref + 1e-37
                if bad:
                    failures += 1
                    if failures <= 5:
                        print("FAIL n_q=%d n_k=%d row %d key %d: s - m = %.4f, "
                              "a = %.9g, ref = %.9g, |err| = %.3g" % (
                                  nq, nk, i, j, x, got[i * nk + j], ref, err))
print("largest relative error of a weight above 1e-30: %.3g" % worst)
if failures:
    print("%d weights out of bounds" % failures)
    sys.exit(1)
print("ok")
