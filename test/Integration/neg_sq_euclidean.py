# RUN: %python %s
# score e = neg_sq_euclidean(q, K) = -|q - k_l|^2 (survey Table 2,
# similarity) against the double-precision reference (reference.py,
# score_neg_sq_euclidean): several queries and a single one, d = 1, 16 (one
# vector) and 17 (scalar loops), no mask, causal, lengths, both, and the
# interval masks (window, causal(offset), prefix, with lengths) with the
# weights and the log-sum-exp; sizes n_k = 1, empty, primes, 17, 63/64/65
# around the key tile, 130; huge values (|x| ~ 1e3: scores ~ -1e7, softmax
# one-hot on the nearest key; a query equal to a key has score exactly 0).

import attnc_testlib as T
import interval_mask_suite as S

KIND = "neg_sq_euclidean"
checker = T.Checker()

models = []
for mname, causal, lengths in [("full", False, False), ("causal", True, False),
                               ("len", False, True), ("causal_len", True, True)]:
    for d in (16, 17):
        name = "nse_%s_d%d" % (mname, d)
        src, spec = T.score_model(name, KIND, causal=causal, lengths=lengths, d=d)
        models.append((name, src, spec))
        name1 = name + "_1q"
        src, spec = T.score_model(name1, KIND, causal=causal, lengths=lengths,
                                  d=d, single_query=True)
        models.append((name1, src, spec))
src, spec = T.score_model("nse_d1", KIND, d=1)
models.append(("nse_d1", src, spec))

# (n_q, n_k, b)
SIZES = [(1, 1, 1), (3, 0, 2), (0, 4, 1), (3, 7, 3), (5, 13, 2), (17, 17, 2),
         (7, 63, 1), (64, 64, 1), (9, 65, 2), (2, 130, 1)]
SIZES_1Q = [(1, 1, 1), (1, 0, 2), (1, 17, 3), (1, 64, 1), (1, 65, 2)]


def sizes(name):
    chosen = SIZES_1Q if name.endswith("_1q") else SIZES
    return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in chosen]


T.run_models(checker, models, sizes, seed=71,
             overrides={"L": T.lengths_override})

# Huge values: every score ~ -1e7, far beyond exp's range; only the
# running maximum keeps the softmax finite.
huge = [m for m in models if m[0] in ("nse_causal_len_d17", "nse_full_d16",
                                      "nse_full_d16_1q")]
T.run_models(checker, huge, lambda n: sizes(n)[3:],
             seed=83, overrides={"L": T.lengths_override},
             scale={"X": 1000.0, "S": 1000.0, "s": 1000.0})


# A query equal to a key (score exactly 0 beside scores of -1e6 and less):
# S is X itself (n_q = n_k).
def copy_of_x(shape, rng, dims):
    r = __import__("random").Random(dims["n_k"] * 7 + dims["b"])
    return [1000.0 * r.uniform(-1, 1) for _ in range(T.prod(shape))]


same = [m for m in models if m[0] == "nse_full_d17"]
T.run_models(checker, same, [{"n_q": n, "n_k": n, "b": 2} for n in (1, 5, 65)],
             seed=89, overrides={"X": copy_of_x, "S": copy_of_x})

# The interval masks, with the weights and the log-sum-exp.
configs = [c for c in S.CONFIGS if c[0] in ("w1", "w16", "w64", "cm3", "pre",
                                             "w5c", "w70cl", "prel")]
S.run(configs=configs, kinds=[(KIND, None)], seed=97, huge=False,
      checker=checker)
checker.finish()
