#!/usr/bin/env python3
"""The tiled form's schedules against each other: the same scaled-dot model
(batch 1, h heads, n_q queries, n_k keys, head width d; causal with
--causal) compiled with each variant's attnc options, called in one process
in turn, best of --repeat calls each after a warm-up round. Prints ms and
GFLOP/s per variant (4 h n_q n_k d / time; causal: the visible keys only)
and each variant's speed relative to the first; every variant's output is
compared with the first's (exit 1 above 1e-5).

  OMP_NUM_THREADS=1 python3 bench/schedules.py groups   # --query-tiles-per-group 1, 4, 8
  OMP_NUM_THREADS=2 python3 bench/schedules.py splits   # --split-keys false, true
  python3 bench/schedules.py groups --shapes 1x2048x2048x128 --causal
  python3 bench/schedules.py --variant=--tile-size=64 --variant= --shapes 8x1024x1024x64

Shapes are HxNQxNKxD. Needs only the Python standard library and the build
(build/bin/attnc, or attnc on PATH / $ATTNC_TOOLS_DIR).
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

# The comparisons this script is mostly run for: variants, default shapes.
PRESETS = {
    "groups": (["--query-tiles-per-group=1", "--query-tiles-per-group=4",
                "--query-tiles-per-group=8"],
               ["1x4096x4096x128", "1x2048x2048x128", "8x1024x1024x64",
                "1x8192x8192x64"]),
    "splits": (["--split-keys=false", "--split-keys=true"],
               ["1x1x65536x128", "8x1x16384x64", "1x8x16384x128",
                "1x64x8192x64"]),
}


def tensor(shape, rng):
    count = T.prod(shape)
    buf = array.array("f", (rng.uniform(-1, 1) for _ in range(count)))
    return T.Tensor(None, shape, buffer=buf), buf


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("preset", nargs="?", choices=sorted(PRESETS),
                        help="variants and shapes of a usual comparison")
    parser.add_argument("--variant", action="append", dest="variants",
                        help="the attnc options of a variant (repeat for "
                        "each; --variant=OPTIONS, since they start with "
                        "'--'; --variant= for the defaults)")
    parser.add_argument("--shapes", nargs="+", help="HxNQxNKxD")
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--repeat", type=int, default=8)
    opts = parser.parse_args()
    variants, shapes = PRESETS.get(opts.preset, (None, None))
    variants = opts.variants if opts.variants is not None else variants
    shapes = opts.shapes or shapes
    if not variants or not shapes:
        parser.error("name a preset, or give --variant and --shapes")
    rng = random.Random(11)
    libs = {}
    print("threads: OMP_NUM_THREADS=%s%s" % (
        os.environ.get("OMP_NUM_THREADS", "(all)"),
        ", causal" if opts.causal else ""))
    for i, variant in enumerate(variants):
        print("variant %d: attnc %s" % (i, variant or "(defaults)"))
    print("%-18s %s" % ("h x nq x nk x d", "  ".join(
        "%d: ms  GFLOP/s   x v0" % i for i in range(len(variants)))))
    for shape in shapes:
        try:
            h, nq, nk, d = (int(x) for x in shape.split("x"))
        except ValueError:
            parser.error("shape %r is not HxNQxNKxD" % shape)
        models = []
        for variant in variants:
            if (d, variant) not in libs:
                source = MODEL.format(d=d, mask="mask causal"
                                      if opts.causal else "")
                libs[(d, variant)] = T.compile(source, variant.split())
            models.append(libs[(d, variant)].model("sdpa"))
        q = tensor([1, h, nq, d], rng)[0]
        k, v = (tensor([1, h, nk, d], rng)[0] for _ in range(2))
        outs = [tensor([1, h, nq, d], rng) for _ in models]
        best = [float("inf")] * len(models)
        for rep in range(opts.repeat + 1):  # the first round warms up
            for i, model in enumerate(models):
                start = time.perf_counter()
                status = model.call([q, k, v, outs[i][0]])
                elapsed = time.perf_counter() - start
                if status != 0:
                    sys.exit("failed: %s" % model.last_error())
                if rep > 0:
                    best[i] = min(best[i], elapsed)
        for i in range(1, len(models)):
            diff = max(abs(x - y) for x, y in zip(outs[0][1], outs[i][1]))
            if diff > 1e-5:
                sys.exit("%s: variant %d differs from variant 0 by %g" %
                         (shape, i, diff))
        if opts.causal:  # query i sees keys up to i + n_k - n_q
            visible = sum(min(nk, max(0, i + nk - nq + 1))
                          for i in range(nq))
        else:
            visible = nq * nk
        flops = 4.0 * h * visible * d
        print("%-18s %s" % (shape, "  ".join(
            "%7.3f %8.1f %6.2f" % (1e3 * t, flops / t / 1e9, best[0] / t)
            for t in best)))


if __name__ == "__main__":
    main()
