"""An independent double-precision reference of the attention models of attnc.

Written from the formulas of the survey (Brauwers & Frasincar, TKDE 2021; see
shared TAXONOMY.md) and from docs/language.md, in plain Python loops so that it
is obviously correct. It does not share any code or data layout with the
compiler. Vectors are Python lists of floats, matrices are lists of rows.

Conventions (docs/language.md): a feature / key / value tensor is [n, d], one
row per vector; a linear map `W x + b` has W : [d_out, d_in] and acts on the
last dimension; inside `heads`, rank-3 weights [h, d_out, d_in] are per head.
"""

import math

# ---------------------------------------------------------------------------
# Linear algebra and activations
# ---------------------------------------------------------------------------


def dot(u, v):
    assert len(u) == len(v), (len(u), len(v))
    s = 0.0
    for i in range(len(u)):
        s += u[i] * v[i]
    return s


def norm(u):
    return math.sqrt(dot(u, u))


def matvec(W, x):
    """W x for W : [m, n] (list of m rows), x : [n]."""
    return [dot(row, x) for row in W]


def linear(W, x, b=None):
    """y = W x + b (b optional); W = None is the identity."""
    y = list(x) if W is None else matvec(W, x)
    if b is not None:
        assert len(b) == len(y)
        y = [y[i] + b[i] for i in range(len(y))]
    return y


def linear_rows(W, X, b=None):
    """The map applied to every row of X : [n, d_in]."""
    return [linear(W, x, b) for x in X]


def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


ACTIVATIONS = {
    "identity": lambda x: x,
    "tanh": math.tanh,
    "relu": lambda x: x if x > 0 else 0.0,
    "sigmoid": sigmoid,
}


def activation(name, x):
    """act(x) for a scalar x."""
    return ACTIVATIONS[name](x)


def activation_vec(name, xs):
    return [activation(name, x) for x in xs]


def softmax(xs):
    """softmax over a whole vector (empty in, empty out)."""
    if not xs:
        return []
    m = max(xs)
    ex = [math.exp(x - m) for x in xs]
    s = sum(ex)
    return [e / s for e in ex]


# ---------------------------------------------------------------------------
# Score functions (survey Table 2), one query q against one key k
# ---------------------------------------------------------------------------


def score_additive(q, k, W1, W2, b, w, act="tanh"):
    """w^T act(W1 q + W2 k + b)."""
    u = matvec(W1, q)
    v = matvec(W2, k)
    return dot(w, [activation(act, u[i] + v[i] + b[i]) for i in range(len(w))])


def score_dot(q, k):
    """q^T k."""
    return dot(q, k)


def score_scaled_dot(q, k):
    """q^T k / sqrt(d_k)."""
    return dot(q, k) / math.sqrt(len(k))


def score_general(q, k, W):
    """k^T W q."""
    return dot(k, matvec(W, q))


def score_biased_general(q, k, W, b):
    """k^T (W q + b)."""
    return dot(k, linear(W, q, b))


def score_activated_general(q, k, W, b, act="tanh"):
    """act(k^T W q + b), b a scalar."""
    return activation(act, dot(k, matvec(W, q)) + b)


def score_cosine(q, k):
    """q^T k / (|q| |k|), and 0 when either norm is 0."""
    nq, nk = norm(q), norm(k)
    if nq == 0.0 or nk == 0.0:
        return 0.0
    return dot(q, k) / (nq * nk)


def score_neg_sq_euclidean(q, k):
    """-|q - k|^2, the negative squared Euclidean distance."""
    assert len(q) == len(k), (len(q), len(k))
    return -sum((q[i] - k[i]) ** 2 for i in range(len(q)))


SCORES = {
    "additive": score_additive,
    "dot": score_dot,
    "scaled_dot": score_scaled_dot,
    "general": score_general,
    "biased_general": score_biased_general,
    "activated_general": score_activated_general,
    "cosine": score_cosine,
    "neg_sq_euclidean": score_neg_sq_euclidean,
}

# The parameters each score function takes, in the order of the source form.
SCORE_PARAMS = {
    "additive": ("W1", "W2", "b", "w"),
    "dot": (),
    "scaled_dot": (),
    "general": ("W",),
    "biased_general": ("W", "b"),
    "activated_general": ("W", "b"),
    "cosine": (),
    "neg_sq_euclidean": (),
}
SCORE_HAS_ACT = {"additive", "activated_general"}

# ---------------------------------------------------------------------------
# Masks, alignment, context
# ---------------------------------------------------------------------------


def clamp_length(length, n_k):
    return min(max(length, 0), n_k)


