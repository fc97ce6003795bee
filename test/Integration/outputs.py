# RUN: %python %s
# Every form of the output model: c, W c, W c + b, tanh / relu / sigmoid of
# W c + b, softmax(W c + b) (survey eq. 5), the attention weights a, several
# outputs in one model, shape annotations; single and several queries;
# n_k = 0 (c = 0, so W c + b = b and softmax gives softmax(b)).

import attnc_testlib as T

ALL_OUTPUTS_BODY = """
  param Wc : f32[d_y, d]
  param bc : f32[d_y]
  query q = %(q)s
  keys K = X
  values V = X
  score e = %(score)s
  align a = softmax(e)
  context c = sum(a * V)
  output y0 = c
  output y1 = Wc c
  output y2 = Wc c + bc
  output y3 = tanh(Wc c + bc)
  output y4 = relu(Wc c + bc)
  output y5 = sigmoid(Wc c + bc)
  output y6 = softmax(Wc c + bc)
  output A = a
}
"""

ALL_OUTPUTS = [("y0", "c"), ("y1", "linear", "Wc", None, None, False),
               ("y2", "linear", "Wc", "bc", None, False),
               ("y3", "linear", "Wc", "bc", "tanh", False),
               ("y4", "linear", "Wc", "bc", "relu", False),
               ("y5", "linear", "Wc", "bc", "sigmoid", False),
               ("y6", "linear", "Wc", "bc", None, True),
               ("A", "a")]

MODELS = [
    ("out_all_1q", """
model out_all_1q {
  dims n, d = 17, d_y = 3
  batch b
  input X : f32[b, n, d]
  input s : f32[b, d]
""" + ALL_OUTPUTS_BODY % {"q": "s", "score": "scaled_dot(q, K)"},
     {"batch": 1, "inputs": ["X", "s"], "query": ("s", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("scaled_dot", [], None), "outputs": ALL_OUTPUTS}),

    ("out_all_nq", """
model out_all_nq {
  dims n, m, d = 3, d_y = 17
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d]
""" + ALL_OUTPUTS_BODY % {"q": "S", "score": "dot(q, K)"},
     {"batch": 1, "inputs": ["X", "S"], "query": ("S", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("dot", [], None), "outputs": ALL_OUTPUTS}),

    # The example of docs/language.md (Bahdanau), with annotations.
    ("bahdanau", """
model bahdanau {
  dims   n_f, d_f = 64, d_q = 32, d_w = 48, d_y = 10
  batch  b
  input  X  : f32[b, n_f, d_f]
  input  s  : f32[b, d_q]
  param  W1 : f32[d_w, d_q]
  param  W2 : f32[d_w, d_f]
  param  bw : f32[d_w]
  param  w  : f32[d_w]
  param  Wc : f32[d_y, d_f]
  param  bc : f32[d_y]
  feature F = X
  query   q = s
  keys    K = F
  values  V = F
  score   e = additive(q, K; W1, W2, bw, w, act = tanh)
  align   a = softmax(e)
  context c = sum(a * V)
  output  y : f32[b, d_y] = softmax(Wc c + bc)
  output  weights : f32[b, n_f] = a
}
""", {"batch": 1, "inputs": ["X", "s"], "feature": ("X", None, None),
      "query": ("s", None, None), "keys": ("F", None, None),
      "values": ("F", None, None),
      "score": ("additive", ["W1", "W2", "bw", "w"], "tanh"),
      "outputs": [("y", "linear", "Wc", "bc", None, True), ("weights", "a")]}),

    # Weights first, then an annotated context, several queries.
    ("out_annotated_nq", """
model out_annotated_nq {
  dims n, m, d = 5, d_y = 1
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d]
  param Wc : f32[d_y, d]
  param bc : f32[d_y]
  query Q = S
  keys K = X
  values V = X
  score e = cosine(Q, K)
  align a = softmax(e)
  context c = sum(a * V)
  output A : f32[b, m, n] = a
  output y : f32[b, m, d] = c
  output z : f32[b, m, d_y] = sigmoid(Wc c + bc)
  output p : f32[b, m, 1] = softmax(Wc c + bc)
}
""", {"batch": 1, "inputs": ["X", "S"], "query": ("S", None, None),
      "keys": ("X", None, None), "values": ("X", None, None),
      "score": ("cosine", [], None),
      "outputs": [("A", "a"), ("y", "c"),
                  ("z", "linear", "Wc", "bc", "sigmoid", False),
                  ("p", "linear", "Wc", "bc", None, True)]}),
]

SIZES = [{"n": 1, "m": 1, "b": 1, "n_f": 1}, {"n": 7, "m": 3, "b": 3, "n_f": 7},
         {"n": 31, "m": 2, "b": 1, "n_f": 65}, {"n": 65, "m": 4, "b": 2, "n_f": 13},
         # n_k = 0: c = 0 and the weights are empty.
         {"n": 0, "m": 3, "b": 2, "n_f": 0}]

checker = T.Checker()
T.run_models(checker, MODELS, SIZES, seed=51, scale={"Wc": 3.0})
checker.finish()
