#!/usr/bin/env python3
"""The price of score modifiers and mask predicates (what FlexAttention users
write as score_mod / mask_mod): the time of each model over the time of the
same attention without the modifier (full or causal), one head, batch 1,
f32, random inputs. All models compiled by the attnc of the build and
called in one process, alternately, best of --repeat calls each.

  OMP_NUM_THREADS=1 python3 bench/modifiers.py [--n 1024 2048] [--d 64]
      [--repeat 9]

Needs only the Python standard library and the build (build/bin/attnc, or
attnc on PATH / $ATTNC_TOOLS_DIR).
"""

import argparse
import array
import random

from timing import T, best_ms, random_tensor

MODEL = """
model {name} {{
  dims  n, d = {d}
  batch b
  input Q, K, V : f32[b, n, d]
  input seg : i32[b, n]
  param slope, steep : f32[1]
  param B : f32[17]
  query   q = Q
  keys    k = K
  values  v = V
  score   e[i, l] = {score}
  {mask}
  align   a = softmax(e)
  context c = sum(a * v)
  output  O = c
}}
"""

# name: (score expression, mask, baseline name)
MODELS = {
    "full": ("scaled_dot(q, k)", "", None),
    "causal": ("scaled_dot(q, k)", "mask [i, l]: l <= i", None),
    "alibi": ("scaled_dot(q, k) - slope[0] * (i - l)", "mask [i, l]: l <= i",
              "causal"),
    # A bias whose scores spread past -80 within a key tile: weights that
    # small, times values, would be subnormal (kept out by the kernels'
    # exp, which makes weights under 2^-100 zero).
    "steep": ("scaled_dot(q, k) - steep[0] * (i - l)", "", "full"),
    "relpos": ("scaled_dot(q, k) + B[min(max(l - i, -8), 8) + 8]", "",
               "full"),
    "softcap": ("30.0 * tanh(scaled_dot(q, k) / 30.0)", "", "full"),
    "documents": ("scaled_dot(q, k)",
                  "mask [i, l]: seg[i] == seg[l] && l <= i", "causal"),
}


def tensor(shape, rng, dtype=T.ATTNC_F32, fill=None):
    """Random f32 values, `fill` everywhere, or (i32) document ids: about
    256 positions each, in order."""
    if fill is not None:
        return T.Tensor(None, shape,
                        buffer=array.array("f", [fill] * T.prod(shape)))
    if dtype == T.ATTNC_I32:
        ids = array.array("i", (j // 256 for j in range(T.prod(shape))))
        return T.Tensor(None, shape, dtype=dtype, buffer=ids)
    return random_tensor(shape, rng)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=9)
    opts = parser.parse_args()
    source = "".join(MODEL.format(name=name, d=opts.d, score=score,
                                  mask=mask)
                     for name, (score, mask, _) in MODELS.items())
    lib = T.compile(source, extra_args=["-Wno-unused"])
    models = {name: lib.model(name) for name in MODELS}
    rng = random.Random(7)
    print("%-10s %6s %4s | %9s | %-8s %s" % ("model", "n", "d", "ms",
                                             "baseline", "ratio"))
    for n in opts.n:
        args = [tensor([1, n, opts.d], rng) for _ in range(3)]
        # ALiBi's largest slope (8 heads: 2^-1), a steep one, the T5-like
        # table of 17 distances.
        args += [tensor([1, n], rng, T.ATTNC_I32), tensor([1], rng, fill=0.5),
                 tensor([1], rng, fill=0.8), tensor([17], rng),
                 tensor([1, n, opts.d], rng)]
        times = {name: [] for name in MODELS}
        for model in models.values():
            model.call(args)  # warm up
        for _ in range(3):  # alternate, so that drift hits all
            for name, model in models.items():
                times[name].append(best_ms(model, args, opts.repeat))
        best = {name: min(t) for name, t in times.items()}
        for name, (_, _, base) in MODELS.items():
            ratio = "%.2f" % (best[name] / best[base]) if base else ""
            print("%-10s %6d %4d | %9.3f | %-8s %s" % (name, n, opts.d,
                                                       best[name], base or "",
                                                       ratio))


if __name__ == "__main__":
    main()