def visible(i, l, n_q, n_k, causal, length, causal_offset=0, window=None,
            prefix=None):
    """Whether query i sees key l (docs/language.md, Masks). i' = i + n_k -
    n_q is the query's position aligned at the bottom right."""
    ip = i + (n_k - n_q)
    if length is not None and l >= clamp_length(length, n_k):
        return False
    if causal and not (l <= ip + causal_offset):
        # prefix-LM: keys before the prefix length are seen by every query.
        if prefix is None or not (l < prefix):
            return False
    if window is not None and not (ip - window < l <= ip):
        return False
    return True


def logsumexp(e, seen):
    """log(sum over the visible l of exp(e_l)); -inf when none is visible."""
    idx = [l for l in range(len(e)) if seen[l]]
    if not idx:
        return -math.inf
    m = max(e[l] for l in idx)
    return m + math.log(sum(math.exp(e[l] - m) for l in idx))


def masked_softmax(e, seen):
    """softmax over the visible entries; all weights 0 if none is visible."""
    idx = [l for l in range(len(e)) if seen[l]]
    a = [0.0] * len(e)
    if not idx:
        return a
    m = max(e[l] for l in idx)
    s = 0.0
    for l in idx:
        a[l] = math.exp(e[l] - m)
        s += a[l]
    for l in idx:
        a[l] /= s
    return a


def masked_sigmoid(e, seen):
    """a_l = sigmoid(e_l) for the visible l, unnormalized; 0 elsewhere."""
    return [sigmoid(e[l]) if seen[l] else 0.0 for l in range(len(e))]


def masked_argmax(e, seen):
    """One-hot at the first visible l of maximum score; all 0 if none is
    visible (a score of NaN or -inf is never chosen)."""
    a = [0.0] * len(e)
    best = None
    for l in range(len(e)):
        if seen[l] and e[l] > -math.inf and (best is None or e[l] > e[best]):
            best = l
    if best is not None:
        a[best] = 1.0
    return a


def _mix32(x):
    """murmur3's fmix32."""
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def gumbel(seed, b, h, i, l):
    """The Gumbel noise of hard(e; seed) for key l of query i, batch entry
    b, head h (docs/language.md, Alignment): a counter-based generator."""
    r = seed & 0xFFFFFFFF
    for x in (b, h, i, l):
        r = _mix32(((r ^ (x & 0xFFFFFFFF)) + 0x9E3779B9) & 0xFFFFFFFF)
    u = ((r >> 8) + 0.5) / float(1 << 24)
    return -math.log(-math.log(u))


def masked_hard(e, seen, seed, b, h, i):
    """One-hot at the key sampled from softmax(e) over the visible keys: the
    first argmax of e_l + gumbel(seed, b, h, i, l)."""
    return masked_argmax([e[l] + gumbel(seed, b, h, i, l)
                          for l in range(len(e))], seen)


def _sparse_support(e, seen):
    """The visible l whose score is a number above -inf (the others get 0)."""
    return [l for l in range(len(e))
            if seen[l] and e[l] == e[l] and e[l] > -math.inf]


def masked_sparsemax(e, seen):
    """sparsemax over the visible entries (Martins & Astudillo 2016), by
    sorting: with z sorted descending, the support is the largest k with
    1 + k z_k > z_1 + ... + z_k, tau = (z_1 + ... + z_k - 1) / k and
    a_l = max(e_l - tau, 0); all 0 if none is visible."""
    idx = _sparse_support(e, seen)
    a = [0.0] * len(e)
    if not idx:
        return a
    z = sorted((e[l] for l in idx), reverse=True)
    prefix, k_best, sum_best = 0.0, 1, z[0]
    for k, zk in enumerate(z, start=1):
        prefix += zk
        if 1.0 + k * zk > prefix:
            k_best, sum_best = k, prefix
    tau = (sum_best - 1.0) / k_best
    for l in idx:
        a[l] = max(e[l] - tau, 0.0)
    return a


def masked_entmax15(e, seen):
    """1.5-entmax over the visible entries (Peters et al. 2019, the sorted
    algorithm): with x = e / 2 sorted descending, for each k the mean and
    the spread ss_k = sum_{m<=k} (x_m - mean_k)^2 of the top k give
    tau_k = mean_k - sqrt(max(0, (1 - ss_k) / k)); the support is the
    largest k with tau_k <= x_k, and a_l = max(x_l - tau, 0)^2."""
    idx = _sparse_support(e, seen)
    a = [0.0] * len(e)
    if not idx:
        return a
    x = sorted((e[l] / 2.0 for l in idx), reverse=True)
    top = x[0]
    x = [v - top for v in x]  # shift-invariant; keeps the sums small
    tau = None
    total = total_sq = 0.0
    for k, xk in enumerate(x, start=1):
        total += xk
        total_sq += xk * xk
        mean = total / k
        ss = total_sq - k * mean * mean
        tau_k = mean - math.sqrt(max(0.0, (1.0 - ss) / k))
        if tau_k <= xk:
            tau = tau_k
    for l in idx:
        a[l] = max(e[l] / 2.0 - top - tau, 0.0) ** 2
    return a


