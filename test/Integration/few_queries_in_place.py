# RUN: %python %s
# A static n_q of 2 to 8 makes one query tile per head, and that tile
# reads the keys in place (BlockedDot.cpp: each row its own accumulators
# and tree of shuffles, no key panels). Checked against the float64
# reference for the dot, scaled-dot and cosine scores (zero keys: a cosine
# of 0), d = 5, 16 and 128 (a part vector, one, eight), n_k = 0, 1, 33 and
# 130 (a cut-off last key tile), 1-3 heads and batches, with and without
# the causal mask (the rows of a tile see different keys), and the weights
# output beside the context.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import attnc_testlib as T


checker = T.Checker()
for score in ("scaled_dot", "cosine", "dot"):
    for nq in (2, 3, 8):
        for d in (5, 16, 128):
            for causal in (False, True):
                name = "few_%s_%d_%d_%d" % (score, nq, d, causal)
                source, spec = T.dot_model(name, "f32", d, d, causal=causal,
                                           score=score, nq=nq, weights=True)
                for i, (nk, b, h) in enumerate([(1, 1, 1), (33, 2, 3),
                                                (130, 1, 2), (0, 1, 1)]):
                    checker.case(
                        source, name, spec,
                        {"b": b, "h": h, "n_k": nk}, seed=i,
                        label="static n_q=%d %s d=%d causal=%d" % (
                            nq, score, d, causal),
                        overrides=({"K": T.zero_rows(5)}
                                   if score == "cosine" else None))
checker.finish()
