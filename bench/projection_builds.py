#!/usr/bin/env python3
"""attnc builds side by side on projection-bound models: bench/sdpa.attn's
`projections` (Wq X and Wo concat(c), d = 512, 8 heads of 64, around an
attention over two keys), a single projection `Y = W c` of I inputs and O
outputs (around an attention over two keys), and `bahdanau` (b = 64, d =
256, d_w = 128). Each build compiles the same models; they are called in
alternating rounds in one process, best of --repeat calls per round. Prints
GFLOP/s (the projections' FLOPs only, as attnc-bench counts them), the
speed relative to the first build, and whether every build's outputs are
bitwise the same as the first's.

    OMP_NUM_THREADS=1 /tmp/tv/bin/python bench/projection_builds.py \\
        --build before=/tmp/before/attnc --build after=build/bin/attnc \\
        [--projections 1 8 512 2048] [--linear 2048:512x512 4096:1024x512]
        [--bahdanau 512 4096] [--rounds 5] [--repeat 6]

Needs NumPy (the peers' virtual environment has it).
"""

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python", "src"))
import attnc  # noqa: E402

SDPA = open(os.path.join(ROOT, "bench", "sdpa.attn")).read()

LINEAR = """
model linear {
  dims  n, d = %(i)d
  batch b
  input X : f32[b, n, d]
  input Z : f32[b, 2, d]
  param W : f32[%(o)d, d]
  query   q = X
  keys    K = Z
  values  V = Z
  score   e = dot(q, K)
  align   a = softmax(e)
  context c = sum(a * V)
  output  Y = W c
}
"""


def compare(label, flops, modules, call, outputs, rounds, repeat):
    best = {name: float("inf") for name in modules}
    for _ in range(rounds):
        for name, module in modules.items():
            for _ in range(repeat):
                start = time.perf_counter()
                call(module, outputs[name])
                best[name] = min(best[name], time.perf_counter() - start)
    first = next(iter(modules))
    same = all(np.array_equal(outputs[first], outputs[name])
               for name in modules)
    cells = ["%s %.1f GFLOP/s (%.3f)" % (name, flops / best[name] * 1e-9,
                                         best[first] / best[name])
             for name in modules]
    print("%-28s %s | %s" % (label, " | ".join(cells),
                             "bitwise the same" if same else "outputs differ"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="append", required=True,
                    help="name=path of an attnc executable (repeatable)")
    ap.add_argument("--projections", nargs="*", type=int,
                    default=[1, 8, 512, 2048], help="rows n")
    ap.add_argument("--linear", nargs="*", default=["2048:512x512",
                                                    "2048:1024x512"],
                    help="n:IxO")
    ap.add_argument("--bahdanau", nargs="*", type=int, default=[512, 4096],
                    help="keys n_k")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=6)
    args = ap.parse_args()
    builds = dict(b.split("=", 1) for b in args.build)
    rng = np.random.default_rng(0)
    run = dict(rounds=args.rounds, repeat=args.repeat)
    print("threads: OMP_NUM_THREADS=%s" %
          os.environ.get("OMP_NUM_THREADS", "(all)"))

    sdpa = {name: attnc.compile(SDPA, compiler=exe)
            for name, exe in builds.items()}
    for n in args.projections:
        X = rng.uniform(-1, 1, (1, n, 512)).astype(np.float32)
        Z = rng.uniform(-1, 1, (1, 2, 512)).astype(np.float32)
        Ws = [rng.uniform(-0.05, 0.05, (8, 64, 512)).astype(np.float32)
              for _ in range(3)]
        Wo = rng.uniform(-0.05, 0.05, (512, 512)).astype(np.float32)
        outputs = {name: np.empty((1, n, 512), np.float32) for name in sdpa}
        compare("projections n=%d" % n, 4.0 * n * 512 * 512,
                {name: m.projections for name, m in sdpa.items()},
                lambda f, out: f(X, Z, *Ws, Wo, out=out), outputs, **run)

    for spec in args.linear:
        n, shape = spec.split(":")
        n, (i, o) = int(n), (int(v) for v in shape.split("x"))
        models = {name: attnc.compile(LINEAR % {"i": i, "o": o},
                                      compiler=exe).linear
                  for name, exe in builds.items()}
        X = rng.uniform(-1, 1, (1, n, i)).astype(np.float32)
        Z = rng.uniform(-1, 1, (1, 2, i)).astype(np.float32)
        W = rng.uniform(-0.05, 0.05, (o, i)).astype(np.float32)
        outputs = {name: np.empty((1, n, o), np.float32) for name in models}
        compare("linear n=%d I=%d O=%d" % (n, i, o), 2.0 * n * i * o, models,
                lambda f, out: f(X, Z, W, out=out), outputs, **run)

    for nk in args.bahdanau:
        b, d, dw = 64, 256, 128
        q = rng.uniform(-1, 1, (b, d)).astype(np.float32)
        K = rng.uniform(-1, 1, (b, nk, d)).astype(np.float32)
        W1 = rng.uniform(-0.05, 0.05, (dw, d)).astype(np.float32)
        W2 = rng.uniform(-0.05, 0.05, (dw, d)).astype(np.float32)
        bw = rng.uniform(-1, 1, dw).astype(np.float32)
        w = rng.uniform(-1, 1, dw).astype(np.float32)
        outputs = {name: np.empty((b, d), np.float32) for name in sdpa}
        compare("bahdanau n_k=%d" % nk, 2.0 * b * nk * d * dw,
                {name: m.bahdanau for name, m in sdpa.items()},
                lambda f, out: f(q, K, W1, W2, bw, w, out=out), outputs,
                **run)


if __name__ == "__main__":
    main()
