# RUN: %python %s
# The causal mask with every score function (aligned at the bottom right:
# l <= i + n_k - n_q); several queries (n_q < n_k, = n_k, > n_k, so that
# some rows see no key) and a single query (which sees every key).
# score_masks_lengths.py: lengths, and causal with lengths.

import attnc_testlib as T

KINDS = [("additive", "sigmoid"), ("dot", None), ("scaled_dot", None),
         ("general", None), ("biased_general", None),
         ("activated_general", "relu"), ("cosine", None)]
MASKS = [("causal", True, False)]

models = []
for kind, act in KINDS:
    for mname, causal, lengths in MASKS:
        name = "%s_%s" % (kind, mname)
        src, spec = T.score_model(name, kind, act, causal=causal, lengths=lengths)
        models.append((name, src, spec))
        name1 = name + "_1q"
        src, spec = T.score_model(name1, kind, act, causal=causal,
                                  lengths=lengths, single_query=True)
        models.append((name1, src, spec))

# (n_q, n_k, b)
SIZES = [(1, 1, 1), (3, 7, 3), (7, 7, 2), (13, 5, 2), (4, 31, 3), (2, 67, 3),
         (3, 130, 3)]
BIG = [(65, 65, 1)]  # one square causal case spanning two 64-row tiles


def sizes(name):
    if name.endswith("_1q"):  # n_q does not matter
        chosen = [SIZES[0], SIZES[1], SIZES[5], SIZES[6]]
    else:
        chosen = SIZES + (BIG if "causal" in name else [])
    return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in chosen]


def overrides(name):
    ov = {"L": T.lengths_override}
    if name.startswith("cosine"):
        ov.update({"X": T.zero_rows(3), "S": T.zero_rows(2), "s": T.zero_rows(2)})
    return ov


checker = T.Checker()
T.run_models(checker, models, sizes, seed=23, overrides=overrides,
             scale={"W": 2.0, "w": 3.0})
checker.finish()
