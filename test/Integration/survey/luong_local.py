# RUN: %python %s
# Gallery: examples/survey/luong_local.attn (Luong et al. 2015, local
# attention, survey eqs. 27-29): local-m (a window |s - t| <= 3: a key band)
# and local-p (the predicted position p_t = n_s sigmoid(v_p^T tanh(W_p h_t)),
# the window around it and the Gaussian prior, not renormalized; the
# weights output) against survey_reference.luong_local_m / luong_local_p
# (float64). Windows that run off either end, n_s = 1, primes, a source
# shorter than the window, empty target, batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

SIZES = [{"b": 1, "n_t": 1, "n_s": 1}, {"b": 2, "n_t": 13, "n_s": 13},
         {"b": 1, "n_t": 7, "n_s": 29}, {"b": 3, "n_t": 17, "n_s": 5},
         {"b": 1, "n_t": 66, "n_s": 67}, {"b": 2, "n_t": 0, "n_s": 4},
         {"b": 0, "n_t": 3, "n_s": 3}]
SCALE = {"Wa": 0.5, "Wc": 0.4, "Ws": 0.5, "Wp": 0.8}

R.main("luong_local.attn", [
    {"name": "luong_local_m", "ref": R.luong_local_m,
     "abi": ["Hs", "Ht", "Wa", "Wc", "Ws", "y"],
     "sizes": SIZES, "scale": SCALE},
    {"name": "luong_local_p", "ref": R.luong_local_p,
     "abi": ["Hs", "Ht", "Wp", "vp", "Wa", "Wc", "Ws", "y", "A"],
     "sizes": SIZES, "scale": SCALE},
])
