"""What the benchmarks that call attnc libraries through attnc_testlib share:
random f32 tensors and the best time of repeated calls of a model."""

import array
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "lib"))
import attnc_testlib as T  # noqa: E402


def random_tensor(shape, rng):
    """An f32 tensor of `shape`, uniform in [-1, 1)."""
    count = T.prod(shape)
    buf = array.array("f", (rng.uniform(-1, 1) for _ in range(count)))
    return T.Tensor(None, shape, buffer=buf)


def best_ms(model, args, repeat):
    """The fastest of `repeat` calls of `model` on `args`, in ms; exits with
    the model's message if a call fails."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        status = model.call(args)
        best = min(best, time.perf_counter() - start)
        if status != 0:
            sys.exit("%s failed: %s" % (model.name, model.last_error()))
    return 1e3 * best
