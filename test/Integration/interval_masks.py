# RUN: %python %s
# The interval masks (window(W), causal(offset), prefix(P)) alone and with
# causal and lengths, scaled_dot (blocked kernel) and additive (generic
# kernel), with the weights and the log-sum-exp; awkward sizes (n = 1,
# empty, primes, around the key tile 64 and the vector width 16), windows of
# 1 and larger than n, rows that see no key, huge logits.
# interval_masks_variants.py: the same with --vectorize=false, --tile-size=16.

import interval_mask_suite as S

S.run(lse=False)
