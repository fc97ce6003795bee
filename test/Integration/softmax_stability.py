# RUN: %python %s
# Large scores: dot scores of magnitude 100-300, so exp(e) overflows fp32
# (e > 88) unless the softmax subtracts the row maximum (or rescales online);
# rows of only very negative scores, masked rows, and large output logits of
# softmax(W c + b) too. Tolerance as everywhere (1e-4 + 1e-4 |ref|): scores
# are kept below ~300 so that their own fp32 rounding (ulp(300) = 3e-5) moves
# a weight by well under the tolerance.

import attnc_testlib as T

SOURCE = """
model big_dot {
  dims n, m, d = 17, d_y = 5
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d]
  input L : i32[b]
  param Wc : f32[d_y, d]
  param bc : f32[d_y]
  query Q = S
  keys K = X
  values V = X
  score e = dot(Q, K)
  mask causal, lengths(L)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output p = softmax(Wc c + bc)
  output A = a
}
"""
SPEC = {"batch": 1, "inputs": ["X", "S", "L"], "query": ("S", None, None),
        "keys": ("X", None, None), "values": ("X", None, None),
        "score": ("dot", [], None), "causal": True, "lengths": "L",
        "outputs": [("y", "c"), ("p", "linear", "Wc", "bc", None, True),
                    ("A", "a")]}


def shifted(offset, spread):
    """Rows of values offset + spread * uniform(-1, 1)."""
    def make(shape, rng, dims):
        return [offset + spread * rng.uniform(-1, 1) for _ in range(T.prod(shape))]
    return make


checker = T.Checker()
SIZES = [{"n": 7, "m": 3, "b": 3}, {"n": 65, "m": 5, "b": 2},
         {"n": 130, "m": 2, "b": 3}]
for i, dims in enumerate(SIZES):
    # Scores of up to about +-150.
    checker.case(SOURCE, "big_dot", SPEC, dims, seed=300 + i,
                 scale={"X": 6.0, "S": 6.0, "Wc": 30.0, "bc": 30.0},
                 overrides={"L": T.lengths_override}, label="large scores")
    # All scores large and positive (about 17 * 16 = 272 +- 70): exp
    # overflows without the max subtraction.
    checker.case(SOURCE, "big_dot", SPEC, dims, seed=310 + i,
                 overrides={"L": T.lengths_override, "X": shifted(4.0, 1.0),
                            "S": shifted(4.0, 1.0)},
                 label="all scores large and positive")
    # All scores large and negative: exp underflows to 0 without it.
    checker.case(SOURCE, "big_dot", SPEC, dims, seed=320 + i,
                 overrides={"L": T.lengths_override, "X": shifted(4.0, 1.0),
                            "S": shifted(-4.0, 1.0)},
                 label="all scores large and negative")
checker.finish()
