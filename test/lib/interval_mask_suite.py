"""The interval masks (window, causal(offset), prefix) alone and combined
with causal and lengths, for interval_masks*.py: models, sizes, overrides.
The reference is reference.visible, written from docs/language.md."""

import attnc_testlib as T

# (name, mask items, spec fields, inputs)
CONFIGS = [
    ("w1", ["window(1)"], {"window": 1}),
    ("w3", ["window(3)"], {"window": 3}),
    ("w16", ["window(16)"], {"window": 16}),
    ("w64", ["window(64)"], {"window": 64}),
    ("w200", ["window(200)"], {"window": 200}),
    ("wdim", ["window(ws)"], {"window": 5}),
    ("cm3", ["causal(-3)"], {"causal": True, "causal_offset": -3}),
    ("c0", ["causal(0)"], {"causal": True}),
    ("cp2", ["causal(2)"], {"causal": True, "causal_offset": 2}),
    ("cp100", ["causal(100)"], {"causal": True, "causal_offset": 100}),
    ("pre", ["prefix(P)"], {"causal": True, "prefix": "P"}),
    ("w5c", ["window(5)", "causal"], {"window": 5, "causal": True}),
    ("w20cm2", ["window(20)", "causal(-2)"],
     {"window": 20, "causal": True, "causal_offset": -2}),
    ("w7l", ["window(7)", "lengths(L)"], {"window": 7, "lengths": "L"}),
    ("w70cl", ["window(70)", "causal(-1)", "lengths(L)"],
     {"window": 70, "causal": True, "causal_offset": -1, "lengths": "L"}),
    ("cm3l", ["causal(-3)", "lengths(L)"],
     {"causal": True, "causal_offset": -3, "lengths": "L"}),
    ("prel", ["prefix(P)", "lengths(L)"],
     {"causal": True, "prefix": "P", "lengths": "L"}),
    ("precm2", ["causal(-2)", "prefix(P)"],
     {"causal": True, "causal_offset": -2, "prefix": "P"}),
]

KINDS = [("scaled_dot", None), ("additive", "tanh")]


def model(name, kind, act, masks, fields, single=False, lse=True, d=16,
          weights=True):
    d_q = d if kind in T.SAME_DIM_SCORES else 3
    decl, params = T.SCORE_DECLS[kind]
    qname = "s" if single else "S"
    qshape = "b, d_q" if single else "b, n_q, d_q"
    lines = ["model %s {" % name,
             "  dims n_k,%s d = %d, d_q = %d, d_w = 5, ws = 5" % (
                 "" if single else " n_q,", d, d_q),
             "  batch b",
             "  input X : f32[b, n_k, d]",
             "  input %s : f32[%s]" % (qname, qshape)]
    inputs = ["X", qname]
    for t in ("L", "P"):
        if fields.get("lengths") == t or fields.get("prefix") == t:
            lines.append("  input %s : i32[b]" % t)
            inputs.append(t)
    if decl:
        lines.append("  param " + decl)
    args = "q, K" + ("; " + ", ".join(params) if params else "")
    if act:
        args += ", act = " + act
    lines += ["  query q = %s" % qname, "  keys K = X", "  values V = X",
              "  score e = %s(%s)" % (kind, args),
              "  mask " + ", ".join(masks),
              "  align a = softmax(e)",
              "  context c = sum(a * V)",
              "  output y = c"]
    lines += (["  output A = a"] if weights else []) + \
        (["  output z = logsumexp(e)"] if lse else []) + ["}", ""]
    spec = {"batch": 1, "inputs": inputs, "query": (qname, None, None),
            "keys": ("X", None, None), "values": ("X", None, None),
            "score": (kind, params, act or "tanh"),
            "outputs": [("y", "c")] + ([("A", "a")] if weights else []) +
            ([("z", "lse")] if lse else [])}
    spec.update(fields)
    return "\n".join(lines), spec


