# RUN: %python %s
# The feature model (F = X, F = Wf X, F = Wf X + bf) and the keys/values
# (identity, linear, linear with bias; from the features or from other
# inputs; keys and values from different inputs with different widths).

import attnc_testlib as T

MODELS = [
    ("feat_linear_bias", """
model feat_linear_bias {
  dims n, d_x = 3, d_f = 17, d_q = 5
  batch b
  input X : f32[b, n, d_x]
  input s : f32[b, d_q]
  param Wf : f32[d_f, d_x]
  param bf : f32[d_f]
  param W : f32[d_f, d_q]
  feature F = Wf X + bf
  query q = s
  keys K = F
  values V = F
  score e = general(q, K; W)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X", "s"], "feature": ("X", "Wf", "bf"),
      "query": ("s", None, None), "keys": ("F", None, None),
      "values": ("F", None, None), "score": ("general", ["W"], None),
      "outputs": [("y", "c"), ("A", "a")]}),

    ("feat_linear_kv_bias", """
model feat_linear_kv_bias {
  dims n, m, d_x = 17, d_f = 6, d_k = 4, d_v = 3
  batch b
  input X : f32[b, n, d_x]
  input S : f32[b, m, d_k]
  param Wf : f32[d_f, d_x]
  param Wk : f32[d_k, d_f]
  param bk : f32[d_k]
  param Wv : f32[d_v, d_f]
  param bv : f32[d_v]
  feature F = Wf X
  query Q = S
  keys K = Wk F + bk
  values V = Wv F + bv
  score e = scaled_dot(Q, K)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X", "S"], "feature": ("X", "Wf", None),
      "query": ("S", None, None), "keys": ("F", "Wk", "bk"),
      "values": ("F", "Wv", "bv"), "score": ("scaled_dot", [], None),
      "outputs": [("y", "c"), ("A", "a")]}),

    ("kv_two_inputs", """
model kv_two_inputs {
  dims n, m, d1 = 5, d2 = 17, d_k = 3
  batch b
  input X1 : f32[b, n, d1]
  input X2 : f32[b, n, d2]
  input S : f32[b, m, d_k]
  param Wk : f32[d_k, d1]
  param bk : f32[d_k]
  keys K = Wk X1 + bk
  values V = X2
  query Q = S
  score e = dot(Q, K)
  mask causal
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X1", "X2", "S"], "query": ("S", None, None),
      "keys": ("X1", "Wk", "bk"), "values": ("X2", None, None),
      "score": ("dot", [], None), "causal": True,
      "outputs": [("y", "c"), ("A", "a")]}),

    ("kv_two_inputs_linear_values", """
model kv_two_inputs_linear_values {
  dims n, d1 = 4, d2 = 3, d_v = 17, d_w = 7
  batch b
  input X1 : f32[b, n, d1]
  input X2 : f32[b, n, d2]
  input s : f32[b, d1]
  input L : i32[b]
  param Wv : f32[d_v, d2]
  param bv : f32[d_v]
  param W1, W2 : f32[d_w, d1]
  param bw, w : f32[d_w]
  keys K = X1
  values V = Wv X2 + bv
  query q = s
  score e = additive(q, K; W1, W2, bw, w, act = relu)
  mask lengths(L)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X1", "X2", "s", "L"], "query": ("s", None, None),
      "keys": ("X1", None, None), "values": ("X2", "Wv", "bv"),
      "score": ("additive", ["W1", "W2", "bw", "w"], "relu"), "lengths": "L",
      "outputs": [("y", "c"), ("A", "a")]}),

    ("feat_keys_other_values", """
model feat_keys_other_values {
  dims n, d_x = 3, d_f = 5, d2 = 2
  batch b
  input X : f32[b, n, d_x]
  input X2 : f32[b, n, d2]
  input s : f32[b, d_f]
  param Wf : f32[d_f, d_x]
  param bf : f32[d_f]
  param Wv : f32[d_f, d2]
  param Wb : f32[d_f, d_f]
  param bb : f32[d_f]
  feature F = Wf X + bf
  keys K = F
  values V = Wv X2
  query q = s
  score e = biased_general(q, K; Wb, bb)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
}
""", {"batch": 1, "inputs": ["X", "X2", "s"], "feature": ("X", "Wf", "bf"),
      "query": ("s", None, None), "keys": ("F", None, None),
      "values": ("X2", "Wv", None),
      "score": ("biased_general", ["Wb", "bb"], None), "outputs": [("y", "c")]}),
]

# Items in another order (values before keys, the mask before the score,
# the weights output before the context, params declared between items,
# several dims items), with comments of both kinds.
MODELS.append(("item_order", """
model item_order {
  dims n            // dynamic
  batch b
  dims d = 3, d_v = 2
  input L : i32[b]
  input Xv : f32[b, n, d] /* values source */
  values V = Xv
  param Wv2 : f32[d_v, d]
  input Xk : f32[b, n, d]
  input s : f32[b, d]
  keys K = Xk
  mask lengths(L)
  query q = s
  param Wg : f32[d, d]
  score e = general(q, K; Wg)
  align a = softmax(e)
  output A = a
  context c = sum(a * V)
  output y = Wv2 c
}
""", {"batch": 1, "inputs": ["L", "Xv", "Xk", "s"], "query": ("s", None, None),
      "keys": ("Xk", None, None), "values": ("Xv", None, None),
      "score": ("general", ["Wg"], None), "lengths": "L",
      "outputs": [("A", "a"), ("y", "linear", "Wv2", None, None, False)]}))

SIZES = [{"n": 1, "m": 1, "b": 1}, {"n": 7, "m": 3, "b": 3},
         {"n": 13, "m": 13, "b": 1}, {"n": 67, "m": 2, "b": 2},
         {"n": 130, "m": 1, "b": 1}]

checker = T.Checker()
T.run_models(checker, MODELS, SIZES, seed=41,
             overrides={"L": T.lengths_override})
checker.finish()
