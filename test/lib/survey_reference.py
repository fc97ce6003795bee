"""Double-precision references of the survey gallery (examples/survey/*.attn).

Each model of the gallery has a function here, written from the formulas of
its paper (as summarized by Brauwers & Frasincar, "A General Survey on
Attention Mechanisms in Deep Learning", TKDE 2021; shared TAXONOMY.md) in
plain Python loops over float64 numbers (Python floats are IEEE doubles; no
NumPy is needed, like test/lib/reference.py). It shares no code with the
compiler and none with test/lib/reference.py, so that a reader can check each
function against the equations quoted in its docstring.

Conventions (docs/language.md): vectors are rows; a linear map `W x + b` has
W : [d_out, d_in] (a Python list of d_out rows); scaled dot divides by
sqrt(d_k); `lengths(L)` masks keys l >= L (L clamped to [0, n_k]); `causal`
lets query i see key l iff l <= i + (n_k - n_q); a query that sees no key gets
c = 0 and all weights 0; layer_norm uses the biased variance and eps = 1e-5
inside the square root.

Every model function takes
    T: {name: nested lists}   the inputs and params, by their ABI names
    S: {name: shape}          their shapes (lists of ints)
and returns {output name: (shape, nested lists)}.

The second part of this file (`run_program`, `main`) is the harness of the
lit tests in test/Integration/survey/: it compiles a gallery file with attnc,
calls the model through the C ABI on seeded random data and compares every
output with these functions, with the tolerance of attnc_testlib:
|got - ref| <= 1e-4 + 1e-4 |ref|.
"""

import math
import os

# ---------------------------------------------------------------------------
# Vectors (lists of floats) and matrices (lists of rows)
# ---------------------------------------------------------------------------


def zeros(n):
    return [0.0] * n


def add(*vs):
    n = len(vs[0])
    for v in vs:
        assert len(v) == n, [len(u) for u in vs]
    return [sum(v[i] for v in vs) for i in range(n)]


def mul(u, v):
    assert len(u) == len(v)
    return [u[i] * v[i] for i in range(len(u))]


def scale(s, v):
    return [s * x for x in v]


def dot(u, v):
    assert len(u) == len(v), (len(u), len(v))
    s = 0.0
    for i in range(len(u)):
        s += u[i] * v[i]
    return s


def matvec(W, x):
    """W x for W : [d_out, d_in]."""
    return [dot(row, x) for row in W]


def matTvec(W, x):
    """W^T x for W : [d_in, d_out] (x has d_in entries)."""
    assert len(W) == len(x)
    d_out = len(W[0]) if W else 0
    return [sum(W[k][j] * x[k] for k in range(len(x))) for j in range(d_out)]


def linear(W, x, b=None):
    y = matvec(W, x)
    return y if b is None else add(y, b)