# (n_q, n_k, b): n = 1, empty, primes, around the key tile 64 and the
# vector width 16, n_q != n_k.
SIZES = [(1, 1, 1), (0, 5, 1), (4, 0, 2), (3, 7, 3), (13, 5, 2), (17, 17, 2),
         (16, 31, 2), (5, 64, 2), (67, 67, 1), (31, 130, 1)]
SIZES_1Q = [(1, 1, 1), (1, 0, 1), (1, 7, 2), (1, 67, 2)]


def prefix_override(shape, rng, dims):
    n_k = dims.get("n_k", 0)
    pool = [n_k // 2, 0, n_k, -3, n_k + 5, 1, 17]
    start = rng.randrange(len(pool)) if T.prod(shape) < 2 else 0
    return [pool[(start + i) % len(pool)] for i in range(T.prod(shape))]


def run(configs=CONFIGS, kinds=KINDS, seed=41, sizes=SIZES, huge=True,
        lse=True, checker=None, weights=True, single=True):
    """Runs the suite; exits at the end unless a `checker` is given."""
    models = []
    for kind, act in kinds:
        for cname, masks, fields in configs:
            name = "%s_%s" % (kind, cname)
            models.append((name,) + model(name, kind, act, masks, fields,
                                          lse=lse, weights=weights))
            if not single:
                continue
            name1 = name + "_1q"
            models.append((name1,) + model(name1, kind, act, masks, fields,
                                           single=True, lse=lse,
                                           weights=weights))

    def size_list(name):
        chosen = SIZES_1Q if name.endswith("_1q") else sizes
        return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in chosen]

    ov = {"L": T.lengths_override, "P": prefix_override}
    own = checker is None
    checker = checker or T.Checker()
    T.run_models(checker, models, size_list, seed=seed, overrides=ov,
                 scale={"W1": 2.0, "W2": 2.0, "w": 3.0})
    if huge:
        # Huge logits: scores up to ~100, exp of which overflows fp32 (the
        # online max must rescale); larger scores lose the tolerance to the
        # fp32 rounding of the score itself.
        big = [m for m in models if m[0].startswith("scaled_dot")
               and not m[0].endswith("_1q")]
        T.run_models(checker, big, [{"n_q": 70, "n_k": 70, "b": 1}],
                     seed=seed + 100, overrides=ov,
                     scale={"X": 10.0, "S": 10.0})
    if own:
        checker.finish()


def run_heads_lse(seed=47, checker=None):
    """The log-sum-exp with heads (the lse's [b, h, n_q] layout), under a
    window and causal(-1)."""
    src = "\n".join([
        "model heads_lse {",
        "  dims n, d = 16, d_k = 8",
        "  batch b",
        "  input X : f32[b, n, d]",
        "  param Wq, Wk, Wv : f32[4, d_k, d]",
        "  heads 4 {",
        "    query   Q = Wq X",
        "    keys    K = Wk X",
        "    values  V = Wv X",
        "    score   e = scaled_dot(Q, K)",
        "    mask    window(9), causal(-1)",
        "    align   a = softmax(e)",
        "    context c = sum(a * V)",
        "  }",
        "  output z = logsumexp(e)",
        "  output y = concat(c)",
        "}", ""])
    spec = {"batch": 1, "inputs": ["X"], "heads": 4,
            "feature": None,
            "query": ("X", "Wq", None), "keys": ("X", "Wk", None),
            "values": ("X", "Wv", None), "score": ("scaled_dot", [], "tanh"),
            "causal": True, "causal_offset": -1, "window": 9,
            "outputs": [("z", "lse"), ("y", "c")]}
    own = checker is None
    checker = checker or T.Checker()
    T.run_models(checker, [("heads_lse", src, spec)],
                 [{"n": n, "b": b} for n, b in [(1, 1), (0, 2), (13, 2),
                                                 (66, 1)]], seed=seed)
    if own:
        checker.finish()
