# RUN: %python %s
# Gallery 15: examples/survey/gqa.attn (Ainslie et al. 2023, grouped-query
# attention: 8 query heads, 2 key/value heads, Wk, Wv : [g, d_k, d]; query
# head j uses key/value head j / (h / g)) against survey_reference.gqa
# (float64), causal.
# Sizes: n = 1, 0, primes, 67, 130 (three 64-key tiles), batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("gqa.attn", [{
    "name": "gqa",
    "ref": R.gqa,
    "abi": ["X", "Wq", "Wk", "Wv", "Wo", "Y"],
    "sizes": [{"b": 1, "n": 1}, {"b": 2, "n": 0}, {"b": 3, "n": 7},
              {"b": 2, "n": 17}, {"b": 1, "n": 67}, {"b": 1, "n": 130},
              {"b": 0, "n": 3}],
    "scale": {"Wq": 0.5, "Wk": 0.5, "Wv": 0.5, "Wo": 0.3},
}])
