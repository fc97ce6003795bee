# RUN: %python %s
# Multi-head attention (survey eqs. 38-40): per-head projections [h, d_k, d],
# keys/values shared by all heads (multi-query), projections with per-head
# biases, per-head and shared score weights (additive, biased general), masks
# inside heads, a single query, h = 1; outputs concat(c), W_O concat(c) (+ b),
# projections of whole vectors (in chunks of columns, wider than 256; weights
# over 1 MiB in slabs of row blocks),
# softmax(...), and the weights a [b, h, (n_q,) n_k].

import attnc_testlib as T

MODELS = [
    # The example of docs/language.md, with awkward sizes.
    ("mha", """
model mha {
  dims  n, d = 17, h = 3, d_k = 5
  batch b
  input X  : f32[b, n, d]
  param Wq, Wk, Wv : f32[h, d_k, d]
  param Wo : f32[d, h * d_k]

  heads h {
    query   Q = Wq X
    keys    K = Wk X
    values  V = Wv X
    score   e = scaled_dot(Q, K)
    mask    causal
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output Y = Wo concat(c)
  output A = a
  output C = concat(c)
}
""", {"batch": 1, "heads": 3, "inputs": ["X"], "query": ("X", "Wq", None),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
      "score": ("scaled_dot", [], None), "causal": True,
      "outputs": [("Y", "linear", "Wo", None, None, False), ("A", "a"),
                  ("C", "c")]}),

    # Multi-query attention: K and V weights shared by the heads; cross
    # attention with lengths; biases on the projections.
    ("mqa_cross", """
model mqa_cross {
  dims  n, m, d = 4, d_s = 6, h = 2, d_k = 3, d_v = 5, d_y = 7
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d_s]
  input L : i32[b]
  param Wq : f32[h, d_k, d_s]
  param bq : f32[h, d_k]
  param Wk : f32[d_k, d]
  param bk : f32[d_k]
  param Wv : f32[d_v, d]
  param Wo : f32[d_y, h * d_v]
  param bo : f32[d_y]
  heads h {
    query   Q = Wq S + bq
    keys    K = Wk X + bk
    values  V = Wv X
    score   e = dot(Q, K)
    mask    lengths(L)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output Y = Wo concat(c) + bo
  output P = softmax(Wo concat(c) + bo)
  output A = a
}
""", {"batch": 1, "heads": 2, "inputs": ["X", "S", "L"],
      "query": ("S", "Wq", "bq"), "keys": ("X", "Wk", "bk"),
      "values": ("X", "Wv", None), "score": ("dot", [], None), "lengths": "L",
      "outputs": [("Y", "linear", "Wo", "bo", None, False),
                  ("P", "linear", "Wo", "bo", None, True), ("A", "a")]}),

    # Additive score: W1 and b per head, W2 and w shared; per-head values
    # with bias; causal and lengths.
    ("mh_additive", """
model mh_additive {
  dims  n, d = 5, h = 3, d_k = 2, d_w = 4
  batch b
  input X : f32[b, n, d]
  input L : i32[b]
  param Wq, Wk : f32[h, d_k, d]
  param Wv : f32[h, d_k, d]
  param bv : f32[h, d_k]
  param W1 : f32[h, d_w, d_k]
  param W2 : f32[d_w, d_k]
  param bw : f32[h, d_w]
  param w : f32[d_w]
  heads h {
    query   Q = Wq X
    keys    K = Wk X
    values  V = Wv X + bv
    score   e = additive(Q, K; W1, W2, bw, w, act = sigmoid)
    mask    causal, lengths(L)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
  output A = a
}
""", {"batch": 1, "heads": 3, "inputs": ["X", "L"], "query": ("X", "Wq", None),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", "bv"),
      "score": ("additive", ["W1", "W2", "bw", "w"], "sigmoid"),
      "causal": True, "lengths": "L", "outputs": [("C", "c"), ("A", "a")]}),

    # biased general with W per head and b shared; general-free single query.
    ("mh_biased_1q", """
model mh_biased_1q {
  dims  n, d = 3, h = 2, d_k = 4
  batch b
  input X : f32[b, n, d]
  input s : f32[b, d]
  param Wq, Wk, Wv : f32[h, d_k, d]
  param W : f32[h, d_k, d_k]
  param bb : f32[d_k]
  param Wo : f32[d, h * d_k]
  heads h {
    query   q = Wq s
    keys    K = Wk X
    values  V = Wv X
    score   e = biased_general(q, K; W, bb)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output y = tanh(Wo concat(c))
  output A = a
}
""", {"batch": 1, "heads": 2, "inputs": ["X", "s"], "query": ("s", "Wq", None),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
      "score": ("biased_general", ["W", "bb"], None),
      "outputs": [("y", "linear", "Wo", None, "tanh", False), ("A", "a")]}),

    # One head; features outside the heads; cosine score.
    ("mh_one_head", """
model mh_one_head {
  dims  n, d = 17, h = 1, d_k = 16
  batch b
  input X : f32[b, n, d]
  param Wf : f32[d, d]
  param bf : f32[d]
  param Wq, Wk, Wv : f32[h, d_k, d]
  feature F = Wf X + bf
  heads h {
    query   Q = Wq F
    keys    K = Wk F
    values  V = Wv F
    score   e = cosine(Q, K)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
  output A = a
}
""", {"batch": 1, "heads": 1, "inputs": ["X"], "feature": ("X", "Wf", "bf"),
      "query": ("F", "Wq", None), "keys": ("F", "Wk", None),
      "values": ("F", "Wv", None), "score": ("cosine", [], None),
      "outputs": [("C", "c"), ("A", "a")]}),
    # Additive score with W2 per head over keys and values shared by the
    # heads: the projected keys get h heads while the values keep one.
    ("mh_additive_mqa", """
model mh_additive_mqa {
  dims  n, d = 5, h = 3, d_k = 4, d_w = 6
  batch b
  input X : f32[b, n, d]
  param Wq : f32[h, d_k, d]
  param Wk, Wv : f32[d_k, d]
  param W1 : f32[d_w, d_k]
  param W2 : f32[h, d_w, d_k]
  param bw : f32[d_w]
  param w : f32[h, d_w]
  heads h {
    query   Q = Wq X
    keys    K = Wk X
    values  V = Wv X
    score   e = additive(Q, K; W1, W2, bw, w, act = tanh)
    mask    causal
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
  output A = a
}
""", {"batch": 1, "heads": 3, "inputs": ["X"], "query": ("X", "Wq", None),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
      "score": ("additive", ["W1", "W2", "bw", "w"], "tanh"),
      "causal": True, "outputs": [("C", "c"), ("A", "a")]}),
    # Inside `heads`, forms without a per-head query map (issue 5 defects):
    # the query is the input itself, a learned query, or every map is a
    # shared 2-D weight (all heads then compute the same context).
    ("mh_query_identity", """
model mh_query_identity {
  dims  n, d = 6, h = 3
  batch b
  input X : f32[b, n, d]
  param Wk, Wv : f32[h, d, d]
  param Wo : f32[d, h * d]
  heads h {
    query   Q = X
    keys    K = Wk X
    values  V = Wv X
    score   e = scaled_dot(Q, K)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output Y = Wo concat(c)
  output A = a
}
""", {"batch": 1, "heads": 3, "inputs": ["X"], "query": ("X", None, None),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
      "score": ("scaled_dot", [], None),
      "outputs": [("Y", "linear", "Wo", None, None, False), ("A", "a")]}),
    ("mh_learned_query", """
model mh_learned_query {
  dims  n, d = 5, h = 2, d_k = 3
  batch b
  input X : f32[b, n, d]
  param qv : f32[d_k]
  param Wk, Wv : f32[h, d_k, d]
  heads h {
    query   q = qv
    keys    K = Wk X
    values  V = Wv X
    score   e = dot(q, K)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
}
""", {"batch": 1, "heads": 2, "inputs": ["X"], "query": ("qv", None, None),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
      "score": ("dot", [], None), "outputs": [("C", "c")]}),
    ("mh_shared_2d", """
model mh_shared_2d {
  dims  n, d = 4, h = 3, d_k = 5
  batch b
  input X : f32[b, n, d]
  param Wq, Wk, Wv : f32[d_k, d]
  heads h {
    query   Q = Wq X
    keys    K = Wk X
    values  V = Wv X
    score   e = dot(Q, K)
    mask    causal
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
}
""", {"batch": 1, "heads": 3, "inputs": ["X"], "query": ("X", "Wq", None),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
      "score": ("dot", [], None), "causal": True, "outputs": [("C", "c")]}),

    # Projections whose outputs are whole vectors, computed a chunk of
    # columns at a time: d_k = 48 (3 vectors, blocks of 8 rows), Wz's 128
    # (2 chunks of 64, blocks of 6 rows), Wo's 320 (more than a vector
    # register file holds: 5 chunks); an input size (37) and row counts
    # that are not multiples of anything.
    ("mh_wide", """
model mh_wide {
  dims  n, d = 37, h = 2, d_k = 48, d_y = 320, d_z = 128
  batch b
  input X : f32[b, n, d]
  param Wq, Wk, Wv : f32[h, d_k, d]
  param bq : f32[h, d_k]
  param Wo : f32[d_y, h * d_k]
  param bo : f32[d_y]
  param Wz : f32[d_z, h * d_k]
  heads h {
    query   Q = Wq X + bq
    keys    K = Wk X
    values  V = Wv X
    score   e = scaled_dot(Q, K)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output Y = Wo concat(c) + bo
  output Z = Wz concat(c)
}
""", {"batch": 1, "heads": 2, "inputs": ["X"], "query": ("X", "Wq", "bq"),
      "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
      "score": ("scaled_dot", [], None),
      "outputs": [("Y", "linear", "Wo", "bo", None, False),
                  ("Z", "linear", "Wz", None, None, False)]}),

    # A feature projection whose packed weights (448 x 613 floats, over
    # 1 MiB) take slabs of 8 row blocks, chunk by chunk (7 chunks of 64):
    # 65 rows are a whole slab and a part of one. Its weights are scaled
    # (SCALE) so that the scores stay near 1: sums over 613 and 448 terms
    # of uniform [-1, 1) values would make softmax one-hot, where the
    # weights' rounding sensitivity exceeds any sensible tolerance.
    ("mh_large_weight", """
model mh_large_weight {
  dims  n, d = 613, d_f = 448, h = 2, d_k = 8
  batch b
  input X : f32[b, n, d]
  param Wl : f32[d_f, d]
  param bl : f32[d_f]
  param Ql, Kl, Vl : f32[h, d_k, d_f]
  feature F = Wl X + bl
  heads h {
    query   Q = Ql F
    keys    K = Kl F
    values  V = Vl F
    score   e = scaled_dot(Q, K)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
  output A = a
}
""", {"batch": 1, "heads": 2, "inputs": ["X"], "feature": ("X", "Wl", "bl"),
      "query": ("F", "Ql", None), "keys": ("F", "Kl", None),
      "values": ("F", "Vl", None), "score": ("scaled_dot", [], None),
      "outputs": [("C", "c"), ("A", "a")]}),

    # Projections of whole vectors over few rows: with 16384 weights or
    # more and at most 16 rows in all (b x rows: 1, 9, 2 and 5 queries of S
    # here; one row of X) they take the few-rows kernel (W read as it is,
    # dot products reduced by a register transpose), with more rows the
    # packed one; per-head and shared biases. Weights scaled (SCALE) to
    # keep the scores near 1.
    ("mh_few_rows", """
model mh_few_rows {
  dims  n, m, d = 128, d_s = 128, h = 2, d_k = 64, d_y = 128
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d_s]
  param Wqf : f32[h, d_k, d_s]
  param bqf : f32[h, d_k]
  param Wkf, Wvf : f32[h, d_k, d]
  param Wof : f32[d_y, h * d_k]
  param bof : f32[d_y]
  heads h {
    query   Q = Wqf S + bqf
    keys    K = Wkf X
    values  V = Wvf X
    score   e = scaled_dot(Q, K)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output Y = Wof concat(c) + bof
}
""", {"batch": 1, "heads": 2, "inputs": ["X", "S"],
      "query": ("S", "Wqf", "bqf"), "keys": ("X", "Wkf", None),
      "values": ("X", "Wvf", None), "score": ("scaled_dot", [], None),
      "outputs": [("Y", "linear", "Wof", "bof", None, False)]}),
    # An additive score whose W1 (per head, 2 x 128 x 64) takes the
    # few-rows kernel over the projected queries of S ([b, h, m, d_k]:
    # inputs with heads) when b x m <= 16 (1, 9, 2, 5 rows here), against keys
    # from X.
    ("mh_additive_wide", """
model mh_additive_wide {
  dims  n, m, d = 32, h = 2, d_k = 64, d_w = 128
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d]
  param Wqa, Wka, Wva : f32[h, d_k, d]
  param W1a : f32[h, d_w, d_k]
  param W2a : f32[d_w, d_k]
  param bwa : f32[h, d_w]
  param wa : f32[d_w]
  heads h {
    query   Q = Wqa S
    keys    K = Wka X
    values  V = Wva X
    score   e = additive(Q, K; W1a, W2a, bwa, wa, act = tanh)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
  output A = a
}
""", {"batch": 1, "heads": 2, "inputs": ["X", "S"], "query": ("S", "Wqa", None),
      "keys": ("X", "Wka", None), "values": ("X", "Wva", None),
      "score": ("additive", ["W1a", "W2a", "bwa", "wa"], "tanh"),
      "outputs": [("C", "c"), ("A", "a")]}),
]

SIZES = [{"n": 1, "m": 1, "b": 1}, {"n": 7, "m": 3, "b": 3},
         {"n": 13, "m": 13, "b": 2}, {"n": 31, "m": 2, "b": 1},
         {"n": 65, "m": 5, "b": 1}]

SCALE = {"Wl": 0.07, "Ql": 0.05, "Kl": 0.05, "Vl": 0.05, "Wqf": 0.1,
         "Wkf": 0.1, "Wvf": 0.1, "W1a": 0.2, "W2a": 0.2, "wa": 0.2}

checker = T.Checker()
T.run_models(checker, MODELS, SIZES, seed=61,
             overrides={"L": T.lengths_override}, scale=SCALE)
checker.finish()