def sigmoid1(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def vtanh(v):
    return [math.tanh(x) for x in v]


def vrelu(v):
    return [x if x > 0 else 0.0 for x in v]


def vsigmoid(v):
    return [sigmoid1(x) for x in v]


def softmax(v):
    if not v:
        return []
    m = max(v)
    ex = [math.exp(x - m) for x in v]
    s = sum(ex)
    return [x / s for x in ex]


def mean_rows(X):
    """The average of the rows of X (undefined for no row)."""
    assert X, "mean of no row"
    return scale(1.0 / len(X), add(*X))


def concat(*vs):
    out = []
    for v in vs:
        out.extend(v)
    return out


def layer_norm(x, g, b, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * g + b over the vector x (biased var)."""
    n = len(x)
    mu = sum(x) / n
    var = sum((xi - mu) ** 2 for xi in x) / n
    r = 1.0 / math.sqrt(var + eps)
    return [(x[i] - mu) * r * g[i] + b[i] for i in range(n)]


def clamp_length(L, n):
    return max(0, min(int(L), n))


# ---------------------------------------------------------------------------
# Score functions (survey Table 2) and the attention of eqs. (2)-(4), (25)
# ---------------------------------------------------------------------------


def score_additive(q, k, W1, W2, b, w):
    """w^T tanh(W1 q + W2 k + b)."""
    return dot(w, vtanh(add(matvec(W1, q), matvec(W2, k), b)))


def score_dot(q, k):
    return dot(q, k)


def score_scaled_dot(q, k):
    return dot(q, k) / math.sqrt(len(k))


def score_general(q, k, W):
    """k^T W q."""
    return dot(k, matvec(W, q))


def score_activated_general_tanh(q, k, W, b):
    """tanh(k^T W q + b), b a scalar."""
    return math.tanh(dot(k, matvec(W, q)) + b)


def attend(scores, values, d_v):
    """Soft attention: scores[l] is e_l, or None for a masked key.
    a = softmax over the visible keys (0 for the masked ones) (25),
    c = sum_l a_l v_l (4); no visible key: c = 0 and a = 0.
    Returns (c, a)."""
    assert len(scores) == len(values)
    vis = [l for l, e in enumerate(scores) if e is not None]
    a = zeros(len(scores))
    c = zeros(d_v)
    if not vis:
        return c, a
    w = softmax([scores[l] for l in vis])
    for l, al in zip(vis, w):
        a[l] = al
        c = add(c, scale(al, values[l]))
    return c, a


# ---------------------------------------------------------------------------
# 1. Bahdanau et al. (2015), additive attention with a deep output
# ---------------------------------------------------------------------------


def bahdanau_deep_output(T, S):
    """e_j = v_a^T tanh(W_a s + U_a h_j + b_a); a = softmax(e); c = sum a_j h_j;
    t = tanh(W_o c + U_o s + b_o); y = softmax(W_y t)."""
    nb, n, d_f = S["X"]
    d_y = S["Wy"][0]
    ys, ws = [], []
    for i in range(nb):
        s, X = T["s"][i], T["X"][i]
        e = [score_additive(s, h, T["Wa"], T["Ua"], T["ba"], T["va"]) for h in X]
        c, a = attend(e, X, d_f)
        t = vtanh(add(matvec(T["Wo"], c), matvec(T["Uo"], s), T["bo"]))
        ys.append(softmax(matvec(T["Wy"], t)))
        ws.append(a)
    return {"y": ([nb, d_y], ys), "weights": ([nb, n], ws)}


# ---------------------------------------------------------------------------
# 2. Luong et al. (2015), global attention, dot and general scores
# ---------------------------------------------------------------------------


def _luong(T, S, score):
    """e_s = score(h_t, h_s) for s < L (padding masked); a = softmax(e);
    c = sum a_s h_s; h~ = tanh(W_c [c; h_t]); y = softmax(W_s h~)."""
    nb, n, d = S["Hs"]
    d_y = S["Ws"][0]
    hs, ys = [], []
    for i in range(nb):
        ht, H = T["ht"][i], T["Hs"][i]
        Li = clamp_length(T["L"][i], n)
        e = [score(ht, H[l]) if l < Li else None for l in range(n)]
        c, _ = attend(e, H, d)
        h_att = vtanh(matvec(T["Wc"], concat(c, ht)))
        hs.append(h_att)
        ys.append(softmax(matvec(T["Ws"], h_att)))
    return {"h_tilde": ([nb, d], hs), "y": ([nb, d_y], ys)}


def luong_dot(T, S):
    return _luong(T, S, score_dot)


def luong_general(T, S):
    return _luong(T, S, lambda q, k: score_general(q, k, T["Wa"]))


# ---------------------------------------------------------------------------
# 3. Xu et al. (2015), soft attention with the gate beta
# ---------------------------------------------------------------------------


def xu_soft_attention(T, S):
    """e_i = f_att(a_i, h) = w^T tanh(W_h h + W_a a_i + b); alpha = softmax(e);
    beta = sigmoid(w_beta^T h + b_beta); z = beta sum_i alpha_i a_i."""
    nb, L, D = S["A"]
    zs, gs, ws = [], [], []
    for i in range(nb):
        h, A = T["h"][i], T["A"][i]
        e = [score_additive(h, ai, T["Wh"], T["Wa"], T["ba"], T["wa"]) for ai in A]
        c, alpha = attend(e, A, D)
        beta = sigmoid1(dot(T["w_beta"][0], h) + T["b_beta"][0])
        zs.append(scale(beta, c))
        gs.append([beta])
        ws.append(alpha)
    return {"z": ([nb, D], zs), "gate": ([nb, 1], gs), "weights": ([nb, L], ws)}


# ---------------------------------------------------------------------------
# 4. Lu et al. (2016), alternating co-attention (survey eqs. 7-9)
# ---------------------------------------------------------------------------


def lu_alternating_coattention(T, S):
    """x^ = A(X; g): H = tanh(W_x X + W_g g 1^T + b), a = softmax(w^T H),
    x^ = sum a_i x_i. Step 1 has no g (w^T tanh(W_x x + b)); s^ = A(Q);
    v^ = A(I; s^); q^ = A(Q; v^); output concat(q^, v^)."""
    nb, _, d = S["Q"]

    def summary(X, p):
        e = [dot(T[p + "w"], vtanh(add(matvec(T[p + "Wx"], x), T[p + "bx"])))
             for x in X]
        return attend(e, X, d)[0]

    def guided(g, X, p):
        e = [score_additive(g, x, T[p + "Wg"], T[p + "Wx"], T[p + "bh"], T[p + "w"])
             for x in X]
        return attend(e, X, d)[0]

    ys = []
    for i in range(nb):
        Q, I = T["Q"][i], T["I"][i]
        s_hat = summary(Q, "step1_")
        v_hat = guided(s_hat, I, "step2_")
        q_hat = guided(v_hat, Q, "step3_")
        ys.append(concat(q_hat, v_hat))
    return {"y": ([nb, 2 * d], ys)}


# ---------------------------------------------------------------------------
# 5. Lu et al. (2016), parallel co-attention (survey eqs. 12, 14, 15)
# ---------------------------------------------------------------------------


def lu_parallel_coattention(T, S):
    """With q_t the question rows and v_n the image rows:
    C_tn = tanh(q_t^T W_b v_n);
    h^v_n = tanh(W_v v_n + sum_t C_tn W_q q_t);
    h^q_t = tanh(W_q q_t + sum_n C_tn W_v v_n);
    a^v = softmax_n(w_hv^T h^v_n), a^q = softmax_t(w_hq^T h^q_t);
    v^ = sum a^v_n v_n, q^ = sum a^q_t q_t; output concat(q^, v^) and C."""
    nb, nT, d = S["Q"]
    nN = S["I"][1]
    k = S["Wq"][0]
    ys, Cs = [], []
    for i in range(nb):
        Q, I = T["Q"][i], T["I"][i]
        WqQ = [matvec(T["Wq"], q) for q in Q]
        WvI = [matvec(T["Wv"], v) for v in I]
        C = [[math.tanh(dot(Q[t], matvec(T["Wb"], I[n]))) for n in range(nN)]
             for t in range(nT)]
        Hv = []
        for n in range(nN):
            acc = list(WvI[n])
            for t in range(nT):
                acc = add(acc, scale(C[t][n], WqQ[t]))
            Hv.append(vtanh(acc))
        Hq = []
        for t in range(nT):
            acc = list(WqQ[t])
            for n in range(nN):
                acc = add(acc, scale(C[t][n], WvI[n]))
            Hq.append(vtanh(acc))
        assert all(len(x) == k for x in Hv + Hq)
        v_hat = attend([dot(T["img_w"], hv) for hv in Hv], I, d)[0]
        q_hat = attend([dot(T["ques_w"], hq) for hq in Hq], Q, d)[0]
        ys.append(concat(q_hat, v_hat))
        Cs.append(C)
    return {"y": ([nb, 2 * d], ys), "affinity": ([nb, nT, nN], Cs)}


# ---------------------------------------------------------------------------
# 6. Yang et al. (2016), hierarchical attention network
# ---------------------------------------------------------------------------


def yang_han(T, S):
    """Word level, for sentence j of document i (words t < Lw[i][j]):
    u_t = tanh(W_w h_t + b_w), a = softmax(u_t^T u_w), s_j = sum a_t h_t.
    Sentence level (sentences j < Ls[i]): the same over s_j with W_s, b_s, u_s,
    giving v; p = softmax(W_c v + b_c)."""
    nb, ns, nw, d = S["H"]
    ncls = S["Wc"][0]

    def level(rows, valid, p):
        e = [dot(T[p + "u"], vtanh(add(matvec(T[p + "W"], x), T[p + "bw"])))
             if l < valid else None for l, x in enumerate(rows)]
        return attend(e, rows, d)[0]

    ps, vs = [], []
    for i in range(nb):
        sents = [level(T["H"][i][j], clamp_length(T["Lw"][i][j], nw), "word_")
                 for j in range(ns)]
        v = level(sents, clamp_length(T["Ls"][i], ns), "sentence_")
        ps.append(softmax(add(matvec(T["Wc"], v), T["bc"])))
        vs.append(v)
    return {"p": ([nb, ncls], ps), "doc": ([nb, d], vs)}


# ---------------------------------------------------------------------------
# 7-8. Vaswani et al. (2017), Transformer encoder and decoder layers
# ---------------------------------------------------------------------------


def multi_head(T, p, Xq, Xkv, visible):
    """MultiHead = W_O concat(head_1..head_h), head_j = Attention(W_Q^j x_i,
    W_K^j x_l, W_V^j x_l) with scaled dot scores; visible(i, l) says whether
    query i sees key l. Returns one row per query."""
    Wq, Wk, Wv, Wo = T[p + "Wq"], T[p + "Wk"], T[p + "Wv"], T[p + "Wo"]
    h = len(Wq)
    d_v = len(Wv[0])
    per_head = []
    for j in range(h):
        Ks = [matvec(Wk[j], x) for x in Xkv]
        Vs = [matvec(Wv[j], x) for x in Xkv]
        rows = []
        for i, x in enumerate(Xq):
            q = matvec(Wq[j], x)
            e = [score_scaled_dot(q, Ks[l]) if visible(i, l) else None
                 for l in range(len(Xkv))]
            rows.append(attend(e, Vs, d_v)[0])
        per_head.append(rows)
    return [matvec(Wo, concat(*[per_head[j][i] for j in range(h)]))
            for i in range(len(Xq))]


def ffn(T, x):
    """W_2 relu(W_1 x + b_1) + b_2."""
    return add(matvec(T["W2"], vrelu(add(matvec(T["W1"], x), T["b1"]))), T["b2"])


def transformer_encoder(T, S):
    """X1 = LN(X + MultiHead(X, X, X)) with keys l < L masked;
    Y = LN(X1 + FFN(X1))."""
    nb, n, d = S["X"]
    Ys = []
    for i in range(nb):
        X = T["X"][i]
        Li = clamp_length(T["L"][i], n)
        A = multi_head(T, "attn_", X, X, lambda qi, l: l < Li)
        X1 = [layer_norm(add(X[t], A[t]), T["g1"], T["beta1"]) for t in range(n)]
        Ys.append([layer_norm(add(x, ffn(T, x)), T["g2"], T["beta2"]) for x in X1])
    return {"Y": ([nb, n, d], Ys)}


def transformer_decoder(T, S):
    """Y1 = LN(Y + MaskedMultiHead(Y)) (query i sees l <= i);
    Y2 = LN(Y1 + MultiHead(Y1, M, M)) (memory keys l < Ls masked);
    Z = LN(Y2 + FFN(Y2))."""
    nb, nt, d = S["Y"]
    ns = S["M"][1]
    Zs = []
    for i in range(nb):
        Y, M = T["Y"][i], T["M"][i]
        Li = clamp_length(T["Ls"][i], ns)
        A1 = multi_head(T, "self_attn_", Y, Y, lambda qi, l: l <= qi)
        Y1 = [layer_norm(add(Y[t], A1[t]), T["g1"], T["beta1"]) for t in range(nt)]
        A2 = multi_head(T, "cross_attn_", Y1, M, lambda qi, l: l < Li)
        Y2 = [layer_norm(add(Y1[t], A2[t]), T["g2"], T["beta2"]) for t in range(nt)]
        Zs.append([layer_norm(add(y, ffn(T, y)), T["g3"], T["beta3"]) for y in Y2])
    return {"Z": ([nb, nt, d], Zs)}


# ---------------------------------------------------------------------------
# 9. Zheng & Jiang (2018) / Wallaart & Frasincar (2019), LCR-Rot-hop
# ---------------------------------------------------------------------------


def _rot(T, p, r, F, d):
    """f(h_i, r) = tanh(h_i^T W r + b); a = softmax(f); sum a_i h_i."""
    e = [score_activated_general_tanh(r, h, T[p + "W"], T[p + "bs"]) for h in F]
    return attend(e, F, d)[0]


def lcr_rot_hop(T, S, hops=3):
    """r_t = mean(F_t); r_t^l = r_t^r = r_t; each hop:
    r_l = rot(r_t^l over F_l), r_r = rot(r_t^r over F_r),
    r_t^l = rot(r_l over F_t), r_t^r = rot(r_r over F_t) (shared weights);
    v = concat(r_l, r_t^l, r_t^r, r_r); p = softmax(W_y v + b_y)."""
    nb, _, d = S["Ft"]
    ny = S["Wy"][0]
    rs, ps = [], []
    for i in range(nb):
        Fl, Ft, Fr = T["Fl"][i], T["Ft"][i], T["Fr"][i]
        rtl = mean_rows(Ft)
        rtr = rtl
        for _ in range(hops):
            rl = _rot(T, "left_", rtl, Fl, d)
            rr = _rot(T, "right_", rtr, Fr, d)
            rtl = _rot(T, "left_t_", rl, Ft, d)
            rtr = _rot(T, "right_t_", rr, Ft, d)
        v = concat(rl, rtl, rtr, rr)
        rs.append(v)
        ps.append(softmax(add(matvec(T["Wy"], v), T["by"])))
    return {"r": ([nb, 4 * d], rs), "p": ([nb, ny], ps)}


# ---------------------------------------------------------------------------
# 10. Kiela et al. (2018), dynamic meta-embeddings
# ---------------------------------------------------------------------------


def kiela_dme(T, S):
    """For token t: x'_j = P_j x_j + b_j (j < E); a_j = softmax_j(a^T x'_j);
    m_t = sum_j a_j x'_j."""
    nb, n, E, _ = S["X"]
    d = S["P"][1]
    ms, ws = [], []
    for i in range(nb):
        mrow, wrow = [], []
        for t in range(n):
            Xp = [add(matvec(T["P"][j], T["X"][i][t][j]), T["bp"][j]) for j in range(E)]
            m, a = attend([dot(T["av"], x) for x in Xp], Xp, d)
            mrow.append(m)
            wrow.append(a)
        ms.append(mrow)
        ws.append(wrow)
    return {"m": ([nb, n, d], ms), "weights": ([nb, n, E], ws)}


# ---------------------------------------------------------------------------
# 11. Sukhbaatar et al. (2015), end-to-end memory networks
# ---------------------------------------------------------------------------


def _memory_hop(u, X, A, C, d):
    """m_i = A x_i, c_i = C x_i, p = softmax(u^T m_i), o = sum p_i c_i."""
    m = [matvec(A, x) for x in X]
    c = [matvec(C, x) for x in X]
    return attend([dot(u, mi) for mi in m], c, d)[0]


def memn2n_adjacent(T, S):
    """Adjacent tying: B = A^1, C^k = A^{k+1}, W^T = C^3 = A^4.
    u^1 = A^1 q; u^{k+1} = u^k + o^k; y = softmax(W u^4)."""
    nb, _, d_in = S["X"]
    d = S["A1"][0]
    As = [T["A1"], T["A2"], T["A3"], T["A4"]]
    ys = []
    for i in range(nb):
        X = T["X"][i]
        u = matvec(As[0], T["q"][i])
        for k in range(3):
            u = add(u, _memory_hop(u, X, As[k], As[k + 1], d))
        ys.append(softmax(matTvec(As[3], u)))   # W u with W = A4^T
    return {"y": ([nb, d_in], ys)}


def memn2n_layerwise(T, S):
    """Layer-wise tying: A^k = A, C^k = C; u^1 = B q;
    u^{k+1} = H u^k + o^k (3 hops); y = softmax(W u^4)."""
    nb, _, d_in = S["X"]
    d = S["A"][0]
    ys = []
    for i in range(nb):
        X = T["X"][i]
        u = matvec(T["B"], T["q"][i])
        for _ in range(3):
            u = add(matvec(T["H"], u), _memory_hop(u, X, T["A"], T["C"], d))
        ys.append(softmax(matvec(T["W"], u)))
    return {"y": ([nb, d_in], ys)}


# ---------------------------------------------------------------------------
# 12. Capsule attention (Wang et al. 2018; survey eqs. 43-45)
# ---------------------------------------------------------------------------


def capsule_attention(T, S):
    """For class c: e_{c,l} = q_c^T h_l, a = softmax, c_c = sum a h_l (43);
    p_c = sigmoid(w_c^T c_c + b_c) (44); r_c = p_c c_c (45)."""
    nb, _, d = S["Hs"]
    ncls = S["Qc"][0]
    probs, rs = [], []
    for i in range(nb):
        H = T["Hs"][i]
        prow, rrow = [], []
        for c in range(ncls):
            cc = attend([dot(T["Qc"][c], hl) for hl in H], H, d)[0]
            p = sigmoid1(dot(T["Wp"][c], cc) + T["bp"][c][0])
            prow.append([p])
            rrow.append(scale(p, cc))
        probs.append(prow)
        rs.append(rrow)
    return {"prob": ([nb, ncls, 1], probs), "r": ([nb, ncls, d], rs)}


# ---------------------------------------------------------------------------
# 13. Zhao & Zhang (2018), attention-via-attention
# ---------------------------------------------------------------------------


def attention_via_attention(T, S):
    """c_w = additive attention of q_w over the words (W_w, U_w, b_w, v_w);
    c_c = additive attention of concat(q_c, c_w) over the characters
    (W_c, U_c, b_c, v_c); output concat(c_w, c_c)."""
    nb, _, d_w = S["Fw"]
    d_c = S["Fc"][2]
    ys = []
    for i in range(nb):
        Fw, Fc = T["Fw"][i], T["Fc"][i]
        qw, qc = T["qw"][i], T["qc"][i]
        cw = attend([score_additive(qw, f, T["Ww"], T["Uw"], T["bw"], T["vw"])
                     for f in Fw], Fw, d_w)[0]
        qcw = concat(qc, cw)
        cc = attend([score_additive(qcw, f, T["Wc"], T["Uc"], T["bc"], T["vc"])
                     for f in Fc], Fc, d_c)[0]
        ys.append(concat(cw, cc))
    return {"y": ([nb, d_w + d_c], ys)}


# ---------------------------------------------------------------------------
# 14. Ma et al. (2017), interactive attention networks
# ---------------------------------------------------------------------------


def ian_interactive(T, S):
    """c_avg = mean(H_c), t_avg = mean(H_t);
    c_r = sum softmax_i(tanh(c_i^T W_a t_avg + b_a)) c_i;
    t_r = sum softmax_i(tanh(t_i^T W_b c_avg + b_b)) t_i;
    d = concat(t_r, c_r); y = softmax(tanh(W_l d + b_l))."""
    nb, _, d = S["Hc"]
    ny = S["Wl"][0]
    ds, ys = [], []
    for i in range(nb):
        Hc, Ht = T["Hc"][i], T["Ht"][i]
        c_avg, t_avg = mean_rows(Hc), mean_rows(Ht)
        c_r = _rot(T, "ctx_", t_avg, Hc, d)
        t_r = _rot(T, "tgt_", c_avg, Ht, d)
        dr = concat(t_r, c_r)
        ds.append(dr)
        ys.append(softmax(vtanh(add(matvec(T["Wl"], dr), T["bl"]))))
    return {"d_rep": ([nb, 2 * d], ds), "y": ([nb, ny], ys)}


# ---------------------------------------------------------------------------
# 15. Grouped-query attention (Ainslie et al. 2023)
# ---------------------------------------------------------------------------


def gqa(T, S):
    """h query heads, g key/value heads; query head j uses key/value head
    j // (h / g). head_j: scaled dot, causal (l <= i); Y = W_O concat(heads)."""
    nb, n, d = S["X"]
    h, g = S["Wq"][0], S["Wk"][0]
    assert h % g == 0
    per_group = h // g
    d_v = S["Wv"][1]
    Ys = []
    for i in range(nb):
        X = T["X"][i]
        Ks = [[matvec(T["Wk"][m], x) for x in X] for m in range(g)]
        Vs = [[matvec(T["Wv"][m], x) for x in X] for m in range(g)]
        heads = []
        for j in range(h):
            m = j // per_group
            rows = []
            for t in range(n):
                q = matvec(T["Wq"][j], X[t])
                e = [score_scaled_dot(q, Ks[m][l]) if l <= t else None
                     for l in range(n)]
                rows.append(attend(e, Vs[m], d_v)[0])
            heads.append(rows)
        Ys.append([matvec(T["Wo"], concat(*[heads[j][t] for j in range(h)]))
                   for t in range(n)])
    return {"Y": ([nb, n, d], Ys)}


# ---------------------------------------------------------------------------
# 16. Shen et al. (2018), DiSAN: multi-dimensional attention (eqs. 30-32)
# ---------------------------------------------------------------------------


def _multidim_attend(q, keys, values, W1, W2, b, Wd):
    """e_l = W_d tanh(W_1 q + W_2 k_l + b) in R^{d_v}; for each feature f a
    softmax over l of e_{l,f}; c_f = sum_l a_{l,f} v_{l,f}; c = 0 with no
    key."""
    d_v = len(Wd)
    if not keys:
        return zeros(d_v)
    wq = add(matvec(W1, q), b)
    E = [matvec(Wd, vtanh(add(wq, matvec(W2, k)))) for k in keys]
    c = []
    for f in range(d_v):
        a = softmax([e[f] for e in E])
        c.append(sum(a[l] * values[l][f] for l in range(len(keys))))
    return c


def disan_forward(T, S):
    """Forward DiSA: s_i = multi-dimensional token2token attention of h_i
    over the tokens j < min(i, L); F = sigmoid(W_f1 s + W_f2 h + b_f);
    u = F o h + (1 - F) o s; z = multi-dimensional source2token attention
    (learned query q_s) over u_j, j < L."""
    nb, n, d = S["H"]
    Us, zs = [], []
    for bi in range(nb):
        H = T["H"][bi]
        L = clamp_length(T["L"][bi], n)
        u = []
        for i in range(n):
            visible = H[:min(i, L)]
            si = _multidim_attend(H[i], visible, visible, T["t2t_W1"],
                                  T["t2t_W2"], T["t2t_b1"], T["t2t_Wd"])
            F = vsigmoid(add(matvec(T["Wf1"], si), matvec(T["Wf2"], H[i]),
                             T["bf"]))
            u.append([F[f] * H[i][f] + (1.0 - F[f]) * si[f] for f in range(d)])
        Us.append(u)
        zs.append(_multidim_attend(T["s2t_qs"], u[:L], u[:L], T["s2t_W1"],
                                   T["s2t_W2"], T["s2t_b1"], T["s2t_Wd"]))
    return {"U": ([nb, n, d], Us), "z": ([nb, d], zs)}


# ---------------------------------------------------------------------------
# 17. Lin et al. (2017), structured self-attentive sentence embedding
# ---------------------------------------------------------------------------


def lin_self_attentive(T, S):
    """A = softmax(W_s2 tanh(W_s1 H^T)) over the words l < L (row j of W_s2
    is the j-th query-less score vector, survey eq. 33 with act = tanh and
    b = 0); M = A H; p = softmax(W_c mean_j(M_j) + b_c)."""
    nb, n, d = S["H"]
    r = S["Ws2"][0]
    embs, As, ps = [], [], []
    for i in range(nb):
        H = T["H"][i]
        valid = clamp_length(T["L"][i], n)
        hidden = [vtanh(matvec(T["Ws1"], h)) for h in H]
        M, A = [], []
        for j in range(r):
            e = [dot(T["Ws2"][j], hidden[l]) if l < valid else None
                 for l in range(n)]
            m, a = attend(e, H, d)
            M.append(m)
            A.append(a)
        pooled = scale(1.0 / r, add(*M)) if r else zeros(d)
        embs.append(M)
        As.append(A)
        ps.append(softmax(add(matvec(T["Wc"], pooled), T["bc"])))
    return {"emb": ([nb, r, d], embs), "A": ([nb, r, n], As),
            "p": ([nb, S["Wc"][0]], ps)}


def query_less(T, S):
    """Survey eq. (33): e_l = w^T tanh(W k_l + b), a = softmax(e),
    c = sum_l a_l k_l (keys = values = X)."""
    nb, n, d = S["X"]
    cs = []
    for i in range(nb):
        X = T["X"][i]
        e = [dot(T["w"], vtanh(add(matvec(T["W"], x), T["bw"]))) for x in X]
        cs.append(attend(e, X, d)[0])
    return {"y": ([nb, d], cs)}


# ===========================================================================
# Harness of test/Integration/survey/*.py
# ===========================================================================

GALLERY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "examples", "survey")


