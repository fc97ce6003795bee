# RUN: %python %s
# Multi-dimensional attention (survey eqs. 30-32, `multidim_additive`)
# compiled by attnc against the independent float64 reference
# test/lib/multidim_reference.py: every activation, several queries and a
# single query, heads, masks (causal, lengths including 0 and out-of-range
# ones, a window), awkward sizes (n_k = 0, 1, primes, 17, 63/64/65; no query,
# no batch entry; d_v = 1, 3, 17, 20; static sizes (the vector form of the
# kernel) and dynamic d_w, d_v (its scalar form)) and huge logits (scores of a few
# hundred: the per-feature running maximum must be subtracted).
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import attnc_testlib as T
import multidim_reference as R


def model(name, act="tanh", d=5, d_q=3, d_w=4, d_v=3, single=False,
          causal=False, lengths=False, window=None, heads=None, dynamic=False):
    """Keys X [b, n_k, d], values Y [b, n_k, d_v], queries S [b, n_q, d_q]
    (s [b, d_q] when `single`); with `heads`, per-head W1, W2, bw and a
    shared Wd. `dynamic`: d_w and d_v are dynamic (given at call time),
    which the kernel computes with scalar loops over buffers (the vector
    form needs static sizes)."""
    h = "%d, " % heads if heads else ""
    dynamic = ("d_w", "d_v") if dynamic is True else dynamic or ()
    sizes = ", ".join(n if n in dynamic else "%s = %d" % (n, v)
                      for n, v in (("d_w", d_w), ("d_v", d_v)))
    lines = [
        "model %s {" % name,
        "  dims %sn_k, d = %d, d_q = %d, %s"
        % ("" if single else "n_q, ", d, d_q, sizes),
        "  batch b",
        "  input X : f32[b, n_k, d]",
        "  input Y : f32[b, n_k, d_v]",
        "  input s : f32[b, d_q]" if single else "  input S : f32[b, n_q, d_q]",
    ]
    if lengths:
        lines.append("  input L : i32[b]")
    lines += [
        "  param W1 : f32[%sd_w, d_q]" % h,
        "  param W2 : f32[%sd_w, d]" % h,
        "  param bw : f32[%sd_w]" % h,
        "  param Wd : f32[d_v, d_w]",
    ]
    masks = [m for m in ("causal" if causal else None,
                         "lengths(L)" if lengths else None,
                         "window(%d)" % window if window else None) if m]
    step = [
        "query q = %s" % ("s" if single else "S"),
        "keys K = X",
        "values V = Y",
        "score e = multidim_additive(q, K; W1, W2, bw, Wd, act = %s)" % act,
    ] + (["mask " + ", ".join(masks)] if masks else []) + [
        "align a = softmax(e)",
        "context c = sum(a * V)",
    ]
    if heads:
        lines.append("  heads %d {" % heads)
        lines += ["    " + x for x in step]
        lines += ["  }", "  output y = concat(c)", "}"]
    else:
        lines += ["  " + x for x in step]
        lines += ["  output y = c", "}"]
    spec = dict(act=act, single=single, causal=causal, lengths=lengths,
                window=window, heads=heads,
                dims={n: v for n, v in (("d_w", d_w), ("d_v", d_v))
                      if n in dynamic})
    return name, "\n".join(lines) + "\n", spec


MODELS = [
    model("md_tanh"),
    model("md_relu", act="relu", causal=True, lengths=True, d_w=16, d_v=20),
    model("md_sigmoid", act="sigmoid", single=True, lengths=True, d_v=1),
    model("md_identity", act="identity", causal=True, d=7, d_q=2, d_w=3,
          d_v=17),
    model("md_window", window=5, lengths=True),
    model("md_heads", heads=2, causal=True),
    model("md_huge", d_w=6, d_v=4),
    # Dynamic d_w, d_v: the scalar form of the kernel.
    model("md_dyn", dynamic=True, d_w=5, d_v=17, causal=True, lengths=True),
    model("md_dyn_single", dynamic=True, act="relu", single=True, d_w=16,
          d_v=20),
    # (concat(c) needs a static d_v)
    model("md_dyn_heads", dynamic=("d_w",), heads=3, window=4, d_w=3, d_v=1),
]

