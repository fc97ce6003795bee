# RUN: %python %s
# interval_masks.py compiled with --vectorize=false (buffer state, scalar
# scores: the generic kernel for every score), with --tile-size=16 (key
# tiles of one vector: the window's lower bound falls inside and across
# tiles) and with --tile-size=16 --query-tiles-per-group=3 (groups of 24
# queries whose tiles start and stop seeing keys at different key tiles; the
# last group of n_q = 67 has a partial tile), on a subset of the mask
# combinations.

import os

import interval_mask_suite as S

CONFIGS = [c for c in S.CONFIGS
           if c[0] in ("w1", "w16", "w200", "cm3", "cp2", "pre", "w20cm2",
                       "w70cl", "prel", "precm2")]
for flags in ("--vectorize=false", "--tile-size=16",
              "--tile-size=16 --query-tiles-per-group=3"):
    print("flags:", flags, flush=True)
    os.environ["ATTNC_TEST_FLAGS"] = flags
    pid = os.fork()
    if pid == 0:
        S.run(configs=CONFIGS, seed=43, huge=False)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise SystemExit("failed with " + flags)