def nested(shape, flat):
    """Flat row-major values -> nested lists (a scalar for shape [])."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat[:shape[0]])
    inner = 1
    for s in shape[1:]:
        inner *= s
    return [nested(shape[1:], flat[i * inner:(i + 1) * inner])
            for i in range(shape[0])]


def flatten(shape, x, where="output"):
    """Nested lists -> flat row-major values, checking the shape."""
    if not shape:
        return [float(x)]
    assert len(x) == shape[0], "%s: reference has %d rows, shape %s" % (
        where, len(x), shape)
    out = []
    for row in x:
        out.extend(flatten(shape[1:], row, where))
    return out


# ---------------------------------------------------------------------------
# 18. Luong et al. (2015), local attention (survey eqs. 27-29)
# ---------------------------------------------------------------------------


def _luong_local(T, S, position, gaussian):
    """For each target state h_t: e_s = h_s^T W_a h_t over the window
    |s - p_t| <= D = 3, a = softmax(e) there (25), times
    exp(-(s - p_t)^2 / (2 (D/2)^2)) with `gaussian` (29, not renormalized);
    c = sum_s a_s h_s; y = softmax(W_s tanh(W_c [c; h_t]))."""
    nb, n_s, d = S["Hs"]
    n_t = S["Ht"][1]
    d_y = S["Ws"][0]
    ys, As = [], []
    for i in range(nb):
        H, Ht = T["Hs"][i], T["Ht"][i]
        yb, Ab = [], []
        for t in range(n_t):
            p = position(T, i, t, n_s)
            e = [score_general(Ht[t], H[s], T["Wa"]) if abs(s - p) <= 3
                 else None for s in range(n_s)]
            _, a = attend(e, H, d)
            if gaussian:
                a = [a[s] * math.exp(-(s - p) ** 2 / 4.5) for s in range(n_s)]
            c = zeros(d)
            for s in range(n_s):
                c = add(c, scale(a[s], H[s]))
            h_att = vtanh(matvec(T["Wc"], concat(c, Ht[t])))
            yb.append(softmax(matvec(T["Ws"], h_att)))
            Ab.append(a)
        ys.append(yb)
        As.append(Ab)
    return {"y": ([nb, n_t, d_y], ys), "A": ([nb, n_t, n_s], As)}


def luong_local_m(T, S):
    out = _luong_local(T, S, lambda T, i, t, n_s: t, False)
    del out["A"]
    return out


def luong_local_p(T, S):
    """p_t = S sigmoid(v_p^T tanh(W_p h_t)) (28), S = n_s."""
    def position(T, i, t, n_s):
        z = dot(T["vp"][0], vtanh(matvec(T["Wp"], T["Ht"][i][t])))
        return n_s * sigmoid1(z)
    return _luong_local(T, S, position, True)


def lengths_of(dim):
    """An i32 override for `mask lengths`: per entry one of n / 2, 0, n, -3
    (clamped to 0), n + 5 (clamped to n), 1, n - 1, where n is dims[dim],
    starting at a random place of that cycle."""
    def make(shape, rng, dims):
        n = dims[dim]
        pool = [n // 2, 0, n, -3, n + 5, 1, max(n - 1, 0)]
        total = 1
        for s in shape:
            total *= s
        start = rng.randrange(len(pool))
        return [pool[(start + i) % len(pool)] for i in range(total)]
    return make


def _run_case(T, model, ref_fn, dims, seed, overrides, scale_map, label):
    what = "%s: %s dims=%s seed=%d" % (label, model.name, dims, seed)
    print("case:", what, flush=True)
    sig = model.signature()
    data = T.random_tensors(sig, dims, seed, overrides, scale_map)
    tensors, outs = [], []
    for a in sig["args"]:
        dt = T.DTYPES[a["dtype"]]
        shape = T.resolve(a["shape"], dims)
        empty = T.prod(shape) == 0
        if a["role"] == "output":
            t = T.Tensor.full(shape, T.SENTINEL, dt, null_data=empty)
            outs.append((a["name"], t))
        else:
            t = T.Tensor(data[a["name"]][1], shape, dt, null_data=empty)
        tensors.append(t)
    before = [list(t.buf) for t in tensors]
    rc = model.call(tensors)
    if rc != 0:
        raise T.CaseFailure("%s: attnc_%s returned %d: %s" % (
            what, model.name, rc, model.last_error()))
    named = {name: nested(shape, vals) for name, (shape, vals) in data.items()}
    shapes = {name: shape for name, (shape, _) in data.items()}
    expected = ref_fn(named, shapes)
    problems = []
    for a, t, b in zip(sig["args"], tensors, before):
        if a["role"] != "output" and list(t.buf) != b:
            problems.append("%s %s was modified by the call" % (a["role"], a["name"]))
    for name, t in outs:
        if name not in expected:
            problems.append("output %s: the reference has no such output "
                            "(it has %s)" % (name, sorted(expected)))
            continue
        eshape, enested = expected[name]
        if list(eshape) != list(t.shape):
            problems.append("%s: shape %s in the signature (resolved), %s in "
                            "the reference" % (name, t.shape, eshape))
            continue
        evals = flatten(eshape, enested, name)
        got = t.values()
        msg = T.compare(name, got, evals)
        if msg:
            wi = next(i for i, (g, r) in enumerate(zip(got, evals))
                      if not T.close(g, r))
            msg += "; first bad at index %s: got %r expected %r" % (
                T.unravel(wi, t.shape), got[wi], evals[wi])
            if any(g == T.SENTINEL for g in got):
                msg += " (some elements were never written: sentinel %g)" % T.SENTINEL
            problems.append(msg)
    missing = sorted(set(expected) - set(n for n, _ in outs))
    if missing:
        problems.append("outputs of the reference missing from the "
                        "signature: %s" % missing)
    if problems:
        raise T.CaseFailure("%s:\n  %s" % (what, "\n  ".join(problems)))


def compile_gallery(T, filename):
    """Compiles examples/survey/FILENAME as it is (so that diagnostics name
    the gallery file) into a library in the tests' temporary directory, with
    $ATTNC_TEST_FLAGS like attnc_testlib.compile. Returns a T.Library."""
    import ctypes
    import subprocess
    path = os.path.normpath(os.path.join(GALLERY, filename))
    with open(path) as f:
        source = f.read()
    so = os.path.join(T._workdir(), "lib%s.so" % filename.replace(".attn", ""))
    flags = os.environ.get("ATTNC_TEST_FLAGS", "").split()
    proc = subprocess.run([T.find_attnc(), path, "-o", so] + flags,
                          env=T.tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0 or not os.path.exists(so):
        raise T.CompileError("examples/survey/%s does not compile (attnc "
                             "status %d):\n%s%s" % (filename, proc.returncode,
                                                    proc.stdout, proc.stderr))
    try:
        cdll = ctypes.CDLL(so)
    except OSError as e:
        raise T.CompileError("examples/survey/%s: attnc built %s, but it does "
                             "not load: %s" % (filename, so, e))
    return T.Library(cdll, so, source)


def run_program(checker, filename, models, seed=1):
    """Compiles examples/survey/FILENAME and checks each model of `models`,
    a list of dicts:
      name      the model name
      ref       the reference function (T, S) -> outputs
      sizes     a list of dims dicts (every dynamic dim, batch included)
      abi       the expected ABI argument names, in order
      overrides, scale   as for attnc_testlib.random_tensors
    """
    import attnc_testlib as T
    label = "examples/survey/" + filename
    try:
        lib = compile_gallery(T, filename)
    except T.CompileError as e:
        checker.check(False, str(e))
        return
    for m in models:
        try:
            model = lib.model(m["name"])
            sig = model.signature()
        except Exception as e:  # e.g. a missing entry point
            checker.check(False, "%s: model %s: %s" % (label, m["name"], e))
            continue
        names = [a["name"] for a in sig["args"]]
        if "abi" in m:
            checker.check(names == m["abi"],
                          "%s: model %s: ABI arguments %s, expected %s "
                          "(inputs and params in declaration order, then "
                          "block params SET_NAME in order of first use, then "
                          "outputs)" % (label, m["name"], names, m["abi"]))
        for i, dims in enumerate(m["sizes"]):
            checker.run(_run_case, T, model, m["ref"], dims, seed + i,
                        m.get("overrides"), m.get("scale"), label)


def main(filename, models, seed=1):
    import attnc_testlib as T
    checker = T.Checker()
    run_program(checker, filename, models, seed)
    checker.finish()