SIZES = [  # (n_q, n_k, b)
    (1, 1, 1), (3, 7, 2), (17, 17, 1), (5, 63, 1), (4, 64, 1), (3, 65, 2),
    (2, 13, 3), (0, 5, 2), (2, 5, 0), (2, 0, 1),
]


def nest(flat, shape):
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat[:shape[0]])
    step = T.prod(shape[1:])
    return [nest(flat[i * step:(i + 1) * step], shape[1:])
            for i in range(shape[0])]


def flatten(x):
    if isinstance(x, list):
        return [v for item in x for v in flatten(item)]
    return [x]


def reference(spec, data):
    get = lambda name: nest(data[name][1], data[name][0])
    X, Y = get("X"), get("Y")
    Q = [[q] for q in get("s")] if spec["single"] else get("S")
    L = get("L") if spec["lengths"] else None
    args = dict(act=spec["act"], lengths=L, causal=spec["causal"],
                window=spec["window"])
    Wd = get("Wd")
    if not spec["heads"]:
        c = R.multidim_attention(Q, X, Y, get("W1"), get("W2"), get("bw"), Wd,
                                 **args)
        return [ci[0] for ci in c] if spec["single"] else c
    W1, W2, bw = get("W1"), get("W2"), get("bw")
    per_head = [R.multidim_attention(Q, X, Y, W1[h], W2[h], bw[h], Wd, **args)
                for h in range(spec["heads"])]
    # concat(c): the heads' contexts side by side, [b, n_q, h * d_v].
    return [[flatten([per_head[h][bi][i] for h in range(spec["heads"])])
             for i in range(len(Q[bi]))] for bi in range(len(Q))]


def lengths_override(shape, rng, dims):
    # 0, past n_k, negative, and in range.
    picks = [0, dims["n_k"] + 3, -1, rng.randint(0, dims["n_k"])]
    return [picks[i % 4] if i < 3 else rng.randint(0, dims["n_k"])
            for i in range(T.prod(shape))]


def run(name, source, spec, dims, seed):
    print("case:", name, dims, flush=True)
    m = T.compile(source).model(name)
    sig = m.signature()
    scale = {"Wd": 60.0} if name == "md_huge" else {"W1": 2.0, "Wd": 3.0}
    data = T.random_tensors(sig, dims, seed, {"L": lengths_override}, scale)
    tensors, out = [], None
    for a in sig["args"]:
        shape = T.resolve(a["shape"], dims)
        dtype = T.DTYPES[a["dtype"]]
        if a["role"] == "output":
            out = T.Tensor.full(shape, T.SENTINEL, dtype)
            tensors.append(out)
        else:
            tensors.append(T.Tensor(data[a["name"]][1], shape, dtype))
    rc = m.call(tensors)
    if rc != 0:
        raise T.CaseFailure("%s %s: status %d: %s" % (name, dims, rc,
                                                       m.last_error()))
    ref = flatten(reference(spec, data))
    msg = T.compare("y", out.values(), ref)
    if msg:
        raise T.CaseFailure("%s dims=%s seed=%d: %s\n--- source:\n%s" % (
            name, dims, seed, msg, source))


checker = T.Checker()
for name, source, spec in MODELS:
    for seed, (n_q, n_k, b) in enumerate(SIZES):
        dims = dict({"n_q": n_q, "n_k": n_k, "b": b}, **spec["dims"])
        if spec["single"]:
            del dims["n_q"]
            if n_q == 0:
                continue
        checker.run(run, name, source, spec, dims, seed)
checker.finish()
