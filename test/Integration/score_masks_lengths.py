# RUN: %python %s
# The lengths mask (clamped to [0, n_k]; a length of 0 gives c = 0 and
# weights 0), alone and with causal, with every score function; several
# queries (n_q < n_k, = n_k, > n_k) and a single query.
# score_masks.py: causal alone.

import attnc_testlib as T

T.run_mask_suite([("lengths", False, True), ("both", True, True)],
                 big_if="both", seed=29)
