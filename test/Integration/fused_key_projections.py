# RUN: %python %s
# -attn-fuse-key-projections: an additive score's keys are projected a key
# tile (128 keys) at a time inside the key loop, into a scratch the update
# reads (key_row), instead of all of them before the parallel loop. Each
# model is checked to be fused (the IR after the pass has key_row) and
# against the float64 reference: d_w as whole vectors (32, 128: the
# blocked projection's chunks) and not (5, 40), a single query and
# several, causal and lengths masks (the rows a tile projects stop at the
# batch entry's length), key counts around the tile (1, 2, 127, 128, 129,
# 257, 300) and a batch of 1 and of 3; several heads with a per-head W2
# and a shared one. Models that also return the
# weights are fused too: the updates store their scores in the weights,
# which attn.tile_weights normalizes without keys (scores_stored).

import subprocess

import attnc_testlib as T

checker = T.Checker()


def fused(source):
    """Whether attnc fuses the key projection of `source`."""
    path = T._workdir() + "/fused_probe.attn"
    with open(path, "w") as f:
        f.write(source)
    proc = subprocess.run([T.find_attnc(), path, "--emit=loops", "-o",
                           "/dev/null",
                           "--print-ir-after=attn-fuse-key-projections"],
                          env=T.tool_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    checker.check(proc.returncode == 0, "attnc --emit=loops failed: %s"
                  % proc.stderr[-2000:])
    return "key_row(" in proc.stderr


models = []
for d, d_w in ((17, 5), (64, 32), (40, 40), (256, 128)):
    for mname, causal, lengths, single in (("none", False, False, True),
                                           ("lengths", False, True, True),
                                           ("causal", True, False, False),
                                           ("lengths_q", False, True, False)):
        for act in ("tanh", "relu"):
            if act == "relu" and mname != "none":
                continue
            name = "fk_d%d_w%d_%s_%s" % (d, d_w, mname, act)
            src, spec = T.score_model(name, "additive", act=act,
                                      causal=causal, lengths=lengths,
                                      single_query=single, d=d, d_q=9,
                                      d_w=d_w, weights=False)
            checker.check(fused(src), "%s: the key projection is not fused"
                          % name)
            models.append((name, src, spec))

# With the weights output: one query and several, masks, d_w not whole
# vectors.
for d, d_w, mname, causal, lengths, single in (
        (64, 32, "lengths", False, True, True),
        (256, 128, "none", False, False, True),
        (17, 5, "causal", True, False, False),
        (40, 40, "lengths_q", False, True, False)):
    name = "fk_weights_d%d_w%d_%s" % (d, d_w, mname)
    src, spec = T.score_model(name, "additive", act="tanh", causal=causal,
                              lengths=lengths, single_query=single, d=d,
                              d_q=9, d_w=d_w, weights=True)
    checker.check(fused(src), "%s: the key projection is not fused" % name)
    models.append((name, src, spec))

# Several heads: W2 per head ([h, d_w, d_k], packed whole before the
# parallel loop, each tile projected with its head's panels) and shared,
# with per-head bias, over per-head keys (Wk X), causal and lengths, with
# the weights output.
for w2, bw, name in (("h, d_w, d_k", "h, d_w", "fk_heads_w2"),
                     ("d_w, d_k", "d_w", "fk_heads_shared")):
    src = """
model %s {
  dims  n_k, n_q, d = 24, h = 3, d_k = 16, d_w = 32
  batch b
  input X : f32[b, n_k, d]
  input S : f32[b, n_q, d]
  input L : i32[b]
  param Wq, Wk, Wv : f32[h, d_k, d]
  param W1 : f32[h, d_w, d_k]
  param W2 : f32[%s]
  param bw : f32[%s]
  param w : f32[h, d_w]
  heads h {
    query   Q = Wq S
    keys    K = Wk X
    values  V = Wv X
    score   e = additive(Q, K; W1, W2, bw, w, act = tanh)
    mask    causal, lengths(L)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
  output A = a
}
""" % (name, w2, bw)
    spec = {"batch": 1, "heads": 3, "inputs": ["X", "S", "L"],
            "query": ("S", "Wq", None), "keys": ("X", "Wk", None),
            "values": ("X", "Wv", None),
            "score": ("additive", ["W1", "W2", "bw", "w"], "tanh"),
            "causal": True, "lengths": "L",
            "outputs": [("C", "c"), ("A", "a")]}
    checker.check(fused(src), "%s: the key projection is not fused" % name)
    models.append((name, src, spec))

# (n_q, n_k, b); n_q is ignored by the single-query models.
SIZES = [(1, 1, 1), (2, 2, 3), (3, 127, 1), (1, 128, 2), (5, 129, 1),
         (2, 257, 3), (4, 300, 1)]


def sizes(name):
    return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in SIZES]


T.run_models(checker, models, sizes, seed=83,
             overrides={"L": T.lengths_override})
checker.finish()
