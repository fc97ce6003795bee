# RUN: %python %s
# Score modifiers (`score e[hd, i, l] = EXPR`) and mask predicates
# (`mask [hd, i, l]: COND`) against a plain float64 reference written here
# from their definitions (docs/language.md, "Score modifiers and mask
# predicates"): ALiBi slopes per head, a clipped relative-position bias
# table, soft-capping with a temperature, document masks from segment ids
# (an input, with batch dims), predicates that are key bands (causal,
# causal with an offset, two-sided local windows that run off both ends,
# empty bands), a predictive local window from a value the model computes,
# with the weights output, reinforced attention (a selection input per key
# or per query and key), argmax, sigmoid, sparsemax and entmax15
# alignments; self- and
# cross-attention (n_q != n_k: i is the query's own index); awkward sizes
# (0, 1, primes, around the key tile 64 and the vector width 16) and huge
# logits. Compiled with the default flags and with --tile-size=16 (many key
# tiles, bands that skip whole tiles) and --vectorize=false.
# Tolerance: attnc_testlib's |got - ref| <= 1e-4 + 1e-4 |ref|.

import math
import os
import random

import attnc_testlib as T
import reference as R

TEMPLATE = """
model m {
  dims  n, m, d = 5, h = 2, d_k = 4
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d]
  param Wq, Wk, Wv : f32[h, d_k, d]
  %(decls)s
  %(lets)s
  heads h {
    query   q = Wq X
    keys    K = Wk S
    values  V = Wv S
    score   e[%(binders)s] = %(score)s
    %(mask)s
    align   a%(align_binders)s = %(align)s(e)%(factor)s
    context c = sum(a * V)
  }
  output C = concat(c)
  output A = a
}
"""

def matvec(w, x):
    return [sum(wr[c] * x[c] for c in range(len(x))) for wr in w]


def reference(data, dims, mod, pred, align, weight=None):
    """C [b, n, h*d_k] and A [b, h, n, m] in float64."""
    B, N, M = dims["b"], dims["n"], dims["m"]
    H, DK = len(data["Wq"]), len(data["Wq"][0])
    X = data["X"]
    S = data["S"]
    C = [[[0.0] * (H * DK) for _ in range(N)] for _ in range(B)]
    A = [[[[0.0] * M for _ in range(N)] for _ in range(H)] for _ in range(B)]
    for b in range(B):
        for h in range(H):
            ks = [matvec(data["Wk"][h], S[b][l]) for l in range(M)]
            vs = [matvec(data["Wv"][h], S[b][l]) for l in range(M)]
            for i in range(N):
                q = matvec(data["Wq"][h], X[b][i])
                es = []
                for l in range(M):
                    if not pred(b, h, i, l):
                        es.append(None)
                        continue
                    e = sum(x * y for x, y in zip(q, ks[l])) / math.sqrt(DK)
                    es.append(mod(e, b, h, i, l))
                vis = [l for l in range(M) if es[l] is not None and
                       es[l] != -math.inf]
                w = [0.0] * M
                if align == "softmax" and vis:
                    mx = max(es[l] for l in vis)
                    z = sum(math.exp(es[l] - mx) for l in vis)
                    for l in vis:
                        w[l] = math.exp(es[l] - mx) / z
                elif align == "sigmoid":
                    for l in vis:
                        w[l] = 1.0 / (1.0 + math.exp(-es[l]))
                elif align in ("sparsemax", "entmax15"):
                    fn = R.masked_sparsemax if align == "sparsemax" else \
                        R.masked_entmax15
                    seen = [l in vis for l in range(M)]
                    w = fn([es[l] if seen[l] else 0.0 for l in range(M)],
                           seen)
                elif align == "argmax" and vis:
                    best = max(vis, key=lambda l: (es[l], -l))
                    w[best] = 1.0
                if weight:
                    w = [w[l] * weight(b, h, i, l) if w[l] else 0.0
                         for l in range(M)]
                A[b][h][i] = w
                for c in range(DK):
                    C[b][i][h * DK + c] = sum(w[l] * vs[l][c] for l in range(M))
    return C, A


def nest(flat, shape):
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat[:shape[0]])
    step = T.prod(shape[1:])
    return [nest(flat[k * step:(k + 1) * step], shape[1:])
            for k in range(shape[0])]


def flatten(x):
    if isinstance(x, list):
        out = []
        for y in x:
            out.extend(flatten(y))
        return out
    return [x]


