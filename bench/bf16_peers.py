#!/usr/bin/env python3
"""bf16 attention, attnc against PyTorch's scaled_dot_product_attention on
bf16 tensors, in one run (issue 7, item 4).

attnc compiles a scaled-dot model with bf16 arguments and output and its
default --dot-precision=auto (bf16 products on the AMX tile unit where the
host has AMX-BF16, with vdpbf16ps on AMD Zen; `attnc --version` says), and
the same model with --dot-precision=f32 (bf16 arguments, f32 products) for
the ratio to f32. PyTorch takes torch.bfloat16 Q, K, V (its CPU flash
attention kernel). Shapes b=1 x h x n x d as in bench/peers.py, plus a
causal one; GFLOP/s = 4 h n^2 d / time (causal: 2 h n (n + 1) d). Each
output is checked against a float64 NumPy reference of the same bf16
inputs on a small shape first (exit 1 beyond 2^-6 max|V|: the rounding of
the probabilities and of the output to bf16). Best of two rounds of
--repeat calls, each system's calls in a block (bench/decode.py says why).
ONNX Runtime is left out: its CPU MultiHeadAttention has no bf16 kernel.

    OMP_NUM_THREADS=1 /tmp/tv/bin/python bench/bf16_peers.py
    OMP_NUM_THREADS=2 /tmp/tv/bin/python bench/bf16_peers.py
"""

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python", "src"))
import attnc  # noqa: E402
# The model and the bf16 conversions of bench/bf16.py, the timing of
# bench/decode.py (this directory is on sys.path when a script runs).
from bf16 import MODEL, bf16_bits, from_bf16  # noqa: E402
from decode import best_times  # noqa: E402

# h x n x d, causal: bench/peers.py's shapes.
SHAPES = [(1, 4096, 128, False), (8, 1024, 64, False), (1, 8192, 64, False),
          (1, 4096, 128, True)]


def reference(q, k, v, causal):
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        n = s.shape[-1]
        s = s + np.triu(np.full((n, n), -np.inf), k=1)
    s = np.exp(s - s.max(-1, keepdims=True))
    return (s / s.sum(-1, keepdims=True)) @ v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--compiler", default=None, help="attnc to use")
    args = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        sys.exit("bf16_peers.py needs PyTorch: run it with the peers' "
                 "virtual environment (bench/peers.py --venv V)")
    threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    if threads:
        torch.set_num_threads(threads)
    print("threads: OMP_NUM_THREADS=%s, torch %s" % (
        os.environ.get("OMP_NUM_THREADS", "(all)"), torch.__version__))
    rng = np.random.default_rng(0)
    models = {}

    def model(d, causal, flags):
        key = (d, causal, tuple(flags))
        if key not in models:
            src = MODEL % {"d": d, "t": "bf16",
                           "mask": "mask causal" if causal else ""}
            models[key] = attnc.compile(src, flags=list(flags),
                                        compiler=args.compiler).sdpa
        return models[key]

    def systems(shape, causal):
        q, k, v = (bf16_bits(rng.uniform(-1, 1, shape)) for _ in range(3))
        out = {"attnc": np.empty(shape, np.uint16),
               "attnc f32 dots": np.empty(shape, np.uint16)}
        tq, tk, tv = (torch.from_numpy(x.view(np.int16)).view(torch.bfloat16)
                      for x in (q, k, v))
        result = {}
        calls = {
            "attnc": lambda: model(shape[-1], causal, ())(
                q, k, v, out=(out["attnc"],)),
            "attnc f32 dots": lambda: model(
                shape[-1], causal, ("--dot-precision=f32",))(
                    q, k, v, out=(out["attnc f32 dots"],)),
            "torch sdpa": lambda: result.__setitem__(
                "torch sdpa", F.scaled_dot_product_attention(
                    tq, tk, tv, is_causal=causal)),
        }
        return (q, k, v), out, result, calls

    # Numerics on a small shape.
    failed = False
    for causal in (False, True):
        shape = (1, 2, 300, 64)
        (q, k, v), out, result, calls = systems(shape, causal)
        for call in calls.values():
            call()
        ref = reference(from_bf16(q), from_bf16(k), from_bf16(v), causal)
        got = {"attnc": from_bf16(out["attnc"]),
               "attnc f32 dots": from_bf16(out["attnc f32 dots"]),
               "torch sdpa": result["torch sdpa"].float().numpy()}
        for name, g in got.items():
            err = float(np.abs(g - ref).max())
            ok = err <= 2.0 ** -6
            failed |= not ok
            print("check %-15s causal=%d max|err| %.2g %s" % (
                name, causal, err, "ok" if ok else "FAILED"))

    print("%-22s %-15s %9s %9s %8s" % ("shape", "system", "ms", "GFLOP/s",
                                       "torch/x"))
    for h, n, d, causal in SHAPES:
        shape = (1, h, n, d)
        _, _, _, calls = systems(shape, causal)
        best = best_times(calls, args.repeat)
        fl = (2.0 * h * n * (n + 1) * d) if causal else 4.0 * h * n * n * d
        label = "H%d N%d d%d%s" % (h, n, d, " causal" if causal else "")
        for name, t in best.items():
            print("%-22s %-15s %9.2f %9.1f %8.2f" % (
                label, name, t * 1e3, fl / t / 1e9, best["torch sdpa"] / t))
    if failed:
        sys.exit("bf16_peers.py: an output is off the float64 reference")


if __name__ == "__main__":
    main()
