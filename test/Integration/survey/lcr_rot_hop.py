# RUN: %python %s
# Gallery 9: examples/survey/lcr_rot_hop.attn (Zheng & Jiang 2018 /
# Wallaart & Frasincar 2019, LCR-Rot-hop: rotatory attention repeated over
# 3 hops with shared weights) against survey_reference.lcr_rot_hop (float64).
# Sizes: contexts of 1, 0 (left or right: c = 0), primes, 67 words; target
# of 1..5 words (mean(F_t) needs one; with one word the hops coincide);
# batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("lcr_rot_hop.attn", [{
    "name": "lcr_rot_hop",
    "ref": R.lcr_rot_hop,
    "abi": ["Fl", "Ft", "Fr", "Wy", "by",
            "left_W", "left_bs", "right_W", "right_bs",
            "left_t_W", "left_t_bs", "right_t_W", "right_t_bs",
            "r", "p"],
    "sizes": [{"b": 1, "n_l": 1, "n_t": 1, "n_r": 1},
              {"b": 2, "n_l": 0, "n_t": 2, "n_r": 5},
              {"b": 2, "n_l": 7, "n_t": 3, "n_r": 0},
              {"b": 3, "n_l": 13, "n_t": 4, "n_r": 17},
              {"b": 1, "n_l": 67, "n_t": 5, "n_r": 31},
              {"b": 0, "n_l": 2, "n_t": 1, "n_r": 2}],
    "scale": {"left_W": 0.5, "right_W": 0.5, "left_t_W": 0.5,
              "right_t_W": 0.5, "Wy": 0.5},
}])
