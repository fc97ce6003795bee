# RUN: %python %s
# Gallery 6: examples/survey/yang_han.attn (Yang et al. 2016, hierarchical
# attention network: word level then sentence level, padded [b, s, w, d]
# with word counts [b, s] and sentence counts [b]) against
# survey_reference.yang_han (float64). Counts cycle through n/2, 0, n, -3,
# n+5 (clamped), 1, n-1.
# Sizes: 1 sentence of 1 word, no word, no sentence, primes, 67 words,
# batch 0.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import survey_reference as R

R.main("yang_han.attn", [{
    "name": "yang_han",
    "ref": R.yang_han,
    "abi": ["H", "Lw", "Ls", "Wc", "bc",
            "word_W", "word_bw", "word_u",
            "sentence_W", "sentence_bw", "sentence_u",
            "p", "doc"],
    "sizes": [{"b": 1, "n_s": 1, "n_w": 1}, {"b": 2, "n_s": 3, "n_w": 0},
              {"b": 2, "n_s": 0, "n_w": 4}, {"b": 3, "n_s": 5, "n_w": 7},
              {"b": 2, "n_s": 7, "n_w": 17}, {"b": 1, "n_s": 2, "n_w": 67},
              {"b": 0, "n_s": 2, "n_w": 3}],
    "overrides": {"Lw": R.lengths_of("n_w"), "Ls": R.lengths_of("n_s")},
    "scale": {"word_W": 0.5, "sentence_W": 0.5, "Wc": 0.7},
}])
