#!/usr/bin/env python3
"""bf16 against fp32 attention, attnc only, in one run (issue 7, item 4).

Compiles the same scaled-dot model several ways and times them in turn on
[b, h, n, d] inputs:

  f32          f32 arguments, f32 kernel
  bf16 args    bf16 arguments and output, --dot-precision=f32: widened to
               f32 on entry, f32 kernel
  bf16 default bf16 arguments and output, attnc's default for a bf16 model
               (--dot-precision=auto; attnc --version says what it picks)
  bf16 vdp     bf16 arguments and output, --dot-precision=bf16 --amx=false:
               Q.K^T and P.V with vdpbf16ps (f32 accumulation)
  bf16 amx     bf16 arguments and output, --dot-precision=bf16: the
               products on the AMX tile unit (tdpbf16ps) where the host has
               AMX-BF16

and prints GFLOP/s (4 h n^2 d / time; causal: 2 h n (n + 1) d) and the rates
relative to f32. Needs NumPy and an attnc build; the vdp row needs a CPU
with AVX512-BF16, the amx row one with AMX-BF16 (each is left out
otherwise).

    OMP_NUM_THREADS=1 python3 bench/bf16.py [--n 2048 4096] [--d 64 128]
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
model sdpa {
  dims h, n, d = %(d)d
  batch b
  input Qin : %(t)s[b, h, n, d]
  input Kin : %(t)s[b, h, n, d]
  input Vin : %(t)s[b, h, n, d]
  query   q = Qin
  keys    K = Kin
  values  V = Vin
  score   e = scaled_dot(q, K)
  %(mask)s
  align   a = softmax(e)
  context c = sum(a * V)
  output  O : %(t)s = c
}
"""


def bf16_bits(x):
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(h):
    return (h.astype(np.uint32) << 16).view(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[2048, 4096])
    ap.add_argument("--d", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--heads", type=int, default=1)
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--repeat", type=int, default=8)
    ap.add_argument("--compiler", default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    mask = "mask causal" if args.causal else ""
    print("threads: OMP_NUM_THREADS=%s" % os.environ.get("OMP_NUM_THREADS", "(all)"))
    print("%-6s %-4s %-12s %10s %10s %8s %10s" % (
        "n", "d", "variant", "ms", "GFLOP/s", "x f32", "max|err|"))
    for d in args.d:
        variants = [
            ("f32", attnc.compile(MODEL % {"d": d, "t": "f32", "mask": mask},
                                  compiler=args.compiler).sdpa),
            ("bf16 args", attnc.compile(MODEL % {"d": d, "t": "bf16", "mask": mask},
                                        flags=["--dot-precision=f32"],
                                        compiler=args.compiler).sdpa),
            ("bf16 default", attnc.compile(MODEL % {"d": d, "t": "bf16", "mask": mask},
                                           compiler=args.compiler).sdpa),
        ]
        flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
        if " avx512_bf16" in flags:
            variants.append(("bf16 vdp", attnc.compile(
                MODEL % {"d": d, "t": "bf16", "mask": mask},
                flags=["--dot-precision=bf16", "--amx=false"],
                compiler=args.compiler).sdpa))
        if " amx_bf16" in flags:
            variants.append(("bf16 amx", attnc.compile(
                MODEL % {"d": d, "t": "bf16", "mask": mask},
                flags=["--dot-precision=bf16"], compiler=args.compiler).sdpa))
        for n in args.n:
            shape = (1, args.heads, n, d)
            qkv32 = [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(3)]
            qkv16 = [bf16_bits(x) for x in qkv32]
            qkv32 = [from_bf16(x) for x in qkv16]  # the same values
            outs = {"f32": np.empty(shape, np.float32)}
            best = {}
            for name, m in variants:
                if name != "f32":
                    outs[name] = np.empty(shape, np.uint16)
                inputs = qkv32 if name == "f32" else qkv16
                m(*inputs, out=(outs[name],))  # warm-up
                best[name] = float("inf")
            for _ in range(args.repeat):
                for name, m in variants:
                    inputs = qkv32 if name == "f32" else qkv16
                    t = time.perf_counter()
                    m(*inputs, out=(outs[name],))
                    best[name] = min(best[name], time.perf_counter() - t)
            flops = (2.0 * args.heads * n * (n + 1) * d if args.causal
                     else 4.0 * args.heads * n * n * d)
            ref = outs["f32"]
            for name, _ in variants:
                got = ref if name == "f32" else from_bf16(outs[name])
                print("%-6d %-4d %-12s %10.2f %10.1f %8.2f %10.2g" % (
                    n, d, name, best[name] * 1e3, flops / best[name] / 1e9,
                    best["f32"] / best[name], np.abs(got - ref).max()))


if __name__ == "__main__":
    main()
