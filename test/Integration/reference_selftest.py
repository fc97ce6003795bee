# RUN: %python %s
# Self-consistency of the double-precision reference (test/lib/reference.py)
# on hand-computed values and identities between the score functions. Needs
# no compiler.

import math
import random
import sys

import reference as R

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


def near(a, b, tol=1e-12):
    if isinstance(a, list):
        return len(a) == len(b) and all(near(x, y, tol) for x, y in zip(a, b))
    return abs(a - b) <= tol * (1 + abs(b))


rng = random.Random(7)


def vec(n):
    return [rng.uniform(-1, 1) for _ in range(n)]


def mat(m, n):
    return [vec(n) for _ in range(m)]


def eye(n):
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


# Linear maps and activations.
check(R.linear([[1, 2], [3, 4]], [1, 1], [0.5, -0.5]) == [3.5, 6.5], "linear")
check(R.linear(None, [1, 2], None) == [1, 2], "identity linear")
check(R.activation("relu", -2.0) == 0.0 and R.activation("relu", 2.0) == 2.0, "relu")
check(near(R.activation("sigmoid", 0.0), 0.5), "sigmoid(0)")
check(near(R.activation("sigmoid", -800.0), 0.0), "sigmoid(-800) no overflow")
check(near(R.activation("sigmoid", 3.0) + R.activation("sigmoid", -3.0), 1.0),
      "sigmoid symmetry")
check(near(R.activation("tanh", 0.3), math.tanh(0.3)), "tanh")

# Softmax sums to 1, is shift invariant, and is safe for large values.
for n in (1, 2, 7, 65):
    x = vec(n)
    s = R.softmax(x)
    check(near(sum(s), 1.0), "softmax sum n=%d" % n)
    check(near(R.softmax([v + 100.0 for v in x]), s, 1e-9), "softmax shift n=%d" % n)
check(near(R.softmax([1000.0, 1000.0]), [0.5, 0.5]), "softmax large")
check(near(R.softmax([0.0, math.log(3.0)]), [0.25, 0.75]), "softmax values")

# Score identities.
for d in (1, 3, 17):
    q, k = vec(d), vec(d)
    check(near(R.score_dot(q, k), sum(a * b for a, b in zip(q, k))), "dot d=%d" % d)
    check(near(R.score_general(q, k, eye(d)), R.score_dot(q, k)), "general(I)=dot d=%d" % d)
    W = mat(d, d)
    check(near(R.score_biased_general(q, k, W, [0.0] * d), R.score_general(q, k, W)),
          "biased_general(b=0)=general d=%d" % d)
    b = vec(d)
    check(near(R.score_biased_general(q, k, W, b),
               R.score_general(q, k, W) + R.dot(k, b)), "biased_general split d=%d" % d)
    check(near(R.score_activated_general(q, k, W, 0.0, "identity"),
               R.score_general(q, k, W)), "activated_general(identity,0) d=%d" % d)
    check(near(R.score_activated_general(q, k, W, 0.25, "tanh"),
               math.tanh(R.score_general(q, k, W) + 0.25)), "activated_general tanh d=%d" % d)
    check(near(R.score_scaled_dot(q, k), R.score_dot(q, k) / math.sqrt(d)),
          "scaled_dot d=%d" % d)
    check(near(R.score_cosine(q, q), 1.0), "cosine(q,q)=1 d=%d" % d)
    check(near(R.score_cosine(q, [-v for v in q]), -1.0), "cosine(q,-q)=-1 d=%d" % d)
    check(R.score_cosine(q, [0.0] * d) == 0.0, "cosine zero key d=%d" % d)
    check(R.score_cosine([0.0] * d, k) == 0.0, "cosine zero query d=%d" % d)
    check(near(R.score_cosine([2 * v for v in q], k), R.score_cosine(q, k)),
          "cosine scale invariant d=%d" % d)
    # -|q - k|^2: 0 against itself, symmetric, and the expansion
    # -(|q|^2 - 2 q.k + |k|^2).
    check(R.score_neg_sq_euclidean(q, q) == 0.0, "neg_sq_euclidean(q,q)=0 d=%d" % d)
    check(near(R.score_neg_sq_euclidean(q, k), R.score_neg_sq_euclidean(k, q)),
          "neg_sq_euclidean symmetric d=%d" % d)
    check(near(R.score_neg_sq_euclidean(q, k),
               2 * R.dot(q, k) - R.dot(q, q) - R.dot(k, k)),
          "neg_sq_euclidean expansion d=%d" % d)
    # additive with the identity activation is linear in q and k.
    dw = 5
    W1, W2, bb, w = mat(dw, d), mat(dw, d), vec(dw), vec(dw)
    lin = R.dot(w, R.matvec(W1, q)) + R.dot(w, R.matvec(W2, k)) + R.dot(w, bb)
    check(near(R.score_additive(q, k, W1, W2, bb, w, "identity"), lin),
          "additive(identity) linear d=%d" % d)
    h = [math.tanh(a + c + e) for a, c, e in
         zip(R.matvec(W1, q), R.matvec(W2, k), bb)]
    check(near(R.score_additive(q, k, W1, W2, bb, w), R.dot(w, h)),
          "additive default tanh d=%d" % d)

