# RUN: %python %s
# Gallery 8: examples/survey/transformer_decoder.attn (Vaswani et al. 2017,
# one post-norm decoder layer: causal multi-head self-attention, multi-head
# cross-attention over an encoder memory with source lengths, FFN, each with
# a residual and layer_norm) against survey_reference.transformer_decoder
# (float64).
# Sizes: target / source lengths 1, 0 (either), primes, 67, batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

W = ["Wq", "Wk", "Wv", "Wo"]
R.main("transformer_decoder.attn", [{
    "name": "transformer_decoder",
    "ref": R.transformer_decoder,
    "abi": ["Y", "M", "Ls", "W1", "b1", "W2", "b2",
            "g1", "beta1", "g2", "beta2", "g3", "beta3"] +
           ["self_attn_" + w for w in W] + ["cross_attn_" + w for w in W] +
           ["Z"],
    "sizes": [{"b": 1, "n_t": 1, "n_s": 1}, {"b": 2, "n_t": 0, "n_s": 3},
              {"b": 2, "n_t": 4, "n_s": 0}, {"b": 3, "n_t": 7, "n_s": 13},
              {"b": 1, "n_t": 19, "n_s": 67}, {"b": 0, "n_t": 2, "n_s": 2}],
    "overrides": {"Ls": R.lengths_of("n_s")},
    "scale": dict([(p + w, 0.4) for p in ("self_attn_", "cross_attn_")
                   for w in W] + [("W1", 0.3), ("W2", 0.3)]),
}])
