# RUN: %python %s
# Key splits: when batch x heads x query tiles (of 8 queries) are fewer than
# 16, a dot or cosine softmax without a weights output also splits its keys
# in chunks of at least 512 keys (whole key tiles of 128), computed in
# parallel and merged in split order. Sizes where it splits (n_k > 512:
# 2 to 16 splits) and where it does not (n_k <= 512; 16 tiles or more),
# one query and several, causal and lengths masks (rows and whole splits
# that see no key: lengths 0, n_k / 2, beyond n_k), the interval masks
# (windows, causal offsets, prefixes) with the log-sum-exp, and general,
# cosine (zero rows) and scaled dot, against the float64 reference; the
# same models compiled with --split-keys=false give the same checks.

import os

import attnc_testlib as T
import interval_mask_suite as S

checker = T.Checker()

# (n_q, n_k, b): 1 split below 513 keys; 2, 3, 10 (n_k / 512) and 16
# (enough tiles) splits; 17 tiles at b = 1, n_q = 130: no split.
SIZES = [{"n_q": 1, "n_k": 513, "b": 1}, {"n_q": 5, "n_k": 1100, "b": 2},
         {"n_q": 17, "n_k": 1537, "b": 1}, {"n_q": 3, "n_k": 5000, "b": 1},
         {"n_q": 1, "n_k": 9000, "b": 1}, {"n_q": 130, "n_k": 700, "b": 1},
         {"n_q": 9, "n_k": 512, "b": 3}]
MODELS = []
for kind in ("scaled_dot", "general", "cosine"):
    for causal, lengths in ((False, False), (True, False), (False, True),
                            (True, True)):
        name = "%s_%s%s" % (kind, "c" if causal else "", "l" if lengths else "")
        src, spec = T.score_model(name, kind, causal=causal, lengths=lengths,
                                  d=16, weights=False)
        MODELS.append((name, src, spec))
overrides = {"L": T.lengths_override, "X": T.zero_rows(5)}
T.run_models(checker, MODELS, SIZES, seed=3, overrides=overrides)

# The interval masks with the log-sum-exp (no weights output, so they
# split), on sizes that split.
CONFIGS = [c for c in S.CONFIGS
           if c[0] in ("w16", "w200", "cm3", "cp2", "pre", "w20cm2",
                       "w70cl", "prel", "precm2")]
S.run(configs=CONFIGS, kinds=[("scaled_dot", None)], seed=5,
      sizes=[(3, 1500, 1), (11, 1030, 2)], huge=False, lse=True,
      weights=False, single=False, checker=checker)
checker.finish()