# Masks: causal alignment at the bottom right, lengths clamped.
vis = [[R.visible(i, l, 3, 3, True, None) for l in range(3)] for i in range(3)]
check(vis == [[True, False, False], [True, True, False], [True, True, True]],
      "causal n_q = n_k")
vis = [[R.visible(i, l, 2, 5, True, None) for l in range(5)] for i in range(2)]
check(vis == [[True, True, True, True, False], [True] * 5], "causal n_q < n_k")
vis = [[R.visible(i, l, 4, 2, True, None) for l in range(2)] for i in range(4)]
check(vis == [[False, False], [False, False], [True, False], [True, True]],
      "causal n_q > n_k")
check(all(R.visible(0, l, 1, 9, True, None) for l in range(9)), "single query causal")
check([R.visible(0, l, 1, 4, False, 2) for l in range(4)] == [True, True, False, False],
      "lengths")
check(not any(R.visible(0, l, 1, 4, False, -3) for l in range(4)), "negative length")
check(all(R.visible(0, l, 1, 4, False, 99) for l in range(4)), "length > n_k")
check(R.masked_softmax([1.0, 2.0], [False, False]) == [0.0, 0.0], "all masked -> 0")
check(near(R.masked_softmax([5.0, 0.0, 9.0], [False, True, False]), [0.0, 1.0, 0.0]),
      "one visible")

# attend: hand-computed case and degenerate ones.
e1 = math.e
C, A = R.attend([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 4.0]],
                R.score_dot, 2)
check(near(A[0], [e1 / (e1 + 1), 1 / (e1 + 1)]), "attend weights")
check(near(C[0], [2 * e1 / (e1 + 1), 4 / (e1 + 1)]), "attend context")
V = mat(6, 3)
C, A = R.attend([[0.0, 0.0]], mat(6, 2), V, R.score_dot, 3)
check(near(C[0], [sum(v[j] for v in V) / 6 for j in range(3)]), "uniform -> mean")
C, A = R.attend([[1.0]], [], [], R.score_dot, 3)
check(C == [[0.0, 0.0, 0.0]] and A == [[]], "n_k = 0 gives c = 0")
C, A = R.attend([], mat(4, 2), mat(4, 2), R.score_dot, 2)
check(C == [] and A == [], "n_q = 0")
V = mat(3, 2)
C, A = R.attend(mat(3, 2), mat(3, 2), V, R.score_dot, 2, causal=True)
check(near(A[0], [1.0, 0.0, 0.0]) and near(C[0], V[0]), "causal row 0 sees key 0 only")
check(near(sum(A[1]), 1.0) and A[1][2] == 0.0, "causal row 1")

# Output model.
check(near(sum(R.output_model(vec(4), mat(5, 4), vec(5), use_softmax=True)), 1.0),
      "softmax output sums to 1")
c = vec(4)
W, b = mat(3, 4), vec(3)
check(near(R.output_model(c, W, b, "tanh"), [math.tanh(v) for v in R.linear(W, c, b)]),
      "tanh output")
check(R.output_model(c) == c, "identity output")


# evaluate(): a model with one head equals the same model with heads h = 1 and
# per-head weights; multi-head concat equals per-head runs.
def flat(x):
    return R.flatten(x)


def tens(shape):
    n = 1
    for s in shape:
        n *= s
    return (list(shape), [rng.uniform(-1, 1) for _ in range(n)])


