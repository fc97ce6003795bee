# RUN: %python %s
# Grouped-query heads with one query per head (a decoder's step):
# -attn-group-query-heads makes the h / g query heads of each key/value
# head the queries of one head (views, no copy), whose tile reads the keys
# in place once for the group (BlockedDot.cpp; a group of more than 8 is
# two tiles, which pack the keys). Checked against a float64 reference of
# the model as written (query head j reads key/value head j // (h / g))
# for groups of 2, 3, 4, 8 and 16 query heads (8 and 16: every head of the
# model sharing one key head, multi-query attention), d_k = 16, 19, 32, 64
# and 128 (a shorter last vector), n_k = 0, 1, primes and past a key tile
# and a key split, batches of 0-3, a causal mask (which masks nothing for
# one query and is dropped), a lengths mask, and the weights and
# log-sum-exp outputs through the strided views.
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import math

import attnc_testlib as T
import survey_reference as R


def source(name, h, g, d, d_k, causal, lengths, extras):
    masks = (["causal"] if causal else []) + (["lengths(L)"] if lengths else [])
    return "\n".join([
        "model %s {" % name,
        "  dims h = %d, g = %d, n_q = 1, n_k, d = %d, d_k = %d" % (h, g, d, d_k),
        "  batch b",
        "  input X : f32[b, n_q, d]",
        "  input M : f32[b, n_k, d]",
    ] + (["  input L : i32[b]"] if lengths else []) + [
        "  param Wq : f32[h, d_k, d]",
        "  param Wk, Wv : f32[g, d_k, d]",
        "  heads h {",
        "    query   q = Wq X",
        "    keys    k = Wk M",
        "    values  v = Wv M",
        "    score   e = scaled_dot(q, k)",
    ] + (["    mask    " + ", ".join(masks)] if masks else []) + [
        "    align   a = softmax(e)",
        "    context c = sum(a * v)",
        "  }",
        "  output  O = concat(c)",
    ] + (["  output  A = a", "  output  Z = logsumexp(e)"] if extras else [])
      + ["}", ""])


def reference(lengths, extras):
    def ref(T_, S):
        nb, _, d = S["X"]
        n_k = S["M"][1]
        h, g = S["Wq"][0], S["Wk"][0]
        per_group = h // g
        out, weights, lse = [], [], []
        for i in range(nb):
            x = T_["X"][i][0]
            visible = n_k
            if lengths:
                visible = R.clamp_length(T_["L"][i], n_k)
            rows = T_["M"][i]
            o, a_b, z_b = [], [], []
            for j in range(h):
                m = j // per_group
                q = R.matvec(T_["Wq"][j], x)
                keys = [R.matvec(T_["Wk"][m], r) for r in rows]
                values = [R.matvec(T_["Wv"][m], r) for r in rows]
                e = [R.score_scaled_dot(q, keys[l]) if l < visible else None
                     for l in range(n_k)]
                c, a = R.attend(e, values, len(q))
                o += c
                a_b.append([a])
                live = [s for s in e if s is not None]
                if live:
                    top = max(live)
                    z = top + math.log(sum(math.exp(s - top) for s in live))
                else:
                    z = -math.inf
                z_b.append([z])
            out.append([o])
            weights.append(a_b)
            lse.append(z_b)
        d_k = S["Wq"][1]
        result = {"O": ([nb, 1, h * d_k], out)}
        if extras:
            result["A"] = ([nb, h, 1, n_k], weights)
            result["Z"] = ([nb, h, 1], lse)
        return result
    return ref


checker = T.Checker()
CASES = [
    # h, g, d_k, causal, lengths, extras
    (8, 4, 64, True, False, False),    # groups of 2, in place
    (6, 2, 19, False, True, True),     # groups of 3, a shorter last vector
    (8, 2, 128, True, True, False),    # groups of 4, in place
    (8, 1, 128, False, False, True),   # one key head: 8 queries, in place
    (16, 2, 32, True, False, False),   # groups of 8 of d_k = 32
    (8, 2, 16, False, True, True),     # groups of 4 of d_k = 16
    (16, 1, 32, False, True, True),    # a group of 16: two tiles, packed
]
SIZES = [(1, 1), (0, 2), (7, 3), (17, 1), (130, 2), (1031, 1), (3, 0)]
for c, (h, g, d_k, causal, lengths, extras) in enumerate(CASES):
    name = "gqa_%d_%d_%d" % (h, g, d_k)
    src = source(name, h, g, 24, d_k, causal, lengths, extras)
    try:
        lib = T.compile(src)
        model = lib.model(name)
    except T.CompileError as e:
        checker.check(False, str(e))
        continue
    for i, (n_k, b) in enumerate(SIZES):
        dims = {"b": b, "n_k": n_k}
        overrides = {"L": T.lengths_override} if lengths else None
        checker.run(R._run_case, T, model, reference(lengths, extras), dims,
                    100 * c + i, overrides, {"Wq": 0.5, "Wk": 0.5, "Wv": 0.5},
                    "group_query_heads h=%d g=%d d_k=%d" % (h, g, d_k))
checker.finish()
