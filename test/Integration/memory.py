# RUN: %python %s
# The n_q x n_k scores are never materialized: one head of attention over
# n = 16384 queries and keys (an n x n f32 matrix would be 1 GiB) must run
# with the peak memory of the process growing by far less than that. Checked
# for the blocked dot kernel (no weights output), the per-query loops
# (additive score), the scalar loops (--vectorize=false), and a program of
# two attention steps with a residual and a layer norm between them (no
# n x n buffer between the steps either). A few output rows are compared
# with the double-precision reference (one-step models).

import array
import random
import resource

import attnc_testlib as T
import reference as R

N, D = 16384, 16
MATRIX_MIB = N * N * 4 / 2**20
LIMIT_MIB = 64  # inputs and outputs are 4 x 0.75 MiB; temporaries O(n d)

SOURCES = {
    "dot": ("model m {\n  dims n, d = %d\n  input Q, K, V : f32[n, d]\n"
            "  query q = Q\n  keys k = K\n  values v = V\n"
            "  score e = scaled_dot(q, k)\n  mask causal\n"
            "  align a = softmax(e)\n  context c = sum(a * v)\n"
            "  output O = c\n}\n" % D),
    "additive": ("model m {\n  dims n, d = %d\n  input Q, K, V : f32[n, d]\n"
                 "  param W1, W2 : f32[d, d]\n  param b, w : f32[d]\n"
                 "  query q = Q\n  keys k = K\n  values v = V\n"
                 "  score e = additive(q, k; W1, W2, b, w)\n"
                 "  align a = softmax(e)\n  context c = sum(a * v)\n"
                 "  output O = c\n}\n" % D),
    "program": ("block att(q, F) {\n  keys k = F\n  values v = F\n"
                "  score e = scaled_dot(q, k)\n  mask causal\n"
                "  align a = softmax(e)\n  context c = sum(a * v)\n}\n"
                "model m {\n  dims n, d = %d\n  input Q, K, V : f32[n, d]\n"
                "  let h = layer_norm(Q + att(Q, K))\n"
                "  output O = att(h, V)\n}\n" % D),
}


def max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(kind, extra_args):
    rng = random.Random(5)
    lib = T.compile(SOURCES[kind], extra_args)
    model = lib.model("m")
    sig = model.signature()
    data, tensors = {}, []
    for arg in sig["args"]:
        shape = [N if s == "n" else s for s in arg["shape"]]
        count = T.prod(shape)
        if arg["role"] == "output":
            tensors.append(T.Tensor(None, shape,
                                    buffer=array.array("f", bytes(4 * count))))
            continue
        values = array.array("f", (rng.uniform(-1, 1) for _ in range(count)))
        data[arg["name"]] = values
        tensors.append(T.Tensor(None, shape, buffer=values))
    before = max_rss_mib()
    rc = model.call(tensors)
    grown = max_rss_mib() - before
    assert rc == 0, model.last_error()
    print("%s %s: peak memory grew by %.1f MiB (scores matrix: %.0f MiB)" % (
        kind, " ".join(extra_args) or "(default)", grown, MATRIX_MIB))
    assert grown < LIMIT_MIB, "memory grew by %.1f MiB" % grown

    out = tensors[-1].buf
    if kind == "program":
        assert all(abs(x) < 1e6 for x in out[:D]), "non-finite output"
        return
    # A few rows against the reference.
    rows = lambda name: [list(map(float, data[name][r * D:(r + 1) * D]))
                         for r in range(N)]
    Q, K, V = rows("Q"), rows("K"), rows("V")
    if kind == "dot":
        score = R.score_scaled_dot
    else:
        W1 = [list(map(float, data["W1"][r * D:(r + 1) * D])) for r in range(D)]
        W2 = [list(map(float, data["W2"][r * D:(r + 1) * D])) for r in range(D)]
        b, w = list(map(float, data["b"])), list(map(float, data["w"]))
        # W2 k for every key once (the reference's own shortcut, exact).
        W2K = [R.matvec(W2, k) for k in K]
        index = {id(k): i for i, k in enumerate(K)}
        def score(q, k, W1q={}):
            key = id(q)
            if key not in W1q:
                W1q[key] = R.matvec(W1, q)
            h = [x + y + z for x, y, z in zip(W1q[key], W2K[index[id(k)]], b)]
            return sum(wi * R.activation("tanh", hi) for wi, hi in zip(w, h))
    for i in (0, 1, N // 2, N - 1):
        keys = K[:i + 1] if kind == "dot" else K
        e = [score(Q[i], k) for k in keys]
        a = R.softmax(e)
        ref = [sum(a[l] * keys_v[c] for l, keys_v in enumerate(V[:len(keys)]))
               for c in range(D)]
        got = list(out[i * D:(i + 1) * D])
        msg = T.compare("O[%d]" % i, got, ref)
        assert not msg, msg


run("dot", ())
run("dot", ("--vectorize=false",))
run("additive", ())
run("program", ())
print("memory: ok")