ALIGNMENTS = {"softmax": masked_softmax, "sigmoid": masked_sigmoid,
              "argmax": masked_argmax, "sparsemax": masked_sparsemax,
              "entmax15": masked_entmax15}


def weighted_sum(a, V, d_v):
    """c = sum_l a_l v_l (zeros when there is no value)."""
    c = [0.0] * d_v
    for l in range(len(V)):
        for j in range(d_v):
            c[j] += a[l] * V[l][j]
    return c


def attend(Q, K, V, score, d_v, causal=False, length=None, lse=None,
           align="softmax", sample=None, **masks):
    """Attention of the queries Q (rows) over keys K and values V (rows).

    score(q, k) -> float. Returns (C, A): one context [d_v] and one weight
    vector [n_k] per query. `masks`: causal_offset, window, prefix (see
    visible). When `lse` is a list, the log-sum-exp of each query's visible
    scores is appended to it.
    """
    n_q, n_k = len(Q), len(K)
    assert len(V) == n_k
    C, A = [], []
    for i, q in enumerate(Q):
        e = [score(q, K[l]) for l in range(n_k)]
        seen = [visible(i, l, n_q, n_k, causal, length, **masks)
                for l in range(n_k)]
        if align == "hard":
            seed, b, h = sample
            a = masked_hard(e, seen, seed, b, h, i)
        else:
            a = ALIGNMENTS[align](e, seen)
        A.append(a)
        C.append(weighted_sum(a, V, d_v))
        if lse is not None:
            lse.append(logsumexp(e, seen))
    return C, A


def output_model(c, W=None, b=None, act="identity", use_softmax=False):
    """y = c, W c + b, act(W c + b) or softmax(W c + b)."""
    y = linear(W, c, b)
    if use_softmax:
        return softmax(y)
    return activation_vec(act, y)


# ---------------------------------------------------------------------------
# A whole model, from a description of its items
# ---------------------------------------------------------------------------
#
# Tensors are given as {name: (shape, flat_values)} (row-major). A model is a
# dict (every key optional unless stated):
#   batch    : number of leading batch dimensions of inputs and outputs (0)
#   feature  : (X, W, b)  F = W X + b (W, b names or None)
#   query    : (src, W, b) src = "F" or an input/param name (required)
#   keys     : (src, W, b) src = "F" or an input name (required)
#   values   : (src, W, b) (required)
#   score    : (kind, [param names], act) (required)
#   align    : "softmax" (default), "sigmoid", "argmax", "sparsemax",
#              "entmax15" or "hard" (with seed : int)
#   causal   : bool
#   lengths  : name of the i32 lengths tensor, or None
#   causal_offset : int (with causal), window : int, prefix : name of the
#              i32 prefix tensor (with causal)
#   heads    : number of heads h, or None
#   inputs   : names of the tensors that carry batch dimensions (required)
#   outputs  : list of (name, "c") | (name, "a") | (name, "lse") |
#              (name, "linear", W, b, act, use_softmax)
# The query is several queries when src is "F" or its tensor has rank 2
# after the batch dimensions; otherwise a single query.


def nested(shape, flat):
    """Row-major flat list -> nested lists of the given shape."""
    if len(shape) == 0:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = 1
    for s in shape[1:]:
        step *= s
    return [nested(shape[1:], flat[i * step:(i + 1) * step])
            for i in range(shape[0])]


