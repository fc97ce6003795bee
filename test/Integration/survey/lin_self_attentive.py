# RUN: %python %s
# Gallery 16: examples/survey/lin_self_attentive.attn (Lin et al. 2017,
# structured self-attentive sentence embedding: A = softmax(W_s2 tanh(W_s1
# H^T)), M = A H, r = 4 query-less score vectors; survey eq. 33 and its
# learned-query form 34; and eq. 33 itself with a bias) against
# survey_reference.lin_self_attentive and query_less (float64).
# Lengths cycle through n/2, 0, n, -3, n+5 (clamped), 1, n-1.
# Sizes: n = 1, 0 (M = 0, A = 0), primes, 17, 63/64/65 around the key tile,
# batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

SIZES = [{"b": 1, "n": 1}, {"b": 2, "n": 0}, {"b": 3, "n": 7},
         {"b": 2, "n": 17}, {"b": 1, "n": 63}, {"b": 2, "n": 64},
         {"b": 1, "n": 65}, {"b": 0, "n": 3}]

R.main("lin_self_attentive.attn", [{
    "name": "lin_self_attentive",
    "ref": R.lin_self_attentive,
    "abi": ["H", "L", "Ws1", "Ws2", "Wc", "bc", "emb", "A", "p"],
    "sizes": SIZES,
    "overrides": {"L": R.lengths_of("n")},
    "scale": {"Ws1": 0.7, "Ws2": 2.0},
}, {
    "name": "query_less",
    "ref": R.query_less,
    "abi": ["X", "W", "bw", "w", "y"],
    "sizes": SIZES,
    "scale": {"w": 2.0},
}])
