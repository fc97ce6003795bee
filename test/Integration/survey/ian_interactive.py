# RUN: %python %s
# Gallery 14: examples/survey/ian_interactive.attn (Ma et al. 2017, IAN:
# each side's mean queries the other side, in parallel; output concat and
# softmax(tanh(W d + b))) against survey_reference.ian_interactive (float64).
# Sizes: context / target of 1, primes, 67 words (both need a word: the
# queries are means); batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("ian_interactive.attn", [{
    "name": "ian_interactive",
    "ref": R.ian_interactive,
    "abi": ["Hc", "Ht", "Wl", "bl", "ctx_W", "ctx_bs",
            "tgt_W", "tgt_bs", "d_rep", "y"],
    "sizes": [{"b": 1, "n_c": 1, "n_t": 1}, {"b": 2, "n_c": 7, "n_t": 2},
              {"b": 3, "n_c": 13, "n_t": 1}, {"b": 2, "n_c": 31, "n_t": 5},
              {"b": 1, "n_c": 67, "n_t": 3}, {"b": 0, "n_c": 2, "n_t": 2}],
    "scale": {"ctx_W": 0.5, "tgt_W": 0.5, "Wl": 0.5},
}])
