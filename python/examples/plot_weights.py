#!/usr/bin/env python3
"""Plots the attention weights of a compiled model as a heat map.

    python3 python/examples/plot_weights.py [-o weights.png] [--n 24]

Compiles a small causal self-attention model whose weights are an output
(`output A = a`), runs it on random data and writes a heat map of the
weights of the first batch entry (queries down, keys across). Needs NumPy and
matplotlib; without them it says so and exits 0.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))  # run from the repository

import attnc  # noqa: E402

SOURCE = """
// Causal self-attention with learned query and key maps; the weights are an
// output, like any other value of the model.
model selfattn {
  dims  n, d = 16, d_k = 8
  batch b
  input X : f32[b, n, d]
  param Wq, Wk : f32[d_k, d]
  query   Q = Wq X
  keys    K = Wk X
  values  V = X
  score   e = scaled_dot(Q, K)
  mask    causal
  align   a = softmax(e)
  context c = sum(a * V)
  output  y = c
  output  A = a
}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="attention_weights.png")
    ap.add_argument("--n", type=int, default=24, help="sequence length")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    try:
        import numpy as np
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print("plot_weights: skipped, %s (pip install numpy matplotlib)" % e)
        return 0

    mod = attnc.compile(SOURCE)
    model = mod.selfattn
    print(model.signature.describe())
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((2, args.n, 16), dtype=np.float32)
    Wq = 0.25 * rng.standard_normal((8, 16), dtype=np.float32)
    Wk = 0.25 * rng.standard_normal((8, 16), dtype=np.float32)
    y, A = model(X, Wq, Wk)

    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(A[0], cmap="viridis", vmin=0.0, vmax=float(A[0].max()))
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    ax.set_title("attention weights of %s (batch entry 0)" % model.name)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print("wrote %s: weights %s, rows sum to %.4f..%.4f" % (
        args.output, A.shape, A[0].sum(axis=1).min(), A[0].sum(axis=1).max()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
