# RUN: %python %s
# The causal mask with every score function (aligned at the bottom right:
# l <= i + n_k - n_q); several queries (n_q < n_k, = n_k, > n_k, so that
# some rows see no key) and a single query (which sees every key).
# score_masks_lengths.py: lengths, and causal with lengths.

import attnc_testlib as T

T.run_mask_suite([("causal", True, False)], big_if="causal", seed=23)
