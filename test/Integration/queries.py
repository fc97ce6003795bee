# RUN: %python %s
# The query model: an input (one query or several), through a linear map or
# not; a learned query param (a vector: one query; a matrix: several); the
# features themselves (self-attention, with and without W_Q, with a causal
# mask); n_q = 1.

import attnc_testlib as T

MODELS = [
    ("q_input_linear", """
model q_input_linear {
  dims n, d = 17, d_s = 3
  batch b
  input X : f32[b, n, d]
  input s : f32[b, d_s]
  param Wq : f32[d, d_s]
  query q = Wq s
  keys K = X
  values V = X
  score e = dot(q, K)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X", "s"], "query": ("s", "Wq", None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("dot", [], None), "outputs": [("y", "c"), ("A", "a")]}),

    ("q_inputs_linear", """
model q_inputs_linear {
  dims n, m, d = 3, d_s = 17
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d_s]
  param Wq : f32[d, d_s]
  query Q = Wq S
  keys K = X
  values V = X
  score e = scaled_dot(Q, K)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X", "S"], "query": ("S", "Wq", None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("scaled_dot", [], None), "outputs": [("y", "c"), ("A", "a")]}),

    ("q_param_vector", """
model q_param_vector {
  dims n, d = 17, d_w = 6
  batch b
  input X : f32[b, n, d]
  param qv : f32[d]
  param W1 : f32[d_w, d]
  param W2 : f32[d_w, d]
  param bw, w : f32[d_w]
  query q = qv
  keys K = X
  values V = X
  score e = additive(q, K; W1, W2, bw, w)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X"], "query": ("qv", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("additive", ["W1", "W2", "bw", "w"], "tanh"),
      "outputs": [("y", "c"), ("A", "a")]}),

    ("q_param_matrix", """
model q_param_matrix {
  dims n, m = 4, d = 5, d_q = 3
  batch b
  input X : f32[b, n, d]
  param Qp : f32[m, d_q]
  param Wq : f32[d, d_q]
  query Q = Wq Qp
  keys K = X
  values V = X
  score e = cosine(Q, K)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X"], "query": ("Qp", "Wq", None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("cosine", [], None), "outputs": [("y", "c"), ("A", "a")]}),

    ("self_identity", """
model self_identity {
  dims n, d = 3
  batch b
  input X : f32[b, n, d]
  feature F = X
  query Q = F
  keys K = F
  values V = F
  score e = dot(Q, K)
  mask causal
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
""", {"batch": 1, "inputs": ["X"], "feature": ("X", None, None),
      "query": ("F", None, None), "keys": ("F", None, None),
      "values": ("F", None, None), "score": ("dot", [], None), "causal": True,
      "outputs": [("y", "c"), ("A", "a")]}),

    ("self_projected", """
model self_projected {
  dims n, d = 17, d_k = 5, d_v = 3
  batch b
  input X : f32[b, n, d]
  param Wq, Wk : f32[d_k, d]
  param Wv : f32[d_v, d]
  feature F = X
  query Q = Wq F
  keys K = Wk F
  values V = Wv F
  score e = scaled_dot(Q, K)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
}
""", {"batch": 1, "inputs": ["X"], "feature": ("X", None, None),
      "query": ("F", "Wq", None), "keys": ("F", "Wk", None),
      "values": ("F", "Wv", None), "score": ("scaled_dot", [], None),
      "outputs": [("y", "c")]}),

    ("self_general_causal", """
model self_general_causal {
  dims n, d = 16, d_k = 5
  batch b
  input X : f32[b, n, d]
  param Wq : f32[d_k, d]
  param W : f32[d, d_k]
  feature F = X
  query Q = Wq F
  keys K = F
  values V = F
  score e = general(Q, K; W)
  mask causal
  align a = softmax(e)
  context c = sum(a * V)
  output A = a
  output y = c
}
""", {"batch": 1, "inputs": ["X"], "feature": ("X", None, None),
      "query": ("F", "Wq", None), "keys": ("F", None, None),
      "values": ("F", None, None), "score": ("general", ["W"], None),
      "causal": True, "outputs": [("A", "a"), ("y", "c")]}),
]

SIZES = [{"n": 1, "m": 1, "b": 1}, {"n": 7, "m": 1, "b": 3},
         {"n": 13, "m": 5, "b": 2}, {"n": 31, "m": 2, "b": 1},
         {"n": 67, "m": 3, "b": 2}]

checker = T.Checker()
T.run_models(checker, [(n, s, sp) for n, s, sp in MODELS], SIZES, seed=31)
checker.finish()
