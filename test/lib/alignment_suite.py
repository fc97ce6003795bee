"""The alignments sigmoid(e), argmax(e), hard(e; seed) (docs/language.md)
with the interval masks, for alignments*.py: the models of
interval_mask_suite with another align item, and argmax ties. The reference
is reference.masked_sigmoid / masked_argmax."""

import attnc_testlib as T
import interval_mask_suite as S

CONFIGS = [
    ("none", [], {}),
    ("c", ["causal"], {"causal": True}),
    ("cm3", ["causal(-3)"], {"causal": True, "causal_offset": -3}),
    ("l", ["lengths(L)"], {"lengths": "L"}),
    ("w1", ["window(1)"], {"window": 1}),
    ("w5c", ["window(5)", "causal"], {"window": 5, "causal": True}),
    ("w70cl", ["window(70)", "causal(-1)", "lengths(L)"],
     {"window": 70, "causal": True, "causal_offset": -1, "lengths": "L"}),
    ("prel", ["prefix(P)", "lengths(L)"],
     {"causal": True, "prefix": "P", "lengths": "L"}),
]

# scaled_dot is the blocked kernel's score under softmax: the other
# alignments must take the generic kernel; additive is generic anyway.
KINDS = [("scaled_dot", None), ("additive", "tanh")]
ALIGNS = ["sigmoid", "argmax", "hard"]
SEED = 3141592653  # above 2^31: the seed is an unsigned 32-bit value


def align_call(align):
    return "hard(e; seed = %d)" % SEED if align == "hard" else align + "(e)"


def model(name, align, kind, act, masks, fields, single=False):
    src, spec = S.model(name, kind, act, masks, fields, single=single,
                        lse=False)
    assert "align a = softmax(e)" in src
    src = src.replace("align a = softmax(e)", "align a = " + align_call(align))
    src = src.replace("  mask \n", "")
    spec["align"] = align
    spec["seed"] = SEED
    return src, spec


def heads_model(align):
    """Four heads with a learned projection: the sample is keyed by the head
    and the batch entry."""
    name = "heads_" + align
    src = "\n".join([
        "model %s {" % name,
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
        "    align   a = " + align_call(align),
        "    context c = sum(a * V)",
        "  }",
        "  output y = concat(c)",
        "  output A = a",
        "}", ""])
    spec = {"batch": 1, "inputs": ["X"], "heads": 4, "feature": None,
            "query": ("X", "Wq", None), "keys": ("X", "Wk", None),
            "values": ("X", "Wv", None), "score": ("scaled_dot", [], "tanh"),
            "causal": True, "causal_offset": -1, "window": 9,
            "align": align, "seed": SEED,
            "outputs": [("y", "c"), ("A", "a")]}
    return name, src, spec


def tie_rows(period):
    """Key rows repeating with `period`: equal keys, so exactly tied scores
    (the first of them must win)."""
    def make(shape, rng, dims):
        w = shape[-1]
        base = [[rng.uniform(-1, 1) for _ in range(w)] for _ in range(period)]
        rows = T.prod(shape) // w if w else 0
        return [base[r % period][j] for r in range(rows) for j in range(w)]
    return make


def ties_model(name, masks, fields):
    lines = ["model %s {" % name,
             "  dims n_k, n_q, d = 8",
             "  batch b",
             "  input X : f32[b, n_k, d]",
             "  input Y : f32[b, n_k, d]",
             "  input S : f32[b, n_q, d]",
             "  query q = S", "  keys K = X", "  values V = Y",
             "  score e = dot(q, K)"]
    if masks:
        lines.append("  mask " + ", ".join(masks))
    lines += ["  align a = argmax(e)", "  context c = sum(a * V)",
              "  output y = c", "  output A = a", "}", ""]
    spec = {"batch": 1, "inputs": ["X", "Y", "S"], "query": ("S", None, None),
            "keys": ("X", None, None), "values": ("Y", None, None),
            "score": ("dot", [], "tanh"), "align": "argmax",
            "outputs": [("y", "c"), ("A", "a")]}
    spec.update(fields)
    return "\n".join(lines), spec


def run(configs=CONFIGS, kinds=KINDS, seed=53, sizes=S.SIZES, checker=None):
    own = checker is None
    checker = checker or T.Checker()
    models = []
    for align in ALIGNS:
        for kind, act in kinds:
            for cname, masks, fields in configs:
                name = "%s_%s_%s" % (align, kind, cname)
                models.append((name,) + model(name, align, kind, act, masks,
                                              fields))
                models.append((name + "_1q",) + model(
                    name + "_1q", align, kind, act, masks, fields,
                    single=True))

    def size_list(name):
        chosen = S.SIZES_1Q if name.endswith("_1q") else sizes
        return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in chosen]

    ov = {"L": T.lengths_override, "P": S.prefix_override}
    T.run_models(checker, models, size_list, seed=seed, overrides=ov,
                 scale={"W1": 2.0, "W2": 2.0, "w": 3.0})
    T.run_models(checker, [heads_model(a) for a in ALIGNS],
                 [{"n": n, "b": b} for n, b in [(1, 1), (0, 2), (13, 2),
                                                 (66, 2)]], seed=seed + 7)
    ties = [("ties_%s" % cname,) + ties_model("ties_%s" % cname, masks, fields)
            for cname, masks, fields in [
                ("none", [], {}), ("c", ["causal"], {"causal": True}),
                ("w4", ["window(4)"], {"window": 4}),
                ("l", ["lengths(L)"], {"lengths": "L"})]]
    ties[-1] = (ties[-1][0], ties[-1][1].replace(
        "  input S", "  input L : i32[b]\n  input S"),
        dict(ties[-1][2], inputs=["X", "Y", "S", "L"]))
    for period in (1, 3):
        T.run_models(checker, ties,
                     [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in
                      [(1, 1, 1), (3, 7, 2), (17, 17, 2), (5, 67, 1),
                       (2, 130, 2)]],
                     seed=seed + period,
                     overrides={"X": tie_rows(period),
                                "L": T.lengths_override})
    if own:
        checker.finish()
