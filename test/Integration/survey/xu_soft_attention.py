# RUN: %python %s
# Gallery 3: examples/survey/xu_soft_attention.attn (Xu et al. 2015, soft
# attention with the gate beta = sigmoid(w_b^T h + b_b), z = beta c) against
# survey_reference.xu_soft_attention (float64).
# Sizes: L = 1, 0, 13, 49 (7 x 7), 196 (14 x 14, as in the paper), batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("xu_soft_attention.attn", [{
    "name": "xu_soft_attention",
    "ref": R.xu_soft_attention,
    "abi": ["A", "h", "Wh", "Wa", "ba", "wa", "w_beta", "b_beta",
            "z", "gate", "weights"],
    "sizes": [{"b": 1, "L": 1}, {"b": 2, "L": 0}, {"b": 2, "L": 13},
              {"b": 3, "L": 49}, {"b": 1, "L": 196}, {"b": 0, "L": 3}],
    "scale": {"Wh": 0.5, "Wa": 0.5, "w_beta": 0.5},
}])
