# RUN: %python %s
# Sizes around the vector width (16) and the key tile (64): n_k and n_q in
# 15, 16, 17, 63, 64, 65, 127, 128, 129, 130, with causal and lengths masks
# (whole tiles masked, partial tiles, a query row seeing exactly one key),
# for self-attention (n_q = n_k) and cross attention (n_q != n_k); and the
# weights output of a cosine score under a window (keys before and after
# each row's interval masked; every third row of X zero: norm 0), where the
# weights kernel stores whole vectors of 16 keys and masks the lanes past
# the last key.

import attnc_testlib as T

SELF = ("tile_self", """
model tile_self {
  dims n, d = 3
  batch b
  input X : f32[b, n, d]
  input L : i32[b]
  feature F = X
  query Q = F
  keys K = F
  values V = F
  score e = scaled_dot(Q, K)
  mask causal, lengths(L)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X", "L"], "feature": ("X", None, None),
      "query": ("F", None, None), "keys": ("F", None, None),
      "values": ("F", None, None), "score": ("scaled_dot", [], None),
      "causal": True, "lengths": "L", "outputs": [("y", "c"), ("A", "a")]})

CROSS = ("tile_cross", """
model tile_cross {
  dims n, m, d = 2, d_v = 17
  batch b
  input X : f32[b, n, d]
  input Xv : f32[b, n, d_v]
  input S : f32[b, m, d]
  param W : f32[d, d]
  query Q = S
  keys K = X
  values V = Xv
  score e = general(Q, K; W)
  mask causal
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
}
""", {"batch": 1, "inputs": ["X", "Xv", "S"], "query": ("S", None, None),
      "keys": ("X", None, None), "values": ("Xv", None, None),
      "score": ("general", ["W"], None), "causal": True,
      "outputs": [("y", "c")]})

COSINE = ("tile_cosine_window", """
model tile_cosine_window {
  dims n, d = 5
  batch b
  input X : f32[b, n, d]
  feature F = X
  query Q = F
  keys K = F
  values V = F
  score e = cosine(Q, K)
  mask window(20)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X"], "feature": ("X", None, None),
      "query": ("F", None, None), "keys": ("F", None, None),
      "values": ("F", None, None), "score": ("cosine", [], None),
      "window": 20, "outputs": [("y", "c"), ("A", "a")]})

SOURCE = SELF[1] + CROSS[1] + COSINE[1]
checker = T.Checker()
T.compile(SOURCE)
for i, n in enumerate([15, 16, 17, 63, 64, 65, 127, 128, 129, 130]):
    checker.case(SOURCE, SELF[0], SELF[2], {"n": n, "b": 3},
                 seed=100 + i, overrides={"L": T.lengths_override}, show=SELF[1])
for i, (m, n) in enumerate([(1, 64), (1, 65), (16, 63), (17, 129), (63, 64),
                            (65, 64), (64, 128), (3, 127), (130, 1), (129, 65)]):
    checker.case(SOURCE, CROSS[0], CROSS[2], {"n": n, "m": m, "b": 1},
                 seed=200 + i, show=CROSS[1], scale={"W": 4.0})
for i, n in enumerate([1, 15, 16, 17, 31, 33, 63, 65, 129]):
    checker.case(SOURCE, COSINE[0], COSINE[2], {"n": n, "b": 2},
                 seed=300 + i, overrides={"X": T.zero_rows(3)},
                 show=COSINE[1])
checker.finish()
