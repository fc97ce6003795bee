# RUN: %python %s
# Gallery 4: examples/survey/lu_alternating_coattention.attn (Lu et al. 2016,
# alternating co-attention, survey eqs. 7-9) against
# survey_reference.lu_alternating_coattention (float64).
# Sizes: question / image lengths 1, 0 (on either side), primes, 49, 67,
# batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("lu_alternating_coattention.attn", [{
    "name": "lu_alternating_coattention",
    "ref": R.lu_alternating_coattention,
    "abi": ["Q", "I",
            "step1_Wx", "step1_bx", "step1_w",
            "step2_Wg", "step2_Wx", "step2_bh", "step2_w",
            "step3_Wg", "step3_Wx", "step3_bh", "step3_w",
            "y"],
    "sizes": [{"b": 1, "T": 1, "N": 1}, {"b": 2, "T": 0, "N": 5},
              {"b": 2, "T": 7, "N": 0}, {"b": 3, "T": 11, "N": 49},
              {"b": 1, "T": 23, "N": 67}, {"b": 0, "T": 2, "N": 3}],
    "scale": {n: 0.5 for n in ["step1_Wx", "step2_Wg", "step2_Wx",
                               "step3_Wg", "step3_Wx"]},
}])
