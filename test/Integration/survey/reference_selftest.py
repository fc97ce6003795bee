# RUN: %python %s
# Self-test of test/lib/survey_reference.py, without the compiler: each
# gallery reference is compared, where the two overlap, with the independent
# reference of the single-step models (test/lib/reference.py), and with
# identities between models (e.g. adjacent and layer-wise tied memory
# networks coincide when all embeddings are equal, H = I and W = A^T).
# Both are float64, so they must agree to 1e-12.

import math
import random
import sys

import reference as OLD
import survey_reference as R

TOL = 1e-12
failures = []
rng = random.Random(7)


def rnd(shape):
    n = 1
    for s in shape:
        n *= s
    return [rng.uniform(-1, 1) for _ in range(n)]


def make(shapes):
    """{name: shape} -> (tensors {name: (shape, flat)}, T nested, S shapes)."""
    tensors = {k: (list(s), rnd(s)) for k, s in shapes.items()}
    return (tensors, {k: R.nested(s, v) for k, (s, v) in tensors.items()},
            {k: list(s) for k, (s, _) in tensors.items()})


def close(what, got, want):
    g, w = OLD.flatten(got), OLD.flatten(want)
    if len(g) != len(w):
        failures.append("%s: %d values, expected %d" % (what, len(g), len(w)))
        return
    worst = max([abs(a - b) for a, b in zip(g, w)] + [0.0])
    if worst > TOL:
        failures.append("%s: differs by %g" % (what, worst))


def old_eval(spec, tensors, out):
    shape, flat = OLD.evaluate(spec, tensors)[out]
    return OLD.nested(shape, flat)


# 1. GQA with g = h is multi-head attention (causal), W_O concat.
for n in (0, 1, 6):
    b, d, h, dk = 2, 8, 4, 3
    tn, T, S = make({"X": [b, n, d], "Wq": [h, dk, d], "Wk": [h, dk, d],
                     "Wv": [h, dk, d], "Wo": [d, h * dk]})
    spec = {"batch": 1, "heads": h, "inputs": ["X"], "query": ("X", "Wq", None),
            "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
            "score": ("scaled_dot", [], None), "causal": True,
            "outputs": [("Y", "linear", "Wo", None, None, False)]}
    close("gqa(g = h) n=%d" % n, R.gqa(T, S)["Y"][1], old_eval(spec, tn, "Y"))

