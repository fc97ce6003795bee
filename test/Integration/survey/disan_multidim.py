# RUN: %python %s
# Gallery 16: examples/survey/disan_multidim.attn (Shen et al. 2018, DiSAN:
# forward directional multi-dimensional token2token attention, fusion gate,
# multi-dimensional source2token pooling; survey eqs. 30-32) against
# survey_reference.disan_forward (float64).
# Sizes: n = 1, 0, 7, 17, 64, batch 0; lengths include 0 and past n.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R


def lengths(shape, rng, dims):
    picks = [0, dims["n"] + 2, -1]
    return [picks[i] if i < 3 else rng.randint(0, dims["n"])
            for i in range(shape[0])]


R.main("disan_multidim.attn", [{
    "name": "disan_forward",
    "ref": R.disan_forward,
    "abi": ["H", "L", "Wf1", "Wf2", "bf",
            "t2t_W1", "t2t_W2", "t2t_b1", "t2t_Wd",
            "s2t_qs", "s2t_W1", "s2t_W2", "s2t_b1", "s2t_Wd", "U", "z"],
    "sizes": [{"b": 1, "n": 1}, {"b": 2, "n": 0}, {"b": 4, "n": 7},
              {"b": 5, "n": 17}, {"b": 2, "n": 64}, {"b": 0, "n": 3}],
    "scale": {"t2t_Wd": 3.0, "s2t_Wd": 3.0, "t2t_W1": 0.5, "t2t_W2": 0.5},
    "overrides": {"L": lengths},
}])
