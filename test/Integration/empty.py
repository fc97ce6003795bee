# RUN: %python %s
# Empty sizes, where legal: n_q = 0 (no output row), batch = 0 (no entry),
# n_k = 0 (every query sees no key: c = 0 and weights are empty, so
# W c + b = b), lengths of 0 (c = 0, weights 0), with the data of empty
# tensors passed as NULL and as a valid pointer. Also checks that a call
# fills every output element (outputs start as a sentinel).

import attnc_testlib as T

MODELS = [
    ("empty_cross", """
model empty_cross {
  dims n, m, d = 5, d_y = 3
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
  output z = Wc c + bc
  output p = softmax(Wc c + bc)
  output A = a
}
""", {"batch": 1, "inputs": ["X", "S", "L"], "query": ("S", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("dot", [], None), "causal": True, "lengths": "L",
      "outputs": [("y", "c"), ("z", "linear", "Wc", "bc", None, False),
                  ("p", "linear", "Wc", "bc", None, True), ("A", "a")]}),

    ("empty_self_mh", """
model empty_self_mh {
  dims  n, d = 3, h = 2, d_k = 2
  batch b
  input X : f32[b, n, d]
  param Wq, Wk, Wv : f32[h, d_k, d]
  param Wo : f32[d, h * d_k]
  param bo : f32[d]
  heads h {
    query   Q = Wq X
    keys    K = Wk X
    values  V = Wv X
    score   e = scaled_dot(Q, K)
    mask    causal
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output Y = Wo concat(c) + bo
  output A = a
}
""", {"batch": 1, "heads": 2, "inputs": ["X"], "query": ("X", "Wq", None),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
      "score": ("scaled_dot", [], None), "causal": True,
      "outputs": [("Y", "linear", "Wo", "bo", None, False), ("A", "a")]}),

    ("empty_single_query", """
model empty_single_query {
  dims n, d = 4, d_w = 3, d_y = 2
  batch b
  input X : f32[b, n, d]
  input s : f32[b, d]
  param W1, W2 : f32[d_w, d]
  param bw, w : f32[d_w]
  param Wc : f32[d_y, d]
  param bc : f32[d_y]
  query q = s
  keys K = X
  values V = X
  score e = additive(q, K; W1, W2, bw, w)
  align a = softmax(e)
  context c = sum(a * V)
  output y = tanh(Wc c + bc)
  output p = softmax(Wc c + bc)
  output A = a
}
""", {"batch": 1, "inputs": ["X", "s"], "query": ("s", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("additive", ["W1", "W2", "bw", "w"], "tanh"),
      "outputs": [("y", "linear", "Wc", "bc", "tanh", False),
                  ("p", "linear", "Wc", "bc", None, True), ("A", "a")]}),
]

SIZES = [{"n": 5, "m": 0, "b": 2},   # n_q = 0
         {"n": 0, "m": 3, "b": 2},   # n_k = 0
         {"n": 0, "m": 0, "b": 1},
         {"n": 4, "m": 3, "b": 0},   # batch = 0
         {"n": 1, "m": 1, "b": 1}]

checker = T.Checker()
for null_empty in (True, False):
    for name, src, spec in MODELS:
        for i, dims in enumerate(SIZES):
            checker.case(src, name, spec, dims, seed=81 + i, null_empty=null_empty,
                         label="null_empty=%s" % null_empty)

# Lengths of 0 (and negative, clamped to 0) for every batch entry: c = 0,
# weights 0, z = bc.
for L in ([0, 0, 0], [-5, 0, -1]):
    checker.case(MODELS[0][1], "empty_cross", MODELS[0][2],
                 {"n": 6, "m": 4, "b": 3}, seed=91, overrides={"L": L},
                 label="lengths %s" % L)
checker.finish()
