# RUN: %python %s
# Gallery 13: examples/survey/attention_via_attention.attn (Zhao & Zhang
# 2018: word-level attention gives c_w, character-level attention with the
# query concat(q_c, c_w) gives c_c; output concat(c_w, c_c)) against
# survey_reference.attention_via_attention (float64).
# Sizes: words / characters 1, 0 (either), primes, 67, batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("attention_via_attention.attn", [{
    "name": "attention_via_attention",
    "ref": R.attention_via_attention,
    "abi": ["Fw", "Fc", "qw", "qc", "Ww", "Uw", "bw", "vw",
            "Wc", "Uc", "bc", "vc", "y"],
    "sizes": [{"b": 1, "n_w": 1, "n_c": 1}, {"b": 2, "n_w": 0, "n_c": 5},
              {"b": 2, "n_w": 7, "n_c": 0}, {"b": 3, "n_w": 13, "n_c": 29},
              {"b": 1, "n_w": 67, "n_c": 3}, {"b": 0, "n_w": 2, "n_c": 2}],
    "scale": {"Ww": 0.5, "Uw": 0.5, "Wc": 0.5, "Uc": 0.5},
}])
