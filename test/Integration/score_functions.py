# RUN: %python %s
# Every score function of the survey's Table 2 (additive and activated general
# with each activation, and their default act = tanh), without masks, several
# queries and a single query, compared with the double-precision reference on
# awkward sizes. All models are in one .attn file.

import attnc_testlib as T

KINDS = [
    ("additive", None), ("additive", "tanh"), ("additive", "relu"),
    ("additive", "sigmoid"), ("additive", "identity"),
    ("dot", None), ("scaled_dot", None), ("general", None),
    ("biased_general", None),
    ("activated_general", None), ("activated_general", "tanh"),
    ("activated_general", "relu"), ("activated_general", "sigmoid"),
    ("activated_general", "identity"),
    ("cosine", None),
]

# (n_q, n_k, b): n_k = 1, primes, sizes not multiples of 16/64, n_q = 1.
SIZES = [(1, 1, 1), (3, 7, 3), (1, 13, 2), (5, 31, 1), (2, 67, 1), (2, 130, 1)]

models = []
for kind, act in KINDS:
    name = "%s_%s" % (kind, act or "default")
    src, spec = T.score_model(name, kind, act)
    models.append((name, src, spec))
    # The same score with a single query per batch entry.
    name1 = name + "_1q"
    src, spec = T.score_model(name1, kind, act, single_query=True)
    models.append((name1, src, spec))

# Other static dimensions: d = d_q = 1 and d = 3, d_q = 17.
for kind in ("additive", "general", "biased_general", "activated_general",
             "dot", "scaled_dot", "cosine"):
    name = kind + "_d1"
    src, spec = T.score_model(name, kind, None, d=1, d_q=1, d_w=1)
    models.append((name, src, spec))
    name = kind + "_d3"
    src, spec = T.score_model(name, kind, None, d=3, d_q=17, d_w=16)
    models.append((name, src, spec))
# activated_general with b : f32[1] instead of a scalar.
src, spec = T.score_model("activated_general_b1", "activated_general", "sigmoid",
                          bias_shape="1")
models.append(("activated_general_b1", src, spec))

# Scores are O(1..5) with these data; scale some weights up so that softmax is
# peaked (tests the max-subtraction) without overflowing anything.
SCALE = {"W": 2.0, "w": 3.0}


def sizes(name):
    # A single query, or other static dims: fewer sizes, the same coverage of
    # n_k (1, a prime, a multiple-tile size).
    if name.endswith(("_1q", "_d1", "_d3", "_b1")):
        return [{"n_q": nq, "n_k": nk, "b": b}
                for nq, nk, b in (SIZES[0], SIZES[1], SIZES[4])]
    return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in SIZES]


def overrides(name):
    # cosine: some keys and queries have a zero norm (score 0).
    if name.startswith("cosine"):
        return {"X": T.zero_rows(3), "S": T.zero_rows(2), "s": T.zero_rows(2)}
    return None


checker = T.Checker()
T.run_models(checker, models, sizes, seed=11, overrides=overrides, scale=SCALE)
checker.finish()