def flatten(x):
    if isinstance(x, list):
        out = []
        for e in x:
            out.extend(flatten(e))
        return out
    return [x]


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def evaluate(model, tensors):
    """Returns {output name: (shape, flat)} for the model on the tensors."""
    nb = model.get("batch", 0)
    batched = set(model["inputs"])
    heads = model.get("heads")

    some_input = tensors[model["inputs"][0]][0]
    batch_shape = list(some_input[:nb])
    nbatch = _prod(batch_shape)

    def entry(name, bi):
        """The tensor `name` for batch entry bi, as nested lists."""
        shape, flat = tensors[name]
        if name in batched:
            inner = shape[nb:]
            size = _prod(inner)
            return nested(list(inner), flat[bi * size:(bi + 1) * size])
        return nested(list(shape), flat)

    def rank(name):
        shape = tensors[name][0]
        return len(shape) - (nb if name in batched else 0)

    def get(name, bi):
        return None if name is None else entry(name, bi)

    def head_slice(name, bi, j, base_rank):
        """A weight of a head: per head if it has one more dim than base."""
        if name is None:
            return None
        t = entry(name, bi)
        if heads is not None and rank(name) == base_rank + 1:
            return t[j]
        return t

    score_kind, score_params, score_act = model["score"]
    multi = (model["query"][0] == "F" or rank(model["query"][0]) == 2)
    if model.get("feature"):
        X, Wf, bf = model["feature"]

    # Shapes of outputs.
    n_q = None
    results = {o[0]: [] for o in model["outputs"]}
    out_shapes = {}

    for bi in range(nbatch):
        F = None
        if model.get("feature"):
            F = linear_rows(get(Wf, bi), entry(X, bi), get(bf, bi))

        def rows(src, bi=bi, F=F):
            if src == "F":
                return F
            t = entry(src, bi)
            return t

        qsrc, Wq, bq = model["query"]
        ksrc, Wk, bk = model["keys"]
        vsrc, Wv, bv = model["values"]
        q_raw = rows(qsrc)
        Q_raw = q_raw if multi else [q_raw]
        K_raw, V_raw = rows(ksrc), rows(vsrc)
        length = None
        if model.get("lengths"):
            length = int(flatten([entry(model["lengths"], bi)])[0])
        masks = {"causal_offset": model.get("causal_offset", 0),
                 "window": model.get("window")}
        if model.get("prefix"):
            masks["prefix"] = int(flatten([entry(model["prefix"], bi)])[0])

        nh = heads if heads is not None else 1
        contexts, weights, lses = [], [], []
        for j in range(nh):
            Wqj = head_slice(Wq, bi, j, 2)
            bqj = head_slice(bq, bi, j, 1)
            Wkj = head_slice(Wk, bi, j, 2)
            bkj = head_slice(bk, bi, j, 1)
            Wvj = head_slice(Wv, bi, j, 2)
            bvj = head_slice(bv, bi, j, 1)
            Q = linear_rows(Wqj, Q_raw, bqj)
            K = linear_rows(Wkj, K_raw, bkj)
            V = linear_rows(Wvj, V_raw, bvj)
            # d_v from the value map (V may have no rows).
            if Wvj is not None:
                d_v = len(Wvj)
            else:
                d_v = tensors[vsrc][0][-1] if vsrc != "F" else (
                    len(get(Wf, bi)) if Wf else tensors[X][0][-1])
            ps = []
            for pname, role in zip(score_params, SCORE_PARAMS[score_kind]):
                base = 2 if role.startswith("W") else 1
                if score_kind == "activated_general" and role == "b":
                    ps.append(float(tensors[pname][1][0]))
                else:
                    ps.append(head_slice(pname, bi, j, base))
            fn = SCORES[score_kind]
            if score_kind in SCORE_HAS_ACT:
                def score(q, k, fn=fn, ps=ps):
                    return fn(q, k, *ps, act=score_act)
            else:
                def score(q, k, fn=fn, ps=ps):
                    return fn(q, k, *ps)
            lse = []
            C, A = attend(Q, K, V, score, d_v, model.get("causal", False),
                          length, lse=lse,
                          align=model.get("align", "softmax"),
                          sample=(model.get("seed", 0), bi, j), **masks)
            lses.append(lse)
            contexts.append(C)
            weights.append(A)
            n_q = len(Q)
            n_k = len(K)
        # concat over heads, per query
        Cc = [flatten([contexts[j][i] for j in range(nh)]) for i in range(n_q)]
        d_c = nh * d_v
        for o in model["outputs"]:
            name, kind = o[0], o[1]
            if kind == "c":
                val = Cc if multi else Cc[0]
                inner = ([n_q] if multi else []) + [d_c]
            elif kind == "lse":
                val = lses if heads is not None else lses[0]
                if not multi:
                    val = [x[0] for x in val] if heads is not None else val[0]
                inner = ([nh] if heads is not None else []) + \
                    ([n_q] if multi else [])
            elif kind == "a":
                val = weights if heads is not None else weights[0]
                if not multi:
                    val = [w[0] for w in val] if heads is not None else val[0]
                inner = ([nh] if heads is not None else []) + \
                    ([n_q] if multi else []) + [n_k]
            else:
                _, _, Wo, bo, act, use_sm = o
                Wm, bm = get(Wo, bi), get(bo, bi)
                ys = [output_model(c, Wm, bm, act or "identity", use_sm)
                      for c in Cc]
                val = ys if multi else ys[0]
                inner = ([n_q] if multi else []) + [len(Wm)]
            results[name].extend(flatten(val))
            out_shapes[name] = inner

    if nbatch == 0:
        # Shapes with no entry to evaluate: derive them from the tensors.
        return None
    return {name: (batch_shape + out_shapes[name], results[name])
            for name in results}
