# RUN: %python %s
# Gallery 5: examples/survey/lu_parallel_coattention.attn (Lu et al. 2016,
# parallel co-attention with the affinity matrix C = tanh(Q W_b V^T), survey
# eqs. 12, 14, 15) against survey_reference.lu_parallel_coattention
# (float64), both the output and the affinity matrix.
# Sizes: question / image lengths 1, 0 (on either side), primes, 49, 67,
# batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("lu_parallel_coattention.attn", [{
    "name": "lu_parallel_coattention",
    "ref": R.lu_parallel_coattention,
    "abi": ["Q", "I", "Wb", "Wq", "Wv", "img_w", "ques_w", "y", "affinity"],
    "sizes": [{"b": 1, "T": 1, "N": 1}, {"b": 2, "T": 0, "N": 5},
              {"b": 2, "T": 7, "N": 0}, {"b": 3, "T": 11, "N": 49},
              {"b": 1, "T": 23, "N": 67}, {"b": 0, "T": 2, "N": 3}],
    "scale": {"Wb": 0.3, "Wq": 0.3, "Wv": 0.3},
}])
