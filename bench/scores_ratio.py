#!/usr/bin/env python3
"""The other score functions against scaled dot: the time of one head of
attention with each score, over the time of the same attention with
scaled_dot (issue 7: general, biased / activated general and cosine within
1.5x). d_q = d, batch 1, n_q = n_k = n, f32, random inputs (W scaled by
0.2 so that the scores stay O(1)); every model in one library, called in
turn, best of --repeat calls each, over --rounds rounds (the best counts).

  OMP_NUM_THREADS=1 python3 bench/scores_ratio.py [--n 1024 2048] [--d 64]
      [--repeat 7] [--rounds 3]

Needs only the Python standard library and the build (build/bin/attnc, or
attnc on PATH / $ATTNC_TOOLS_DIR).
"""

import argparse

from timing import T, best_ms

SCORES = [("scaled_dot", None), ("dot", None), ("general", None),
          ("biased_general", None), ("activated_general", "tanh"),
          ("cosine", None)]


def model_name(kind, act):
    return "s_%s%s" % (kind, "_" + act if act else "")


def arguments(model, dims, seed):
    """Random inputs and params of the signature, outputs zeroed, in the
    signature's order."""
    sig = model.signature()
    data = T.random_tensors(sig, dims, seed, scale={"W": 0.2})
    args = []
    for a in sig["args"]:
        shape = T.resolve(a["shape"], dims)
        if a["role"] == "output":
            args.append(T.Tensor([0.0] * T.prod(shape), shape))
        else:
            args.append(T.Tensor(data[a["name"]][1], shape))
    return args


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    source = "".join(
        T.score_model(model_name(kind, act), kind, act, d=opts.d, d_q=opts.d,
                      weights=False)[0] for kind, act in SCORES)
    lib = T.compile(source)
    models = [lib.model(model_name(kind, act)) for kind, act in SCORES]
    print("%-24s %6s %4s | %9s | %s" % ("score", "n", "d", "ms",
                                        "/ scaled_dot"))
    for n in opts.n:
        dims = {"n_q": n, "n_k": n, "b": 1}
        args = [arguments(m, dims, seed) for seed, m in enumerate(models)]
        for m, a in zip(models, args):
            m.call(a)  # warm up
        best = [float("inf")] * len(models)
        for _ in range(opts.rounds):  # in turn, so that drift hits all
            for i, (m, a) in enumerate(zip(models, args)):
                best[i] = min(best[i], best_ms(m, a, opts.repeat))
        for (kind, act), ms in zip(SCORES, best):
            label = kind + ("(%s)" % act if act else "")
            print("%-24s %6d %4d | %9.3f | %.2f" % (label, n, opts.d, ms,
                                                    ms / best[0]))


if __name__ == "__main__":
    main()
