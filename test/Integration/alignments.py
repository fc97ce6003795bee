# RUN: %python %s
# The alignments sigmoid(e), argmax(e) and hard(e; seed = S) fused into the
# key loop (hard against the reference's generator, with heads): with
# scaled_dot (which the blocked kernel takes only under softmax) and
# additive, with causal, causal(offset), lengths, window and prefix masks,
# the weights output (sigmoid per key, argmax one-hot); awkward sizes (n = 1,
# empty, primes, around the key tile 64 and the vector width 16), rows that
# see no key; argmax ties (repeated key rows: the first maximum wins).
# Compiled with the default flags, --vectorize=false (buffer state, scalar
# scores) and --tile-size=16 (maxima across many key tiles).

import os

import alignment_suite as A

for flags in ("", "--vectorize=false", "--tile-size=16"):
    print("flags:", flags or "(default)", flush=True)
    os.environ["ATTNC_TEST_FLAGS"] = flags
    pid = os.fork()
    if pid == 0:
        A.run(seed=53 if not flags else 59)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise SystemExit("failed with " + (flags or "the default flags"))
