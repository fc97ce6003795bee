# RUN: %python %s
# Gallery 7: examples/survey/transformer_encoder.attn (Vaswani et al. 2017,
# one post-norm encoder layer: multi-head self-attention with source padding
# + residual + layer_norm + FFN + residual + layer_norm) against
# survey_reference.transformer_encoder (float64). Lengths cycle through
# n/2, 0, n, -3, n+5 (clamped), 1, n-1.
# Sizes: n = 1, 0, 5, 17, 67, 129, batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("transformer_encoder.attn", [{
    "name": "transformer_encoder",
    "ref": R.transformer_encoder,
    "abi": ["X", "L", "W1", "b1", "W2", "b2", "g1", "beta1", "g2", "beta2",
            "attn_Wq", "attn_Wk", "attn_Wv", "attn_Wo", "Y"],
    "sizes": [{"b": 1, "n": 1}, {"b": 2, "n": 0}, {"b": 3, "n": 5},
              {"b": 2, "n": 17}, {"b": 1, "n": 67}, {"b": 1, "n": 129},
              {"b": 0, "n": 3}],
    "overrides": {"L": R.lengths_of("n")},
    "scale": {"attn_Wq": 0.4, "attn_Wk": 0.4, "attn_Wv": 0.4,
              "attn_Wo": 0.3, "W1": 0.3, "W2": 0.3},
}])
