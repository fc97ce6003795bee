# RUN: %python %s
# Gallery 1: examples/survey/bahdanau_deep_output.attn (Bahdanau et al. 2015,
# additive attention with a deep output) against
# survey_reference.bahdanau_deep_output (float64), through the C ABI.
# Sizes: source length 1, 0 (c = 0), primes, 67 (> 64 keys), batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("bahdanau_deep_output.attn", [{
    "name": "bahdanau_deep_output",
    "ref": R.bahdanau_deep_output,
    "abi": ["X", "s", "Wa", "Ua", "ba", "va", "Wo", "Uo", "bo", "Wy",
            "y", "weights"],
    "sizes": [{"b": 1, "n": 1}, {"b": 2, "n": 0}, {"b": 3, "n": 7},
              {"b": 2, "n": 31}, {"b": 1, "n": 67}, {"b": 0, "n": 5}],
    "scale": {"Wa": 0.5, "Ua": 0.5, "Wo": 0.5, "Uo": 0.5, "Wy": 0.7},
}])
