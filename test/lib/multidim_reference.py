"""A double-precision reference of multi-dimensional attention (Brauwers &
Frasincar, TKDE 2021, eqs. 30-32; shared TAXONOMY.md), written from the
equations in plain Python loops over floats, sharing no code with the compiler
nor with reference.py:

    e_l = W_d act(W_1 q + W_2 k_l + b)            in R^{d_v}     (30)
    a_{l,f} = exp(e_{l,f}) / sum_{m visible} exp(e_{m,f})         (31)
    c_f = sum_{l visible} a_{l,f} v_{l,f}                          (32)

(W_d : [d_v, d_w] maps the hidden vector to one score per value feature; the
survey writes it W_d^T.) The visible keys of query i (0-based, n_q queries)
are l < clamp(L[b], 0, n_k) with `lengths`, l <= i + (n_k - n_q) with
`causal`, and i + (n_k - n_q) - W < l <= i + (n_k - n_q) with `window(W)`
(docs/language.md); a query that sees no key gets c = 0.
"""

import math

ACTS = {
    "tanh": math.tanh,
    "relu": lambda x: x if x > 0.0 else 0.0,
    "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)) if x >= 0.0
    else math.exp(x) / (1.0 + math.exp(x)),
    "identity": lambda x: x,
}


def hidden(q, k, W1, W2, b, act):
    """act(W_1 q + W_2 k + b), a list of d_w floats."""
    f = ACTS[act]
    out = []
    for r in range(len(b)):
        x = b[r]
        for j, qj in enumerate(q):
            x += W1[r][j] * qj
        for j, kj in enumerate(k):
            x += W2[r][j] * kj
        out.append(f(x))
    return out


def scores(q, k, W1, W2, b, Wd, act):
    """e = W_d act(W_1 q + W_2 k + b): one score per value feature."""
    t = hidden(q, k, W1, W2, b, act)
    return [sum(w * x for w, x in zip(row, t)) for row in Wd]


def attend(q, keys, values, W1, W2, b, Wd, act, visible):
    """The context of one query over the keys whose indices are in
    `visible`: a separate softmax over the keys for each feature f."""
    d_v = len(Wd)
    if not visible:
        return [0.0] * d_v
    e = {l: scores(q, keys[l], W1, W2, b, Wd, act) for l in visible}
    c = []
    for f in range(d_v):
        top = max(e[l][f] for l in visible)
        weights = {l: math.exp(e[l][f] - top) for l in visible}
        total = sum(weights.values())
        c.append(sum(weights[l] * values[l][f] for l in visible) / total)
    return c


def visible_keys(i, n_q, n_k, length=None, causal=False, window=None):
    """`window(W)`: keys i' - W < l <= i' with i' = i + (n_k - n_q)."""
    own = i + (n_k - n_q)
    end = n_k if length is None else min(max(length, 0), n_k)
    if causal or window is not None:
        end = min(end, own + 1)
    begin = 0 if window is None else max(own - window + 1, 0)
    return list(range(begin, max(end, begin)))


def multidim_attention(Q, K, V, W1, W2, b, Wd, act="tanh", lengths=None,
                       causal=False, window=None):
    """Q [B, n_q, d_q] (lists), K [B, n_k, d_k], V [B, n_k, d_v], lengths
    [B] or None; returns the contexts [B, n_q, d_v]."""
    out = []
    for bi, (Qb, Kb, Vb) in enumerate(zip(Q, K, V)):
        n_q, n_k = len(Qb), len(Kb)
        length = None if lengths is None else lengths[bi]
        out.append([attend(Qb[i], Kb, Vb, W1, W2, b, Wd, act,
                           visible_keys(i, n_q, n_k, length, causal,
                                        window))
                    for i in range(n_q)])
    return out
