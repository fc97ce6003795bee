# RUN: %python %s
# Gallery 2: examples/survey/luong_global.attn (Luong et al. 2015, global
# attention with dot and general scores and the concat output
# h~ = tanh(W_c [c; h_t])) against survey_reference.luong_dot /
# luong_general (float64), with source lengths (0, clamped, partial).
# Sizes: n = 1, 0, primes, 66, batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

SIZES = [{"b": 1, "n": 1}, {"b": 3, "n": 0}, {"b": 7, "n": 13},
         {"b": 2, "n": 17}, {"b": 3, "n": 66}, {"b": 0, "n": 4}]
LEN = {"L": R.lengths_of("n")}
SCALE = {"Wa": 0.5, "Wc": 0.4, "Ws": 0.5}

R.main("luong_global.attn", [
    {"name": "luong_dot", "ref": R.luong_dot,
     "abi": ["Hs", "ht", "L", "Wc", "Ws", "h_tilde", "y"],
     "sizes": SIZES, "overrides": LEN, "scale": SCALE},
    {"name": "luong_general", "ref": R.luong_general,
     "abi": ["Hs", "ht", "L", "Wa", "Wc", "Ws", "h_tilde", "y"],
     "sizes": SIZES, "overrides": LEN, "scale": SCALE},
])
