#!/usr/bin/env python3
"""Key splits against none: the same scaled-dot model (batch 1, h heads,
n_q queries, n_k keys) compiled with --split-keys=true and false, called in
one process in turn (best of --repeat calls each); GFLOP/s = 4 h n_q n_k d
/ time (causal: the visible keys only). Shapes with few query tiles (h x
ceil(n_q / 8) < 16) split their keys; run with OMP_NUM_THREADS=1 and 2 to
see what the split buys and what it costs. The two outputs are compared.

  OMP_NUM_THREADS=2 python3 bench/key_splits.py
      [--shapes 1x1x65536x128 8x1x16384x64 1x8x16384x128 1x64x8192x64]
      [--causal] [--repeat 8]

Shapes are HxNQxNKxD. Needs only the Python standard library and the build.
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
  dims  h, n_q, n_k, d = {d}
  batch b
  input Q : f32[b, h, n_q, d]
  input K, V : f32[b, h, n_k, d]
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
    parser.add_argument("--shapes", nargs="+",
                        default=["1x1x65536x128", "8x1x16384x64",
                                 "1x8x16384x128", "1x64x8192x64"])
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--repeat", type=int, default=8)
    opts = parser.parse_args()
    rng = random.Random(13)
    libs = {}
    print("threads: OMP_NUM_THREADS=%s" %
          os.environ.get("OMP_NUM_THREADS", "(all)"))
    print("%-16s %9s %8s %9s %8s %7s" % ("h x nq x nk x d", "split ms",
                                         "GFLOP/s", "whole ms", "GFLOP/s",
                                         "ratio"))
    for shape in opts.shapes:
        h, nq, nk, d = (int(x) for x in shape.split("x"))
        models = []
        for split in ("true", "false"):
            if (d, split) not in libs:
                source = MODEL.format(d=d, mask="mask causal"
                                      if opts.causal else "")
                libs[(d, split)] = T.compile(source,
                                             ["--split-keys=" + split])
            models.append(libs[(d, split)].model("sdpa"))
        q = tensor([1, h, nq, d], rng)[0]
        k, v = (tensor([1, h, nk, d], rng)[0] for _ in range(2))
        outs = [tensor([1, h, nq, d], rng) for _ in models]
        best = [float("inf")] * 2
        for rep in range(opts.repeat + 1):  # the first round warms up
            for i, model in enumerate(models):
                start = time.perf_counter()
                status = model.call([q, k, v, outs[i][0]])
                elapsed = time.perf_counter() - start
                if status != 0:
                    sys.exit("failed: %s" % model.last_error())
                if rep > 0:
                    best[i] = min(best[i], elapsed)
        diff = max(abs(x - y) for x, y in zip(outs[0][1], outs[1][1]))
        if diff > 1e-5:
            sys.exit("%s: split and whole differ by %g" % (shape, diff))
        if opts.causal:  # query i sees keys up to i + n_k - n_q
            visible = sum(min(nk, max(0, i + nk - nq + 1))
                          for i in range(nq))
        else:
            visible = nq * nk
        flops = 4.0 * h * visible * d
        print("%-16s %9.3f %8.1f %9.3f %8.1f %7.2f" % (
            shape, 1e3 * best[0], flops / best[0] / 1e9, 1e3 * best[1],
            flops / best[1] / 1e9, best[1] / best[0]))


if __name__ == "__main__":
    main()
