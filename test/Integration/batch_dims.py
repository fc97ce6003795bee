# RUN: %python %s
# Batch dimensions: none, one dynamic (b = 1, 3), one static (batch b = 2),
# two (b1, b2) with lengths i32[b1, b2], and a model without batch dims using
# a scalar i32[] length.

import attnc_testlib as T

MODELS = [
    ("no_batch", """
model no_batch {
  dims n, m, d = 17
  input X : f32[n, d]
  input S : f32[m, d]
  query Q = S
  keys K = X
  values V = X
  score e = scaled_dot(Q, K)
  mask causal
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 0, "inputs": ["X", "S"], "query": ("S", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("scaled_dot", [], None), "causal": True,
      "outputs": [("y", "c"), ("A", "a")]}),

    ("no_batch_lengths", """
model no_batch_lengths {
  dims n, d = 3
  input X : f32[n, d]
  input s : f32[d]
  input L : i32[]
  query q = s
  keys K = X
  values V = X
  score e = dot(q, K)
  mask lengths(L)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 0, "inputs": ["X", "s", "L"], "query": ("s", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("dot", [], None), "lengths": "L",
      "outputs": [("y", "c"), ("A", "a")]}),

    ("static_batch", """
model static_batch {
  dims n, d = 5, d_y = 3
  batch b = 2
  input X : f32[b, n, d]
  input s : f32[b, d]
  param W : f32[d, d]
  param Wc : f32[d_y, d]
  param bc : f32[d_y]
  query q = s
  keys K = X
  values V = X
  score e = general(q, K; W)
  align a = softmax(e)
  context c = sum(a * V)
  output y = softmax(Wc c + bc)
  output A = a
}
""", {"batch": 1, "inputs": ["X", "s"], "query": ("s", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("general", ["W"], None),
      "outputs": [("y", "linear", "Wc", "bc", None, True), ("A", "a")]}),

    ("two_batch", """
model two_batch {
  dims n, m, d = 3
  batch b1, b2
  input X : f32[b1, b2, n, d]
  input S : f32[b1, b2, m, d]
  input L : i32[b1, b2]
  query Q = S
  keys K = X
  values V = X
  score e = dot(Q, K)
  mask causal, lengths(L)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 2, "inputs": ["X", "S", "L"], "query": ("S", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("dot", [], None), "causal": True, "lengths": "L",
      "outputs": [("y", "c"), ("A", "a")]}),
]

SIZES = [{"n": 1, "m": 1, "b": 1, "b1": 1, "b2": 1},
         {"n": 7, "m": 3, "b": 3, "b1": 2, "b2": 3},
         {"n": 13, "m": 13, "b": 1, "b1": 3, "b2": 1},
         {"n": 67, "m": 5, "b": 2, "b1": 1, "b2": 2}]

checker = T.Checker()
T.run_models(checker, MODELS, SIZES, seed=71,
             overrides={"L": T.lengths_override})
checker.finish()