def run(checker, label, source, dims, mod, pred, align, seed, ints=None,
        scale=1.0, needs=(), weight=None, name="m"):
    def case():
        print("case:", label, dims, "seed", seed, flush=True)
        lib = T.compile(source)
        model = lib.model(name)
        sig = model.signature()
        rng = random.Random(seed)
        data, flat, tensors, outs = {}, {}, [], []
        for a in sig["args"]:
            shape = T.resolve(a["shape"], dims)
            n = T.prod(shape)
            if a["role"] == "output":
                t = T.Tensor.full(shape, T.SENTINEL, T.ATTNC_F32)
                outs.append((a["name"], t, shape))
                tensors.append(t)
                continue
            if a["dtype"] == "i32":
                vals = ints[a["name"]](shape, rng)
                t = T.Tensor(vals, shape, T.ATTNC_I32)
            else:
                vals = T.rounded_f32([rng.uniform(-1, 1) * (scale if a["name"] in ("X", "S") else 1.0)
                                      for _ in range(n)])
                if a["name"] in needs:
                    vals = T.rounded_f32(needs[a["name"]](shape, rng))
                t = T.Tensor(vals, shape, T.ATTNC_F32)
            data[a["name"]] = nest(vals, shape)
            tensors.append(t)
        rc = model.call(tensors)
        if rc != 0:
            raise T.CaseFailure("%s: returned %d: %s" % (label, rc,
                                                         model.last_error()))
        bound_mod = lambda e, b, h, i, l: mod(e, b, h, i, l, data, dims)
        bound_pred = lambda b, h, i, l: pred(b, h, i, l, data, dims)
        bound_weight = weight and (lambda b, h, i, l: weight(b, h, i, l, data,
                                                             dims))
        C, A = reference(data, dims, bound_mod, bound_pred, align,
                         bound_weight)
        problems = []
        for out_name, t, shape in outs:
            ref = flatten(C if out_name == "C" else A)
            msg = T.compare(out_name, t.values(), ref)
            if msg:
                problems.append(msg)
        if problems:
            raise T.CaseFailure("%s %s seed %d:\n  %s\n--- source:\n%s" % (
                label, dims, seed, "\n  ".join(problems), source))
    checker.run(case)


def source(score, mask="", binders="hd, i, l", align="softmax", decls="",
           lets="", factor=""):
    return TEMPLATE % dict(score=score, mask=mask, binders=binders,
                           align=align, decls=decls, lets=lets,
                           align_binders="[hd, i, l]" if factor else "",
                           factor=" * " + factor if factor else "")


def everything(b, h, i, l, data, dims):
    return True


def plain(e, b, h, i, l, data, dims):
    return e


SIZES = [dict(b=1, n=1, m=1), dict(b=2, n=7, m=7), dict(b=1, n=17, m=17),
         dict(b=1, n=67, m=67), dict(b=1, n=130, m=130), dict(b=2, n=0, m=0),
         dict(b=0, n=3, m=3)]
CROSS = [dict(b=1, n=5, m=19), dict(b=2, n=23, m=3), dict(b=1, n=66, m=131)]


def segments(shape, rng):
    # Sorted document ids per batch row (documents of random lengths).
    out = []
    rows = T.prod(shape[:-1])
    for _ in range(rows):
        doc, row = 0, []
        for _ in range(shape[-1]):
            if rng.random() < 0.2:
                doc += 1
            row.append(doc)
        out.extend(row)
    return out


