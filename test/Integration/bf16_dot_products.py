# REQUIRES: avx512bf16
# RUN: %python %s
# attnc --dot-precision=bf16, and its default --dot-precision=auto for a bf16
# model (every float input and param bf16): the blocked dot kernel multiplies
# bf16-rounded queries and keys (Q.K^T) and probabilities and values (P.V)
# with vdpbf16ps (whole tiles on the AMX tile unit where the host has one),
# accumulating in f32. The bf16 models are compiled without the flag where
# the default picks bf16 dots (AMD Zen, AMX hosts:
# test/Driver/dot-precision-auto.test checks that it does), with it
# elsewhere; the f32 ones with it (and with --amx=false on AMX hosts). Checked against the float64 reference on
# awkward sizes (n = 1, primes, odd key counts: the last pair of keys padded;
# odd d: the last pair of elements padded), masks, heads, bf16 and f32
# arguments, and the transformer example.
#
# Tolerance, added to attnc_testlib's (f32 and output rounding): with bf16
# arguments Q and K are exact in bf16, so the scores are f32-accurate; each
# probability is rounded (relative 2^-9), which moves an output by at most
# 2^-9 max|v| (the weights sum to 1): atol = 2^-8 max|V|. With f32
# arguments the rounding of q and k (2^-9 each) also perturbs the scores by
# about 2^-8 sum_c |q_c k_c| / sqrt(d) ~ 0.01 for our data, and the output by
# that times max|v|: atol = 2^-6 max|V|. max|V| is 1 here (values uniform in
# [-1, 1)).

import os
import re

import attnc_testlib as T

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "examples")
FLAGS = ("--dot-precision=bf16",)
# The default gives bf16 models bf16 dots where they are the faster
# (attnc --version says); elsewhere they take the flag too, so that the
# bf16 kernel is what this test checks on every host with AVX512-BF16.
DEFAULT = () if "gives bf16 models bf16 dot" in T.attnc_version() else FLAGS
# On a host with AMX-BF16 the flag puts whole tiles on the tile unit
# (test/Integration/amx_tiles.py); the f32 models are also compiled with
# --amx=false there, so that vdpbf16ps is checked on every shape too.
F32_FLAGS = [FLAGS] + ([FLAGS + ("--amx=false",)]
                       if "AMX-BF16: yes" in T.attnc_version() else [])
checker = T.Checker()


SIZES = [(1, 1), (5, 7), (3, 17), (33, 67), (131, 130), (64, 64), (2, 0)]
for dtype, atol in (("bf16", 2.0 ** -8), ("f32", 2.0 ** -6)):
    for d, dv in ((64, 64), (7, 32), (128, 16)):
        for heads in (False, True):
            for causal in (False, True):
                name = "m_%s_%d_%d_%d%d" % (dtype, d, dv, heads, causal)
                src, spec = T.dot_model(name, dtype, d, dv, heads, causal)
                for i, (nq, nk) in enumerate(SIZES):
                    if causal and nq != nk:
                        continue
                    dims = {"b": 2, "n_q": nq, "n_k": nk}
                    if heads:
                        dims["h"] = 3
                    for flags in ([DEFAULT] if dtype == "bf16"
                                  else F32_FLAGS):
                        checker.case(src, name, spec, dims, seed=i,
                                     flags=flags, atol=atol,
                                     label="%s d=%d dv=%d" % (dtype, d, dv))

# The transformer example with bf16 arguments: its projections are f32,
# rounded to bf16 for the dot products (hence the f32 arguments' bound).
with open(os.path.join(EXAMPLES, "transformer.attn")) as f:
    src = re.sub(r"^(\s*(?:input|param)\b[^:\n]*:\s*)f32\[", r"\g<1>bf16[",
                 f.read(), flags=re.M)
spec = {"batch": 1, "heads": 4, "inputs": ["X"], "query": ("X", "Wq", None),
        "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
        "score": ("scaled_dot", [], None), "causal": True,
        "outputs": [("Y", "linear", "Wo", None, None, False)]}
for i, dims in enumerate([{"b": 1, "n": 1}, {"b": 2, "n": 66},
                          {"b": 1, "n": 131}]):
    checker.case(src, "transformer", spec, dims, seed=40 + i, flags=DEFAULT,
                 atol=2.0 ** -6, scale={"Wq": 0.3, "Wk": 0.3, "Wv": 0.3,
                                        "Wo": 0.3},
                 label="examples/transformer.attn bf16")
# Every score function and the masks in a bf16 model with the default: the
# dot-kernel scores (dot, scaled_dot, general and biased_general after their
# decomposition, cosine) take bf16 dots, the others stay f32. The queries of
# general and biased_general are computed (W q) in f32 and rounded, hence
# the f32 arguments' bound.
SCORES = [("additive", "tanh"), ("dot", None), ("scaled_dot", None),
          ("general", None), ("biased_general", None),
          ("activated_general", "relu"), ("cosine", None),
          ("neg_sq_euclidean", None)]
for kind, act in SCORES:
    name = "score_%s" % kind
    src, spec = T.score_model(name, kind, act, d=19, d_q=5, d_w=6)
    src = re.sub(r"^(\s*(?:input|param)\b[^:\n]*:\s*)f32\[", r"\g<1>bf16[",
                 src, flags=re.M)
    for i, dims in enumerate([{"n_q": 1, "n_k": 1, "b": 1},
                              {"n_q": 5, "n_k": 67, "b": 1},
                              {"n_q": 2, "n_k": 131, "b": 2},
                              {"n_q": 4, "n_k": 0, "b": 1}]):
        checker.case(src, name, spec, dims, seed=60 + i, flags=DEFAULT,
                     atol=2.0 ** -6, scale={"W": 0.5, "W1": 0.5, "W2": 0.5},
                     label="bf16 model, %s" % kind)
for causal, lengths, single in ((True, False, False), (False, True, False),
                                (True, True, False), (False, True, True)):
    name = "masks_%d%d%d" % (causal, lengths, single)
    src, spec = T.score_model(name, "scaled_dot", None, causal=causal,
                              lengths=lengths, single_query=single, d=16)
    src = re.sub(r"^(\s*(?:input|param)\b[^:\n]*:\s*)f32\[", r"\g<1>bf16[",
                 src, flags=re.M)
    sizes = ([{"n_k": 1, "b": 1}, {"n_k": 130, "b": 3}] if single else
             [{"n_q": 1, "n_k": 1, "b": 1}, {"n_q": 66, "n_k": 66, "b": 2}])
    for i, dims in enumerate(sizes):
        checker.case(src, name, spec, dims, seed=80 + i, flags=DEFAULT,
                     atol=2.0 ** -8, overrides={"L": T.lengths_override},
                     label="bf16 model, masks")
checker.finish()
