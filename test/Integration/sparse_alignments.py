# RUN: %python %s
# The sparse alignments sparsemax(e) and entmax15(e) (1.5-entmax) against
# the float64 references of test/lib/reference.py (masked_sparsemax,
# masked_entmax15: the sorted algorithms): scaled_dot (static D: vector
# scores) and additive, with causal, causal(offset), lengths, window and
# prefix masks and the weights output; a dynamic d (scalar loops); awkward
# sizes (n_k = 1, primes, 17, 63/64/65, 130, n_q = 0, n_k = 0, batch 0);
# rows that see no key; huge logits (scores ~1e4); tied scores (repeated key
# rows, all equal). Besides the tolerance, the weights of a row that sees a
# key sum to 1 (|sum - 1| <= 1e-5), and every weight the reference puts at 0
# (masked, or off the support) is exactly 0.
# Compiled with the default flags and with --tile-size=16 (rows over many
# key tiles).

import os
import sys

import alignment_suite as A
import attnc_testlib as T
import reference as R

ALIGNS = ["sparsemax", "entmax15"]
# (n_q, n_k, b)
SIZES = [(1, 1, 1), (0, 5, 1), (4, 0, 2), (3, 5, 0), (3, 7, 3), (13, 5, 2),
         (17, 17, 2), (5, 63, 2), (4, 64, 1), (65, 65, 1), (31, 130, 1)]
SIZES_1Q = [(1, 1, 1), (1, 0, 1), (1, 7, 2), (1, 67, 2)]


def dynamic_d_model(align):
    """d dynamic: scalar scores and scalar context loops."""
    name = "dyn_" + align
    src = "\n".join([
        "model %s {" % name,
        "  dims n_q, n_k, d",
        "  batch b",
        "  input X : f32[b, n_k, d]",
        "  input S : f32[b, n_q, d]",
        "  input L : i32[b]",
        "  query q = S", "  keys K = X", "  values V = X",
        "  score e = dot(q, K)",
        "  mask causal, lengths(L)",
        "  align a = %s(e)" % align,
        "  context c = sum(a * V)",
        "  output y = c", "  output A = a", "}", ""])
    spec = {"batch": 1, "inputs": ["X", "S", "L"], "query": ("S", None, None),
            "keys": ("X", None, None), "values": ("X", None, None),
            "score": ("dot", [], "tanh"), "causal": True, "lengths": "L",
            "align": align, "outputs": [("y", "c"), ("A", "a")]}
    return name, src, spec


def weights_properties(checker, name, src, spec, dims, seed, overrides=None,
                       scale=None):
    """Calls the model and checks the weights output `A` ([b, n_q, n_k]):
    rows that see a key sum to 1; entries where the reference is 0 are 0."""
    lib = T.compile(src)
    m = lib.model(name)
    sig = m.signature()
    data = T.random_tensors(sig, dims, seed, overrides, scale)
    tensors, out = [], None
    for a in sig["args"]:
        shape = T.resolve(a["shape"], dims)
        if a["role"] == "output":
            t = T.Tensor.full(shape, T.SENTINEL, T.DTYPES[a["dtype"]])
            if a["name"] == "A":
                out = (t, shape)
        else:
            t = T.Tensor(data[a["name"]][1], shape, T.DTYPES[a["dtype"]])
        tensors.append(t)
    checker.check(m.call(tensors) == 0, "%s: call failed" % name)
    expected = R.evaluate(spec, data)
    if expected is None:
        return
    got, shape = out[0].values(), out[1]
    ref = expected["A"][1]
    n_k = shape[-1]
    what = "%s dims=%s seed=%d" % (name, dims, seed)
    for row in range(len(got) // n_k if n_k else 0):
        g = got[row * n_k:(row + 1) * n_k]
        r = ref[row * n_k:(row + 1) * n_k]
        if sum(r) > 0:
            checker.check(abs(sum(g) - 1.0) <= 1e-5,
                          "%s: row %d sums to %r" % (what, row, sum(g)))
        else:
            checker.check(all(x == 0.0 for x in g),
                          "%s: row %d sees no key but has weights" % (what, row))
        bad = [l for l in range(n_k) if r[l] == 0.0 and g[l] != 0.0]
        checker.check(not bad, "%s: row %d: weights %r at keys %r where the "
                      "reference has 0" % (what, row, [g[l] for l in bad], bad))


def run(seed):
    checker = T.Checker()
    models = []
    for align in ALIGNS:
        for kind, act in A.KINDS:
            for cname, masks, fields in A.CONFIGS:
                name = "%s_%s_%s" % (align, kind, cname)
                models.append((name,) + A.model(name, align, kind, act,
                                                masks, fields))
                models.append((name + "_1q",) + A.model(
                    name + "_1q", align, kind, act, masks, fields,
                    single=True))

    def size_list(name):
        chosen = SIZES_1Q if name.endswith("_1q") else SIZES
        return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in chosen]

    ov = {"L": T.lengths_override, "P": A.S.prefix_override}
    # Weights of a few units (additive's w), so that supports are small.
    T.run_models(checker, models, size_list, seed=seed, overrides=ov,
                 scale={"W1": 2.0, "W2": 2.0, "w": 3.0})
    dyn = [dynamic_d_model(a) for a in ALIGNS]
    T.run_models(checker, dyn,
                 [{"n_q": nq, "n_k": nk, "d": d, "b": b} for nq, nk, d, b in
                  [(1, 1, 3, 1), (5, 17, 7, 2), (65, 65, 5, 1),
                   (3, 130, 0, 2), (2, 0, 4, 1)]],
                 seed=seed + 1, overrides={"L": T.lengths_override})
    # Huge logits: scaled_dot scores ~1e4 (the rows are one-hot or tied).
    big = [m for m in models if m[0].endswith("scaled_dot_none")
           or m[0].endswith("scaled_dot_w5c")]
    T.run_models(checker, big, [{"n_q": 17, "n_k": 63, "b": 1}],
                 seed=seed + 2, scale={"X": 150.0, "S": 150.0})
    # Ties: repeated key rows give exactly equal scores (period 1: all
    # equal, the uniform distribution over the visible keys), also at
    # the 1e4 scale.
    for period in (1, 3):
        for big_scale in (1.0, 150.0):
            T.run_models(checker, [m for m in models
                                   if "_scaled_dot_" in m[0]],
                         [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in
                          [(3, 7, 2), (17, 17, 1), (5, 65, 1)]],
                         seed=seed + 3 + period,
                         overrides=dict(ov, X=A.tie_rows(period)),
                         scale={"S": big_scale})
    # The weights' properties.
    props = [m for m in models if m[0].endswith(("_none", "_c", "_w70cl",
                                                  "_prel"))]
    for name, src, spec in props:
        for i, (nq, nk, b) in enumerate([(17, 17, 2), (5, 130, 3)]):
            checker.run(weights_properties, checker, name, src, spec,
                        {"n_q": nq, "n_k": nk, "b": b}, seed + 10 + i,
                        overrides=ov, scale={"W1": 2.0, "W2": 2.0, "w": 3.0})
    checker.finish()


for flags in ("", "--tile-size=16"):
    print("flags:", flags or "(default)", flush=True)
    os.environ["ATTNC_TEST_FLAGS"] = flags
    pid = os.fork()
    if pid == 0:
        run(seed=61 if not flags else 67)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise SystemExit("failed with " + (flags or "the default flags"))
