# RUN: %python %s
# Gallery 11: examples/survey/memn2n.attn (Sukhbaatar et al. 2015, end-to-end
# memory network, 3 hops: adjacent weight tying with W^T = C^3, and
# layer-wise tying through `hops`) against survey_reference.memn2n_adjacent /
# memn2n_layerwise (float64).
# Sizes: n = 1, 0 (o = 0 every hop), primes, 50, 67, batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

SIZES = [{"b": 1, "n": 1}, {"b": 2, "n": 0}, {"b": 3, "n": 7},
         {"b": 2, "n": 50}, {"b": 1, "n": 67}, {"b": 0, "n": 2}]

R.main("memn2n.attn", [
    {"name": "memn2n_adjacent", "ref": R.memn2n_adjacent,
     "abi": ["X", "q", "A1", "A2", "A3", "A4", "y"],
     "sizes": SIZES,
     "scale": {"A1": 0.3, "A2": 0.3, "A3": 0.3, "A4": 0.3}},
    {"name": "memn2n_layerwise", "ref": R.memn2n_layerwise,
     "abi": ["X", "q", "A", "C", "B", "H", "W", "y"],
     "sizes": SIZES,
     "scale": {"A": 0.3, "C": 0.3, "B": 0.3, "H": 0.3, "W": 0.5}},
])