def main():
    checker = T.Checker()
    seed = 7
    # ALiBi: a slope per head, the distance to the query, causal by a
    # predicate (a band: upper bound 0).
    alibi = source("scaled_dot(q, K) - slope[hd] * (i - l)",
                   mask="mask [hd, i, l]: l <= i",
                   decls="param slope : f32[h]")
    alibi_ref = lambda e, b, h, i, l, D, dims: e - D["slope"][h] * (i - l)
    causal = lambda b, h, i, l, D, dims: l <= i
    for dims in SIZES + CROSS:
        seed += 1
        run(checker, "alibi", alibi, dims, alibi_ref, causal, "softmax", seed)

    # A T5-like relative-position bias: a table per head, the distance
    # clipped to [-8, 8].
    relpos = source("scaled_dot(q, K) + B[hd, min(max(l - i, -8), 8) + 8]",
                    decls="param B : f32[h, 17]")
    relpos_ref = lambda e, b, h, i, l, D, dims: \
        e + D["B"][h][min(max(l - i, -8), 8) + 8]
    for dims in SIZES + CROSS:
        seed += 1
        run(checker, "relpos", relpos, dims, relpos_ref, everything,
            "softmax", seed)

    # Soft-capping with a temperature (huge logits: the cap keeps them in
    # [-c, c]).
    softcap = source("30.0 * tanh(scaled_dot(q, K) / temp / 30.0)",
                     decls="param temp : f32[1]", binders="i, l")
    softcap_ref = lambda e, b, h, i, l, D, dims: \
        30.0 * math.tanh(e / D["temp"][0] / 30.0)
    for dims in SIZES[:5]:
        seed += 1
        run(checker, "softcap", softcap, dims, softcap_ref, everything,
            "softmax", seed, scale=40.0,
            needs={"temp": lambda shape, rng: [0.5 + rng.random()]})

    # Document masking: segment ids (an input with batch dims), causal.
    docs = source("scaled_dot(q, K)",
                  mask="mask [hd, i, l]: seg[i] == seg[l] && l <= i",
                  decls="input seg : i32[b, n]")
    docs_pred = lambda b, h, i, l, D, dims: \
        D["seg"][b][i] == D["seg"][b][l] and l <= i
    for dims in SIZES:
        seed += 1
        run(checker, "documents", docs, dims, plain, docs_pred, "softmax",
            seed, ints={"seg": segments})

    # Bands: two-sided local windows (monotonic local attention), causal
    # with an offset, and an empty band (every key masked: zero context).
    bands = [
        ("abs(i - l) <= 3", lambda i, l: abs(i - l) <= 3),
        ("abs(l - i + 2) < 5", lambda i, l: abs(l - i + 2) < 5),
        ("l <= i + 2 && l > i - 20", lambda i, l: i - 20 < l <= i + 2),
        ("i - l >= 1", lambda i, l: i - l >= 1),
        ("l == i", lambda i, l: l == i),
        ("l < i - 1000", lambda i, l: l < i - 1000),
        ("2 * l >= 2 * i - 6 && l - i <= 0", lambda i, l: i - 3 <= l <= i),
    ]
    for text, fn in bands:
        src = source("scaled_dot(q, K)", mask="mask [hd, i, l]: " + text)
        pred = lambda b, h, i, l, D, dims, fn=fn: fn(i, l)
        for dims in [dict(b=1, n=1, m=1), dict(b=2, n=17, m=17),
                     dict(b=1, n=131, m=131), dict(b=1, n=9, m=70)]:
            seed += 1
            run(checker, "band " + text, src, dims, plain, pred, "softmax",
                seed)

    # Predictive local attention (survey eqs. 27-28): p_i = m sigmoid(w_p .
    # tanh(W_p x_i)), keys with |l - p_i| <= 2; p is a value the model
    # computes ([b, n, 1]), read per query.
    local = source("scaled_dot(q, K)",
                   mask="mask [hd, i, l]: abs(l - m * sigmoid(p[i, 0])) <= 2.0",
                   decls="param Wp : f32[d, d]\n  param wp : f32[1, d]",
                   lets="let p = wp tanh(Wp X)")

    def local_pred(b, h, i, l, D, dims):
        x = D["X"][b][i]
        t = [math.tanh(v) for v in matvec(D["Wp"], x)]
        z = sum(a * c for a, c in zip(D["wp"][0], t))
        # fp32 rounding of p can move a key across the window's edge only
        # when |l - p| is within ~1e-5 of 2: random data avoids that.
        pos = dims["m"] / (1.0 + math.exp(-z))
        return abs(l - pos) <= 2.0
    for dims in [dict(b=1, n=1, m=1), dict(b=2, n=13, m=29),
                 dict(b=1, n=40, m=97)]:
        seed += 1
        run(checker, "local-p", local, dims, plain, local_pred, "softmax",
            seed)

    # Local attention with the Gaussian prior (survey eq. 29): the softmax
    # over the window [p - D, p + D] times exp(-(l - p)^2 / (2 sigma^2)),
    # sigma = D / 2, not renormalized; monotonic (p = i, D = 4: a band) and
    # predictive (p from the model, D = 3: a predicate).
    gauss = source("scaled_dot(q, K)", mask="mask [hd, i, l]: abs(i - l) <= 4",
                   factor="exp(-(l - i) * (l - i) / (2.0 * 2.0 * 2.0))")
    gauss_w = lambda b, h, i, l, D, dims: math.exp(-(l - i) ** 2 / 8.0)
    for dims in [dict(b=1, n=1, m=1), dict(b=2, n=17, m=17),
                 dict(b=1, n=70, m=70), dict(b=1, n=7, m=33)]:
        seed += 1
        run(checker, "local-m gaussian", gauss, dims, plain,
            lambda b, h, i, l, D, dims: abs(i - l) <= 4, "softmax", seed,
            weight=gauss_w)
    gauss_p = source(
        "scaled_dot(q, K)",
        mask="mask [hd, i, l]: abs(l - m * sigmoid(p[i, 0])) <= 3.0",
        factor="exp(-(l - m * sigmoid(p[i, 0])) * (l - m * sigmoid(p[i, 0]))"
               " / 4.5)",
        decls="param Wp : f32[d, d]\n  param wp : f32[1, d]",
        lets="let p = wp tanh(Wp X)")

    def position(b, i, D, dims):
        t = [math.tanh(v) for v in matvec(D["Wp"], D["X"][b][i])]
        z = sum(a * c for a, c in zip(D["wp"][0], t))
        return dims["m"] / (1.0 + math.exp(-z))
    for dims in [dict(b=2, n=13, m=29), dict(b=1, n=40, m=97)]:
        seed += 1
        run(checker, "local-p gaussian", gauss_p, dims, plain,
            lambda b, h, i, l, D, dims: abs(l - position(b, i, D, dims)) <= 3,
            "softmax", seed,
            weight=lambda b, h, i, l, D, dims:
                math.exp(-(l - position(b, i, D, dims)) ** 2 / 4.5))

    # Reinforced (hard-selected) attention: the selection is an input, per
    # key ([b, m]) or per query and key ([b, n, m]); rows whose selection is
    # empty get a zero context.
    sel = lambda shape, rng: [1 if rng.random() < 0.4 else 0
                              for _ in range(T.prod(shape))]
    for decl, cond, ref in [
            ("input sel : i32[b, m]", "sel[l] != 0",
             lambda b, h, i, l, D, dims: D["sel"][b][l] != 0),
            ("input sel : i32[b, n, m]", "sel[i, l] == 1",
             lambda b, h, i, l, D, dims: D["sel"][b][i][l] == 1)]:
        src = source("scaled_dot(q, K)", mask="mask [hd, i, l]: " + cond,
                     decls=decl)
        for dims in [dict(b=1, n=1, m=1), dict(b=2, n=9, m=17),
                     dict(b=1, n=33, m=70), dict(b=1, n=4, m=0)]:
            seed += 1
            run(checker, "reinforced " + cond, src, dims, plain, ref,
                "softmax", seed, ints={"sel": sel})

    # Other alignments with a modifier and a predicate.
    for align in ("argmax", "sigmoid", "sparsemax", "entmax15"):
        src = source("scaled_dot(q, K) - slope[hd] * abs(i - l)",
                     mask="mask [hd, i, l]: l <= i + 1 && seg[l] != 0",
                     decls="param slope : f32[h]\n  input seg : i32[b, m]",
                     align=align)
        ref = lambda e, b, h, i, l, D, dims: e - D["slope"][h] * abs(i - l)
        pred = lambda b, h, i, l, D, dims: l <= i + 1 and D["seg"][b][l] != 0
        for dims in [dict(b=1, n=1, m=1), dict(b=2, n=17, m=17),
                     dict(b=1, n=70, m=70)]:
            seed += 1
            run(checker, align, src, dims, ref, pred, align, seed,
                ints={"seg": lambda shape, rng: [rng.randint(0, 2) for _ in
                                                 range(T.prod(shape))]})
    # The example examples/flex_attention.attn: ALiBi, soft-capping and
    # document masking with a causal band, 4 heads.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "examples", "flex_attention.attn")
    with open(path) as f:
        flex = f.read()
    flex_mod = lambda e, b, h, i, l, D, dims: \
        20.0 * math.tanh((e - D["slope"][h] * (i - l)) / 20.0)
    flex_pred = lambda b, h, i, l, D, dims: \
        l <= i and D["doc_q"][b][i] == D["doc_k"][b][l]
    for dims in [dict(b=1, n=1, m=1), dict(b=2, n=37, m=37),
                 dict(b=1, n=130, m=130), dict(b=1, n=20, m=9)]:
        seed += 1
        run(checker, "example flex", flex, dims, flex_mod, flex_pred,
            "softmax", seed, name="flex", scale=4.0,
            ints={"doc_q": segments, "doc_k": segments})
    checker.finish()


if __name__ == "__main__":
    flags_list = ("", "--tile-size=16", "--vectorize=false")
    for flags in flags_list:
        print("flags:", flags or "(default)", flush=True)
        os.environ["ATTNC_TEST_FLAGS"] = flags
        pid = os.fork()
        if pid == 0:
            main()
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise SystemExit("failed with " + (flags or "the default flags"))
