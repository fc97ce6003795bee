# RUN: %python %s
# The masks' distances at their limit (+-2^62, docs/language.md): causal
# offsets and windows that large are added to query indices by the loop
# bounds and must not overflow: causal(2^62) and window(2^62) see every key
# up to the query, causal(-2^62) none, against the reference (awkward sizes,
# n_q above and below n_k, both kernels). Past the limit they are refused
# (Frontend/mask-distance-limits.attn); before the limit existed,
# causal(2^63 - 1) masked every key.

import attnc_testlib as T
import interval_mask_suite as S

BIG = 2**62
CONFIGS = [
    ("cbig", ["causal(%d)" % BIG], {"causal": True, "causal_offset": BIG}),
    ("cnbig", ["causal(-%d)" % BIG], {"causal": True, "causal_offset": -BIG}),
    ("wbig", ["window(%d)" % BIG], {"window": BIG}),
    ("wbigc", ["window(%d)" % BIG, "causal(%d)" % BIG],
     {"window": BIG, "causal": True, "causal_offset": BIG}),
    ("wbigcn", ["window(%d)" % BIG, "causal(-%d)" % BIG],
     {"window": BIG, "causal": True, "causal_offset": -BIG}),
]

checker = T.Checker()
for kind, act in S.KINDS:
    for name, masks, fields in CONFIGS:
        src, spec = S.model(name + "_" + kind, kind, act, masks, fields)
        for nq, nk, b in [(3, 7, 2), (13, 5, 2), (67, 67, 1), (5, 130, 1)]:
            checker.case(src, name + "_" + kind, spec,
                         {"n_q": nq, "n_k": nk, "b": b})
checker.finish()
