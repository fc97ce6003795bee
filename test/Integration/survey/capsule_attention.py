# RUN: %python %s
# Gallery 12: examples/survey/capsule_attention.attn (Wang et al. 2018,
# capsule attention: per-class learned queries, p_c = sigmoid(w_c^T c_c + b_c),
# r_c = p_c c_c; survey eqs. 43-45) against survey_reference.capsule_attention
# (float64).
# Sizes: n = 1, 0 (c = 0, p = sigmoid(b_c)), primes, 67, batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("capsule_attention.attn", [{
    "name": "capsule_attention",
    "ref": R.capsule_attention,
    "abi": ["Hs", "Qc", "Wp", "bp", "prob", "r"],
    "sizes": [{"b": 1, "n": 1}, {"b": 2, "n": 0}, {"b": 3, "n": 7},
              {"b": 2, "n": 31}, {"b": 1, "n": 67}, {"b": 0, "n": 2}],
}])
