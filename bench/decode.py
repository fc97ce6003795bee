#!/usr/bin/env python3
"""Decoding: one query per head over a cache of n_k keys and values (fp32,
batch 1, scaled dot), attnc against PyTorch's scaled_dot_product_attention
in one run when PyTorch is importable (run it with the peers' virtual
environment: bench/peers.py --venv V), attnc alone otherwise.

Three attnc builds of the same computation: `static`, with `n_q = 1` in
its dims (the single-query kernel: keys read in place); `dynamic`, n_q
given at the call (the copy of the tiled form for n_q = 1 that attnc adds
for a dynamic n_q); `8-row`, the dynamic model with --single-query-copy=false
(query tiles of 8 copies of the query, keys packed into panels: the
schedule made for many queries). Each call reads K and V once: GB/s is
their bytes over the time (8 h n_k d / time), the rate a decoder cares
about. Every system's output is checked against a float64 NumPy reference
(exit 1 above 1e-4); best of two rounds of --repeat calls after a warm-up,
each system's calls in a block.

    OMP_NUM_THREADS=1 /tmp/tv/bin/python bench/decode.py
    python3 bench/decode.py --shapes 8x4096x128 32x2048x128
    OMP_NUM_THREADS=1 /tmp/tv/bin/python bench/decode.py --gqa
"""

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python", "src"))
import attnc  # noqa: E402

MODEL = """
model decode {
  dims  h, n_q%s, n_k, d = %d
  batch b
  input Q : f32[b, h, n_q, d]
  input K, V : f32[b, h, n_k, d]
  query   q = Q
  keys    k = K
  values  v = V
  score   e = scaled_dot(q, k)
  align   a = softmax(e)
  context c = sum(a * v)
  output  O = c
}
"""

# h x n_k x d: 8 and 32 heads of a 4k/16k/2k cache, one long head, and
# caches that stay in L2/L3 between calls.
SHAPES = ["8x4096x128", "8x16384x64", "32x2048x128", "1x65536x128",
          "8x512x128", "32x1024x64"]
# h x g x n_k x d: grouped-query heads (h query heads, g key/value heads):
# Llama-like 32/8 and 32/4 at 4k-16k, and multi-query (g = 1).
GQA_SHAPES = ["32x8x4096x128", "32x8x16384x128", "32x4x8192x128",
              "8x1x16384x128", "16x2x8192x64"]


def reference(q, k, v):
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    s = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    s -= s.max(-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(-1, keepdims=True)
    return p @ v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shapes", nargs="+", default=SHAPES,
                    help="HxNKxD (default: %(default)s)")
    ap.add_argument("--gqa", nargs="*", default=None, metavar="HxGxNKxD",
                    help="grouped-query decoding instead (h query heads, g "
                    "key/value heads; no value: %s)" % " ".join(GQA_SHAPES))
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--no-torch", action="store_true",
                    help="attnc only, even when PyTorch is importable")
    args = ap.parse_args()
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS",
                                                     os.cpu_count())))
        except ImportError:
            pass
    threads = os.environ.get("OMP_NUM_THREADS", "(all)")
    print("threads: OMP_NUM_THREADS=%s; torch: %s" % (
        threads, torch.__version__ if torch else
        "off (--no-torch)" if args.no_torch else "not importable"))
    if args.gqa is not None:
        return grouped_decoding(args.gqa or GQA_SHAPES, args.repeat, torch)
    cols = ["static", "dynamic", "8-row"] + (["torch"] if torch else [])
    print_header("h x nk x d", 13, cols, "st")
    rng = np.random.default_rng(0)
    compiled = {}
    failed = False
    for shape in args.shapes:
        h, nk, d = (int(x) for x in shape.split("x"))
        if d not in compiled:
            compiled[d] = (attnc.compile(MODEL % (" = 1", d)).decode,
                           attnc.compile(MODEL % ("", d)).decode,
                           attnc.compile(MODEL % ("", d), flags=[
                               "--single-query-copy=false"]).decode)
        static, dynamic, rows8 = compiled[d]
        q, k, v = (rng.standard_normal((1, h, n, d), dtype=np.float32)
                   for n in (1, nk, nk))
        outs = {c: np.empty((1, h, 1, d), np.float32) for c in cols}
        calls = {"static": lambda: static(q, k, v, out=(outs["static"],)),
                 "dynamic": lambda: dynamic(q, k, v, out=(outs["dynamic"],)),
                 "8-row": lambda: rows8(q, k, v, out=(outs["8-row"],))}
        if torch:
            tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))

            def sdpa():
                outs["torch"] = torch.nn.functional.scaled_dot_product_attention(
                    tq, tk, tv).numpy()
            calls["torch"] = sdpa
        best = best_times(calls, args.repeat)
        failed |= not print_row(shape, 13, cols, best, outs, reference(q, k, v),
                                8.0 * h * nk * d / 1e9)
    return finish(failed)


