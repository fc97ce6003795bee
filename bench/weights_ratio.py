#!/usr/bin/env python3
"""The price of the weights output: the time of a model that returns its
attention weights besides the context, over the time of the same model
without them (issue 7: within 1.5x). Scaled dot, one head, batch 1, f32,
random inputs; both models compiled by the attnc of the build and called in
one process, alternately, best of --repeat calls each.

  OMP_NUM_THREADS=1 python3 bench/weights_ratio.py [--n 1024 2048] [--d 64]
      [--score scaled_dot|cosine] [--repeat 9]

Needs only the Python standard library and the build (build/bin/attnc, or
attnc on PATH / $ATTNC_TOOLS_DIR).
"""

import argparse
import random

from timing import T, best_ms, random_tensor as tensor

MODEL = """
model {name} {{
  dims  n, d = {d}
  batch b
  input Q, K, V : f32[b, n, d]
  query   q = Q
  keys    k = K
  values  v = V
  score   e = {score}(q, k)
  align   a = softmax(e)
  context c = sum(a * v)
  output  O = c
{weights}}}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--score", default="scaled_dot",
                        choices=["scaled_dot", "dot", "cosine"])
    parser.add_argument("--repeat", type=int, default=9)
    opts = parser.parse_args()
    source = MODEL.format(name="plain", d=opts.d, score=opts.score,
                          weights="") + \
        MODEL.format(name="weighted", d=opts.d, score=opts.score,
                     weights="  output  A = a\n")
    lib = T.compile(source)
    plain, weighted = lib.model("plain"), lib.model("weighted")
    rng = random.Random(7)
    print("%-10s %6s %4s | %9s %9s | %s" % ("score", "n", "d", "plain ms",
                                            "+weights", "ratio"))
    for n in opts.n:
        q, k, v = (tensor([1, n, opts.d], rng) for _ in range(3))
        out = tensor([1, n, opts.d], rng)
        weights = tensor([1, n, n], rng)
        plain_args, weighted_args = [q, k, v, out], [q, k, v, out, weights]
        plain.call(plain_args), weighted.call(weighted_args)  # warm up
        times = {"plain": [], "weighted": []}
        for _ in range(3):  # alternate, so that drift hits both
            times["plain"].append(best_ms(plain, plain_args, opts.repeat))
            times["weighted"].append(best_ms(weighted, weighted_args,
                                             opts.repeat))
        p, w = min(times["plain"]), min(times["weighted"])
        print("%-10s %6d %4d | %9.3f %9.3f | %.2f" % (opts.score, n, opts.d, p,
                                                      w, w / p))


if __name__ == "__main__":
    main()