nb, n, d, dk = 2, 5, 4, 3
X = tens([nb, n, d])
Wq, Wk, Wv = tens([dk, d]), tens([dk, d]), tens([dk, d])
Wo = tens([2, dk])
single = {"batch": 1, "inputs": ["X"], "query": ("X", "Wq", None),
          "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
          "score": ("scaled_dot", [], None), "causal": True,
          "outputs": [("y", "c"), ("A", "a"), ("z", "linear", "Wo", None, None, False)]}
t1 = {"X": X, "Wq": Wq, "Wk": Wk, "Wv": Wv, "Wo": Wo}
r1 = R.evaluate(single, t1)
heads = dict(single, heads=1)
t2 = {"X": X, "Wq": ([1] + Wq[0], Wq[1]), "Wk": ([1] + Wk[0], Wk[1]),
      "Wv": ([1] + Wv[0], Wv[1]), "Wo": Wo}
r2 = R.evaluate(heads, t2)
check(near(r1["y"][1], r2["y"][1]) and r1["y"][0] == r2["y"][0], "h=1 context")
check(near(r1["A"][1], r2["A"][1]) and r2["A"][0] == [nb, 1, n, n], "h=1 weights")
check(r1["y"][0] == [nb, n, dk] and r1["A"][0] == [nb, n, n] and r1["z"][0] == [nb, n, 2],
      "shapes")
# two heads: the concat holds each head's context.
Wq2, Wk2, Wv2 = tens([2, dk, d]), tens([2, dk, d]), tens([2, dk, d])
r3 = R.evaluate(dict(single, heads=2, outputs=[("y", "c")]),
                {"X": X, "Wq": Wq2, "Wk": Wk2, "Wv": Wv2})
for j in range(2):
    part = lambda t: ([dk, d], t[1][j * dk * d:(j + 1) * dk * d])
    rj = R.evaluate(dict(single, outputs=[("y", "c")]),
                    {"X": X, "Wq": part(Wq2), "Wk": part(Wk2), "Wv": part(Wv2)})
    yj = R.nested([nb, n, dk], rj["y"][1])
    y3 = R.nested([nb, n, 2 * dk], r3["y"][1])
    check(all(near(y3[b][i][j * dk:(j + 1) * dk], yj[b][i])
              for b in range(nb) for i in range(n)), "head %d of concat" % j)

# Alignments: sigmoid per visible key, unnormalized; argmax one-hot at the
# first visible maximum (ties to the earliest), none when nothing is seen.
seen = [True, False, True, True]
check(near(R.masked_sigmoid([0.0, 5.0, math.log(3.0), -1e9], seen),
           [0.5, 0.0, 0.75, 0.0]), "masked_sigmoid")
check(R.masked_argmax([1.0, 9.0, 2.0, 2.0], seen) == [0, 0, 1.0, 0],
      "masked_argmax first of ties")
check(R.masked_argmax([1.0, 2.0], [False, False]) == [0, 0],
      "masked_argmax nothing visible")
check(R.masked_argmax([-math.inf, -math.inf], [True, True]) == [0, 0],
      "masked_argmax -inf never chosen")
C, A = R.attend([[1.0]], [[1.0], [1.0], [0.0]], [[2.0], [3.0], [4.0]],
                lambda q, k: q[0] * k[0], 1, align="argmax")
check(C == [[2.0]] and A == [[1.0, 0.0, 0.0]], "attend argmax: first tie")
C, A = R.attend([[1.0]], [[0.0], [0.0]], [[2.0], [4.0]],
                lambda q, k: q[0] * k[0], 1, align="sigmoid")
check(near(C[0][0], 3.0), "attend sigmoid: unnormalized sum")

# hard(e; seed): the Gumbel-max sample follows softmax(e); the generator
# is a function of (seed, b, h, i, l) only.
e3, seen3 = [0.0, 1.0, 2.0, 5.0], [True, True, True, False]
counts = [0, 0, 0, 0]
for i in range(20000):
    counts[R.masked_hard(e3, seen3, 99, 1, 2, i).index(1.0)] += 1
p3 = R.masked_softmax(e3, seen3)
check(all(abs(counts[l] / 20000.0 - p3[l]) < 0.015 for l in range(4)),
      "masked_hard frequencies %s vs softmax %s" % (counts, p3))
check(R.gumbel(7, 0, 0, 3, 5) == R.gumbel(7, 0, 0, 3, 5) and
      R.gumbel(7, 0, 0, 3, 5) != R.gumbel(8, 0, 0, 3, 5), "gumbel keyed")

if failures:
    print("%d reference self-test failures" % len(failures))
    sys.exit(1)
print("reference self-test passed")
