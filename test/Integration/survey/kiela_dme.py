# RUN: %python %s
# Gallery 10: examples/survey/kiela_dme.attn (Kiela et al. 2018, dynamic
# meta-embeddings: per-embedding projections W : [E, d, d_e] of
# X : [b, n, E, d_e], attention over the E representations of each token
# with a learned query) against survey_reference.kiela_dme (float64).
# Sizes: n = 1, 0, primes, 67, batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("kiela_dme.attn", [{
    "name": "kiela_dme",
    "ref": R.kiela_dme,
    "abi": ["X", "P", "bp", "av", "m", "weights"],
    "sizes": [{"b": 1, "n": 1}, {"b": 2, "n": 0}, {"b": 3, "n": 7},
              {"b": 2, "n": 17}, {"b": 1, "n": 67}, {"b": 0, "n": 3}],
    "scale": {"P": 0.6},
}])
