#!/usr/bin/env python3
"""Two attnc builds side by side: the same scaled-dot models (bench/bf16.py's,
f32 and bf16 tensors) compiled by each, called in alternating rounds in one
process, best of --repeat calls per round; prints each round's times, the
ratio of the best times (time of --before / time of --after: > 1, the
second build is faster) and whether the outputs are bitwise the same.

    OMP_NUM_THREADS=1 /tmp/tv/bin/python bench/compare_builds.py \\
        --before /tmp/before/attnc --after build/bin/attnc [--types f32 bf16]
        [--before-flags '--tile-size=128'] [--after-flags '--tile-size=192']
        [--shapes 8x1024x64 1x2048x64 1x4096x128] [--rounds 3] [--repeat 8]

A build to compare against: copy build/bin/attnc away, check out the other
commit, `ninja attnc`. Needs NumPy (the peers' virtual environment has it).
"""

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python", "src"))
import attnc  # noqa: E402
from bf16 import MODEL, bf16_bits  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the first attnc")
    ap.add_argument("--after", required=True, help="the second attnc")
    ap.add_argument("--before-flags", default="",
                    help="attnc options for the first build's models "
                         "(space-separated, e.g. '--tile-size=64')")
    ap.add_argument("--after-flags", default="",
                    help="attnc options for the second build's models")
    ap.add_argument("--types", nargs="+", default=["f32", "bf16"])
    ap.add_argument("--shapes", nargs="+",
                    default=["8x1024x64", "1x2048x64", "1x4096x128"],
                    help="heads x n x d")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=8)
    args = ap.parse_args()
    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes]
    builds = {"before": (args.before, args.before_flags.split()),
              "after": (args.after, args.after_flags.split())}
    rng = np.random.default_rng(0)
    print("threads: OMP_NUM_THREADS=%s" %
          os.environ.get("OMP_NUM_THREADS", "(all)"))
    for t in args.types:
        for d in sorted({s[2] for s in shapes}):
            models = {name: attnc.compile(
                MODEL % {"d": d, "t": t, "mask": ""}, compiler=exe,
                flags=flags).sdpa
                for name, (exe, flags) in builds.items()}
            for h, n, _ in (s for s in shapes if s[2] == d):
                shape = (1, h, n, d)
                x = [rng.uniform(-1, 1, shape).astype(np.float32)
                     for _ in range(3)]
                if t == "bf16":
                    x = [bf16_bits(a) for a in x]
                outs = {name: np.empty(shape, np.float32 if t == "f32"
                                       else np.uint16) for name in models}
                times = {name: [] for name in models}
                for _ in range(args.rounds):
                    for name, model in models.items():
                        model(*x, out=(outs[name],))  # warm-up
                        best = float("inf")
                        for _ in range(args.repeat):
                            start = time.perf_counter()
                            model(*x, out=(outs[name],))
                            best = min(best, time.perf_counter() - start)
                        times[name].append(1e3 * best)
                print("%-4s H%d N%d d%d  before %s ms  after %s ms  "
                      "ratio %.3f  bitwise same: %s" % (
                          t, h, n, d,
                          " ".join("%.3f" % v for v in times["before"]),
                          " ".join("%.3f" % v for v in times["after"]),
                          min(times["before"]) / min(times["after"]),
                          np.array_equal(outs["before"], outs["after"])))


if __name__ == "__main__":
    main()