# 2. The Transformer's multi-head attention with lengths.
for n in (1, 5):
    b, d, h, dk = 3, 8, 2, 4
    tn, T, S = make({"X": [b, n, d], "p_Wq": [h, dk, d], "p_Wk": [h, dk, d],
                     "p_Wv": [h, dk, d], "p_Wo": [d, h * dk]})
    tn["L"] = ([b], [0, n // 2 + 1, n + 3])
    spec = {"batch": 1, "heads": h, "inputs": ["X", "L"],
            "query": ("X", "p_Wq", None), "keys": ("X", "p_Wk", None),
            "values": ("X", "p_Wv", None), "score": ("scaled_dot", [], None),
            "lengths": "L",
            "outputs": [("Y", "linear", "p_Wo", None, None, False)]}
    want = old_eval(spec, tn, "Y")
    for i in range(b):
        Li = R.clamp_length(tn["L"][1][i], n)
        got = R.multi_head(T, "p_", T["X"][i], T["X"][i], lambda q, l: l < Li)
        close("multi_head lengths n=%d entry %d" % (n, i), got, want[i])

# 3. Bahdanau: the weights are additive attention's.
for n in (0, 1, 7):
    b = 2
    tn, T, S = make({"X": [b, n, 6], "s": [b, 4], "Wa": [5, 4], "Ua": [5, 6],
                     "ba": [5], "va": [5], "Wo": [3, 6], "Uo": [3, 4],
                     "bo": [3], "Wy": [2, 3]})
    spec = {"batch": 1, "inputs": ["X", "s"], "query": ("s", None, None),
            "keys": ("X", None, None), "values": ("X", None, None),
            "score": ("additive", ["Wa", "Ua", "ba", "va"], "tanh"),
            "outputs": [("a", "a"), ("c", "c")]}
    close("bahdanau weights n=%d" % n,
          R.bahdanau_deep_output(T, S)["weights"][1], old_eval(spec, tn, "a"))
    # y by hand from the old reference's c.
    cs = old_eval(spec, tn, "c")
    want = [R.softmax(R.matvec(T["Wy"], R.vtanh(R.add(
        R.matvec(T["Wo"], cs[i]), R.matvec(T["Uo"], T["s"][i]), T["bo"]))))
        for i in range(b)]
    close("bahdanau y n=%d" % n, R.bahdanau_deep_output(T, S)["y"][1], want)

# 4. Luong general with lengths: h~ with W_c = [I 0] is tanh(c).
for n in (0, 4, 9):
    b, d = 4, 5
    tn, T, S = make({"Hs": [b, n, d], "ht": [b, d], "Wa": [d, d],
                     "Ws": [3, d]})
    ident = [[1.0 if j == i else 0.0 for j in range(2 * d)] for i in range(d)]
    T["Wc"], S["Wc"] = ident, [d, 2 * d]
    tn["L"] = ([b], [0, 2, n + 4, -1])
    T["L"] = tn["L"][1]
    tn["Id"] = ([d, d], [1.0 if j == i else 0.0 for i in range(d) for j in range(d)])
    spec = {"batch": 1, "inputs": ["Hs", "ht", "L"], "query": ("ht", None, None),
            "keys": ("Hs", None, None), "values": ("Hs", None, None),
            "score": ("general", ["Wa"], None), "lengths": "L",
            "outputs": [("y", "linear", "Id", None, "tanh", False)]}
    close("luong general n=%d" % n, R.luong_general(T, S)["h_tilde"][1],
          old_eval(spec, tn, "y"))

# 5. Capsules with w_c = 0, b_c = 0: p = 1/2 and r = c / 2, c from learned
#    queries (one per class).
for n in (0, 1, 8):
    b, d, k = 2, 6, 3
    tn, T, S = make({"Hs": [b, n, d], "Qc": [k, d]})
    T["Wp"], S["Wp"] = [[0.0] * d] * k, [k, d]
    T["bp"], S["bp"] = [[0.0]] * k, [k, 1]
    spec = {"batch": 1, "inputs": ["Hs"], "query": ("Qc", None, None),
            "keys": ("Hs", None, None), "values": ("Hs", None, None),
            "score": ("dot", [], None), "outputs": [("c", "c")]}
    out = R.capsule_attention(T, S)
    close("capsule p n=%d" % n, out["prob"][1], [[[0.5]] * k] * b)
    close("capsule r n=%d" % n, out["r"][1],
          [[[x / 2 for x in row] for row in e] for e in old_eval(spec, tn, "c")])

# 6. Lu's parallel co-attention in matrix form:
#    C = tanh(Q W_b I^T), H_v = tanh(I W_v^T + C^T Q W_q^T),
#    H_q = tanh(Q W_q^T + C I W_v^T).
def mm(A, B, ncols):
    return [[sum(A[i][t] * B[t][j] for t in range(len(B))) for j in range(ncols)]
            for i in range(len(A))]


def tr(A, ncols):
    return [[A[i][j] for i in range(len(A))] for j in range(ncols)]


for nT, nN in ((3, 5), (1, 1), (0, 4)):
    b, d, k = 2, 4, 3
    tn, T, S = make({"Q": [b, nT, d], "I": [b, nN, d], "Wb": [d, d],
                     "Wq": [k, d], "Wv": [k, d], "img_w": [k], "ques_w": [k]})
    out = R.lu_parallel_coattention(T, S)
    for i in range(b):
        Q, I = T["Q"][i], T["I"][i]
        C = [[math.tanh(x) for x in r]
             for r in mm(Q, mm(T["Wb"], tr(I, d), nN), nN)]
        Hv = [[math.tanh(x + y) for x, y in zip(r1, r2)] for r1, r2 in
              zip(mm(I, tr(T["Wv"], d), k), mm(tr(C, nN), mm(Q, tr(T["Wq"], d), k), k))]
        Hq = [[math.tanh(x + y) for x, y in zip(r1, r2)] for r1, r2 in
              zip(mm(Q, tr(T["Wq"], d), k), mm(C, mm(I, tr(T["Wv"], d), k), k))]
        v = R.attend([R.dot(T["img_w"], r) for r in Hv], I, d)[0]
        q = R.attend([R.dot(T["ques_w"], r) for r in Hq], Q, d)[0]
        close("lu parallel y T=%d N=%d" % (nT, nN), out["y"][1][i], q + v)
        close("lu parallel C T=%d N=%d" % (nT, nN), out["affinity"][1][i], C)

# 7. Memory networks: adjacent tying with A1 = .. = A4 = A is layer-wise
#    tying with C = B = A, H = I and W = A^T.
for n in (0, 1, 6):
    b, din, d = 2, 7, 4
    tn, T, S = make({"X": [b, n, din], "q": [b, din], "A": [d, din]})
    for k in ("A1", "A2", "A3", "A4", "C", "B"):
        T[k], S[k] = T["A"], S["A"]
    T["H"] = [[1.0 if j == i else 0.0 for j in range(d)] for i in range(d)]
    T["W"] = [[T["A"][r][c] for r in range(d)] for c in range(din)]
    close("memn2n adjacent = layerwise n=%d" % n, R.memn2n_adjacent(T, S)["y"][1],
          R.memn2n_layerwise(T, S)["y"][1])

# 8. DME with one embedding: weight 1, m = P_0 x + b_0.
for n in (0, 3):
    b, de, d = 2, 4, 3
    tn, T, S = make({"X": [b, n, 1, de], "P": [1, d, de], "bp": [1, d], "av": [d]})
    out = R.kiela_dme(T, S)
    close("dme E=1 weights n=%d" % n, out["weights"][1], [[[1.0]] * n] * b)
    close("dme E=1 m n=%d" % n, out["m"][1],
          [[R.add(R.matvec(T["P"][0], T["X"][i][t][0]), T["bp"][0])
            for t in range(n)] for i in range(b)])

# 9. LCR-Rot-hop with one hop is LCR-Rot: four activated-general attentions.
for nl, nt, nr in ((0, 1, 3), (4, 2, 5)):
    b, d = 2, 3
    tn, T, S = make({"Fl": [b, nl, d], "Ft": [b, nt, d], "Fr": [b, nr, d],
                     "Wy": [2, 4 * d], "by": [2],
                     "left_W": [d, d], "left_bs": [], "right_W": [d, d],
                     "right_bs": [], "left_t_W": [d, d], "left_t_bs": [],
                     "right_t_W": [d, d], "right_t_bs": []})
    got = R.lcr_rot_hop(T, S, hops=1)["r"][1]

    def att(qname, q_rows, kname, set_):
        tt = {qname: ([b, d], OLD.flatten(q_rows)), kname: tn[kname],
              "W": tn[set_ + "W"], "bs": tn[set_ + "bs"]}
        spec = {"batch": 1, "inputs": [qname, kname], "query": (qname, None, None),
                "keys": (kname, None, None), "values": (kname, None, None),
                "score": ("activated_general", ["W", "bs"], "tanh"),
                "outputs": [("c", "c")]}
        return old_eval(spec, tt, "c")
    rt = [R.mean_rows(T["Ft"][i]) for i in range(b)]
    rl = att("rt", rt, "Fl", "left_")
    rr = att("rt", rt, "Fr", "right_")
    rlt = att("rl", rl, "Ft", "left_t_")
    rrt = att("rr", rr, "Ft", "right_t_")
    close("lcr-rot (1 hop) %s" % ((nl, nt, nr),), got,
          [rl[i] + rlt[i] + rrt[i] + rr[i] for i in range(b)])

# 10. HAN word level: u^T tanh(W h + b) is additive(q, h; 0, W, b, u).
for nw in (0, 1, 5):
    b, d, da = 3, 4, 3
    tn, T, S = make({"H": [b, 1, nw, d], "word_W": [da, d], "word_bw": [da],
                     "word_u": [da], "sentence_W": [da, d],
                     "sentence_bw": [da], "sentence_u": [da], "Wc": [2, d],
                     "bc": [2]})
    T["Lw"], T["Ls"] = [[nw], [nw + 3], [-1]], [1, 1, 1]
    # One sentence: the sentence level gives it weight 1, so doc = s_1.
    got = R.yang_han(T, S)["doc"][1]
    tt = {"H": ([b, nw, d], tn["H"][1]), "q0": ([b, 1], [0.0] * b),
          "W1": ([da, 1], [0.0] * da), "W": tn["word_W"], "bw": tn["word_bw"],
          "u": tn["word_u"], "L": ([b], [nw, nw + 3, -1])}
    spec = {"batch": 1, "inputs": ["H", "q0", "L"], "query": ("q0", None, None),
            "keys": ("H", None, None), "values": ("H", None, None),
            "score": ("additive", ["W1", "W", "bw", "u"], "tanh"),
            "lengths": "L", "outputs": [("c", "c")]}
    close("han word level nw=%d" % nw, got, old_eval(spec, tt, "c"))

# 11. Attention via attention: both steps are additive attentions.
for nw, nc in ((0, 3), (4, 0), (3, 5)):
    b, dw, dc, dq, dqc, da = 2, 4, 3, 2, 3, 5
    tn, T, S = make({"Fw": [b, nw, dw], "Fc": [b, nc, dc], "qw": [b, dq],
                     "qc": [b, dqc], "Ww": [da, dq], "Uw": [da, dw],
                     "bw": [da], "vw": [da], "Wc": [da, dqc + dw],
                     "Uc": [da, dc], "bc": [da], "vc": [da]})
    spec = {"batch": 1, "inputs": ["Fw", "qw"], "query": ("qw", None, None),
            "keys": ("Fw", None, None), "values": ("Fw", None, None),
            "score": ("additive", ["Ww", "Uw", "bw", "vw"], "tanh"),
            "outputs": [("c", "c")]}
    cw = old_eval(spec, tn, "c")
    tt = dict(tn)
    tt["qcw"] = ([b, dqc + dw], OLD.flatten([T["qc"][i] + cw[i] for i in range(b)]))
    spec = {"batch": 1, "inputs": ["Fc", "qcw"], "query": ("qcw", None, None),
            "keys": ("Fc", None, None), "values": ("Fc", None, None),
            "score": ("additive", ["Wc", "Uc", "bc", "vc"], "tanh"),
            "outputs": [("c", "c")]}
    cc = old_eval(spec, tt, "c")
    close("via attention %s" % ((nw, nc),), R.attention_via_attention(T, S)["y"][1],
          [cw[i] + cc[i] for i in range(b)])

# 12. layer_norm by hand: x = [1, 2, 3, 4] has mean 2.5 and variance 1.25.
r = 1 / math.sqrt(1.25 + 1e-5)
close("layer_norm", R.layer_norm([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 1.0, 1.0],
                                 [0.0, 0.0, 1.0, 0.0]),
      [-1.5 * r, -0.5 * r * 2, 0.5 * r + 1, 1.5 * r])

# 13. Xu: z / beta is the additive attention's context.
tn, T, S = make({"A": [2, 5, 4], "h": [2, 3], "Wh": [6, 3], "Wa": [6, 4],
                 "ba": [6], "wa": [6], "w_beta": [1, 3], "b_beta": [1]})
spec = {"batch": 1, "inputs": ["A", "h"], "query": ("h", None, None),
        "keys": ("A", None, None), "values": ("A", None, None),
        "score": ("additive", ["Wh", "Wa", "ba", "wa"], "tanh"),
        "outputs": [("c", "c")]}
out = R.xu_soft_attention(T, S)
close("xu z / beta", [[x / out["gate"][1][i][0] for x in out["z"][1][i]] for i in range(2)],
      old_eval(spec, tn, "c"))

for f in failures:
    print("FAIL:", f, file=sys.stderr)
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
