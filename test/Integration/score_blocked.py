# RUN: %python %s
# The dot-product family without a weights output: with static sizes these
# take the blocked kernel (blocks of 4 queries, keys transposed in panels
# of 16, see AttnToLoops.cpp). Query counts around the block size (1..5, 9),
# key counts around the panel and tile sizes (1, 15, 16, 17, 63..65, 130),
# causal with n_q < n_k, = n_k and > n_k, lengths, d = 17 (not a multiple of
# the vector width) and d = 1.

import attnc_testlib as T

KINDS = [("dot", None), ("scaled_dot", None), ("general", None),
         ("biased_general", None), ("activated_general", "tanh"),
         ("activated_general", "sigmoid")]
MASKS = [("none", False, False), ("causal", True, False),
         ("lengths", False, True), ("both", True, True)]

models = []
for kind, act in KINDS:
    for mname, causal, lengths in MASKS:
        name = "blk_%s_%s_%s" % (kind, act or "id", mname)
        src, spec = T.score_model(name, kind, act, causal=causal,
                                  lengths=lengths, weights=False)
        models.append((name, src, spec))
    name = "blk_%s_%s_1q" % (kind, act or "id")
    src, spec = T.score_model(name, kind, act, causal=True, single_query=True,
                              weights=False)
    models.append((name, src, spec))
# d = 1 and a tiny d_q.
src, spec = T.score_model("blk_dot_d1", "dot", causal=True, d=1, weights=False)
models.append(("blk_dot_d1", src, spec))

# (n_q, n_k, b)
SIZES = [(1, 1, 1), (2, 15, 2), (3, 16, 1), (4, 17, 3), (5, 5, 2), (9, 64, 1),
         (5, 65, 2), (7, 130, 1), (70, 65, 1), (0, 3, 1), (3, 0, 2)]


def sizes(name):
    return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in SIZES]


checker = T.Checker()
T.run_models(checker, models, sizes, seed=43,
             overrides={"L": T.lengths_override}, scale={"W": 2.0})
checker.finish()