# Column names in the ratios' headers.
SHORT = {"dynamic": "dyn", "8-row": "8row", "per head": "per"}


def print_header(label, width, cols, base):
    """The columns of print_row: each system's time and GB/s, then the
    others' times over the first's (`base`: its short name)."""
    print("%-*s" % (width, label) + "".join(
        " %9s %6s" % (c + " ms", "GB/s") for c in cols) +
        "".join(" %9s" % (SHORT.get(c, c) + "/" + base) for c in cols[1:]) +
        " %9s" % "max|err|")


def print_row(label, width, cols, best, outs, ref, gbytes):
    """One shape's row; returns whether every output is within 1e-4 of the
    float64 reference `ref`."""
    err = max(float(np.abs(outs[c].reshape(ref.shape) - ref).max())
              for c in cols)
    print("%-*s" % (width, label) + "".join(
        " %9.3f %6.1f" % (best[c] * 1e3, gbytes / best[c]) for c in cols) +
        "".join(" %9.2f" % (best[c] / best[cols[0]]) for c in cols[1:]) +
        " %9.1e" % err)
    return err <= 1e-4


def finish(failed):
    if failed:
        print("error: an output differs from the float64 reference by more "
              "than 1e-4")
        return 1
    return 0


def best_times(calls, repeat):
    """Each system's calls in a block, two rounds: the thread pools of
    attnc (libomp) and PyTorch spin for a while after a parallel region,
    and would take the cores from the other's threads if the calls
    alternated."""
    best = {c: float("inf") for c in calls}
    for _ in range(2):
        for c, call in calls.items():
            time.sleep(0.3)
            call()
            for _ in range(repeat):
                t = time.perf_counter()
                call()
                best[c] = min(best[c], time.perf_counter() - t)
    return best


def grouped_decoding(shapes, repeat, torch):
    """One query per head, h query heads over g key/value heads. `grouped`:
    attnc with the h / g query heads of a key head as its queries (one
    tile reads the group's keys once, in place); `per head`: attnc's
    single-query model over h heads with K and V repeated to h heads (what
    a model without grouped heads must do); torch: SDPA with
    enable_gqa=True. GB/s: the bytes of the g heads of K and V over the
    time. Ratios: time / grouped's time."""
    cols = ["grouped", "per head"] + (["torch"] if torch else [])
    print_header("h x g x nk x d", 16, cols, "gr")
    rng = np.random.default_rng(1)
    failed = False
    for shape in shapes:
        h, g, nk, d = (int(x) for x in shape.split("x"))
        per = h // g
        # The grouped heads as the language has them without projections:
        # the h / g query heads of key head j are the n_q = h / g queries
        # of head j (Q [b, g, h / g, d], K and V [b, g, n_k, d]).
        grouped = attnc.compile(MODEL % (" = %d" % per, d)).decode
        per_head = attnc.compile(MODEL % (" = 1", d)).decode
        q = rng.standard_normal((1, h, 1, d), dtype=np.float32)
        k, v = (rng.standard_normal((1, g, nk, d), dtype=np.float32)
                for _ in range(2))
        kh, vh = (np.ascontiguousarray(np.repeat(x, per, axis=1))
                  for x in (k, v))
        qg = q.reshape(1, g, per, d)
        outs = {"grouped": np.empty((1, g, per, d), np.float32),
                "per head": np.empty((1, h, 1, d), np.float32)}
        calls = {"grouped": lambda: grouped(qg, k, v, out=(outs["grouped"],)),
                 "per head": lambda: per_head(q, kh, vh,
                                              out=(outs["per head"],))}
        if torch:
            tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))

            def sdpa():
                outs["torch"] = torch.nn.functional.scaled_dot_product_attention(
                    tq, tk, tv, enable_gqa=True).numpy()
            calls["torch"] = sdpa
        best = best_times(calls, repeat)
        failed |= not print_row(shape, 16, cols, best, outs,
                                reference(q, kh, vh), 8.0 * g * nk * d / 1e9)
    return finish(failed)


if __name__ == "__main__":
    sys.exit(main())
