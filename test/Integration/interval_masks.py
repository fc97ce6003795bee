# RUN: %python %s
# The interval masks (window(W), causal(offset), prefix(P)) alone and with
# causal and lengths, scaled_dot (blocked kernel) and additive (generic
# kernel), with the weights and the log-sum-exp (`output z = logsumexp(e)`);
# awkward sizes (n = 1, empty, primes, around the key tile 64 and the vector
# width 16), windows of 1 and larger than n, rows that see no key, huge
# logits; the log-sum-exp with heads.
# interval_masks_variants.py: the same with --vectorize=false, --tile-size=16.

import attnc_testlib as T
import interval_mask_suite as S

checker = T.Checker()
S.run(checker=checker)
S.run_heads_lse(checker=checker)
checker.finish()
