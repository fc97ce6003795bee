#!/usr/bin/env python3
"""Query groups against one query tile per iteration: the same scaled-dot
model compiled with --query-tiles-per-group=G for each G given, called in
one process in turn (best of --repeat calls each), GFLOP/s = 4 h n^2 d /
time (causal: 2 h n (n + 1) d). Every variant's output is compared with the
first's.

  OMP_NUM_THREADS=1 python3 bench/query_groups.py [--groups 1 4 8]
      [--shapes 1x4096x128 8x1024x64 1x8192x64] [--causal] [--repeat 8]

Shapes are HxNxD (batch 1). Needs only the Python standard library and the
build (build/bin/attnc, or attnc on PATH / $ATTNC_TOOLS_DIR).
"""

import argparse
import array
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "lib"))
import attnc_testlib as T  # noqa: E402

MODEL = """
model sdpa {{
  dims  h, n, d = {d}
  batch b
  input Q, K, V : f32[b, h, n, d]
  query   q = Q
  keys    k = K
  values  v = V
  score   e = scaled_dot(q, k)
  {mask}
  align   a = softmax(e)
  context c = sum(a * v)
  output  O = c
}}
"""


def tensor(shape, rng):
    count = T.prod(shape)
    buf = array.array("f", (rng.uniform(-1, 1) for _ in range(count)))
    return T.Tensor(None, shape, buffer=buf), buf


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--shapes", nargs="+",
                        default=["1x4096x128", "8x1024x64", "1x8192x64"])
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--repeat", type=int, default=8)
    opts = parser.parse_args()
    rng = random.Random(11)
    libs = {}
    print("%-12s %s" % ("h x n x d", "  ".join(
        "G=%-2d ms  GFLOP/s" % g for g in opts.groups)))
    for shape in opts.shapes:
        h, n, d = (int(x) for x in shape.split("x"))
        models = []
        for g in opts.groups:
            key = (d, g)
            if key not in libs:
                source = MODEL.format(d=d, mask="mask causal"
                                      if opts.causal else "")
                libs[key] = T.compile(
                    source, ["--query-tiles-per-group=%d" % g])
            models.append(libs[key].model("sdpa"))
        dims = [1, h, n, d]
        inputs = [tensor(dims, rng)[0] for _ in range(3)]
        outs = [tensor(dims, rng) for _ in models]
        best = [float("inf")] * len(models)
        for _ in range(opts.repeat + 1):  # the first round warms up
            for i, model in enumerate(models):
                start = time.perf_counter()
                status = model.call(inputs + [outs[i][0]])
                elapsed = time.perf_counter() - start
                if status != 0:
                    sys.exit("failed: %s" % model.last_error())
                if _ > 0:
                    best[i] = min(best[i], elapsed)
        for i in range(1, len(models)):
            diff = max(abs(x - y) for x, y in
                       zip(outs[0][1][::61], outs[i][1][::61]))
            if diff > 1e-5:
                sys.exit("G=%d differs from G=%d by %g" %
                         (opts.groups[i], opts.groups[0], diff))
        flops = (2.0 * h * n * (n + 1) * d if opts.causal
                 else 4.0 * h * n * n * d)
        print("%-12s %s" % (shape, "  ".join(
            "%7.2f %8.1f" % (1e3 * t, flops / t / 1e9) for t in best)))


if __name__ == "__main__":
    main()
