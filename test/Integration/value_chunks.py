# RUN: %python %s
# Pass 3 of the blocked f32 kernel takes the value columns in chunks of up
# to 3 vectors of 16 per query row (24 accumulators at a query tile of 8),
# as even as they can be: d_v = 48 one chunk, 80 as 48 + 32, 112 as
# 48 + 48 + 16, 128 as 48 + 48 + 32, 144 as 3 x 48, 256 as 5 x 48 + 16; 32
# and 64 as before. On AVX2 (a query tile of 6, chunks of up to 2 vectors
# of 8) d_v = 24 is 16 + 8 and 40 is 16 + 16 + 8: the value tiles packed
# with a narrower last chunk (AVX-512 reads those rows in place: not whole
# vectors of 16). scaled_dot folds its constant scale into the
# exponential (pass 1 keeps the raw products), dot has none. Each against
# the float64 reference, with key counts around the tile (128) and query
# counts around the tile (8), causal and with lengths.

import attnc_testlib as T

models = []
for d in (24, 32, 40, 48, 64, 80, 112, 128, 144, 256):
    for kind in ("scaled_dot", "dot"):
        for mname, causal, lengths in (("none", False, False),
                                       ("causal", True, False),
                                       ("lengths", False, True)):
            if kind == "dot" and mname != "none":
                continue
            name = "vc_%s_d%d_%s" % (kind, d, mname)
            src, spec = T.score_model(name, kind, causal=causal,
                                      lengths=lengths, d=d, weights=False)
            models.append((name, src, spec))

# (n_q, n_k, b)
SIZES = [(1, 1, 1), (9, 130, 1), (8, 128, 2), (17, 257, 1), (3, 5, 2)]


def sizes(name):
    return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in SIZES]


checker = T.Checker()
T.run_models(checker, models, sizes, seed=61,
             overrides={"L": T.lengths_override})
checker.finish()
