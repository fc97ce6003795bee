# RUN: %python %s
# bf16 and f16 arguments: inputs and params are widened to f32 on entry, the
# model computes in f32, outputs are rounded to their declared type
# (`output y : bf16 = c`). Every score function, the masks, the weights as an
# output, the shipped examples and mixed f32/bf16/f16 signatures, compared
# with the double-precision reference on the values the 16-bit arguments
# really hold, within the tolerance of attnc_testlib (f32's, plus the output
# type's rounding). Every case is compiled with --dot-precision=f32: the
# f32 products that a bf16 model gets on a CPU without AVX512-BF16 (with it,
# --dot-precision=auto rounds the dot kernel's operands to bf16;
# bf16_dot_products.py checks that default).

import os
import re

import attnc_testlib as T

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "examples")


def retype(source, args=None, outputs=None):
    """`source` with its f32 inputs and params declared `args` and its
    outputs declared `outputs` (None: unchanged)."""
    if args:
        source = re.sub(r"^(\s*(?:input|param)\b[^:\n]*:\s*)f32\[",
                        r"\g<1>%s[" % args, source, flags=re.M)
    if outputs:
        source = re.sub(r"^(\s*output\s+\w+)\s*=", r"\1 : %s =" % outputs,
                        source, flags=re.M)
        source = re.sub(r"^(\s*output\s+\w+\s*:\s*)f32\[",
                        r"\g<1>%s[" % outputs, source, flags=re.M)
    return source


checker = T.Checker()
F32_DOTS = ("--dot-precision=f32",)

# Every score function, its weights output too, in bf16 and in f16.
SCORES = [("additive", "tanh"), ("dot", None), ("scaled_dot", None),
          ("general", None), ("biased_general", None),
          ("activated_general", "relu"), ("cosine", None),
          ("neg_sq_euclidean", None)]
SIZES = [{"n_q": 1, "n_k": 1, "b": 1}, {"n_q": 3, "n_k": 7, "b": 3},
         {"n_q": 5, "n_k": 67, "b": 1}, {"n_q": 2, "n_k": 131, "b": 2},
         {"n_q": 4, "n_k": 0, "b": 1}]
for dtype in ("bf16", "f16"):
    for kind, act in SCORES:
        name = "%s_%s" % (kind, dtype)
        src, spec = T.score_model(name, kind, act, d=19, d_q=5, d_w=6)
        src = retype(src, dtype, dtype)
        for i, dims in enumerate(SIZES):
            checker.case(src, name, spec, dims, flags=F32_DOTS, seed=10 + i,
                         scale={"W": 0.5, "W1": 0.5, "W2": 0.5},
                         label="%s %s" % (dtype, kind))

# Masks: causal and lengths (i32 lengths stay i32), a single query.
for dtype in ("bf16", "f16"):
    for causal, lengths, single in ((True, False, False), (False, True, False),
                                    (True, True, False), (False, True, True)):
        name = "masks_%s_%d%d%d" % (dtype, causal, lengths, single)
        src, spec = T.score_model(name, "scaled_dot", None, causal=causal,
                                  lengths=lengths, single_query=single, d=16)
        src = retype(src, dtype, dtype)
        sizes = ([{"n_k": 1, "b": 1}, {"n_k": 17, "b": 7}, {"n_k": 130, "b": 3}]
                 if single else
                 [{"n_q": 1, "n_k": 1, "b": 1}, {"n_q": 9, "n_k": 9, "b": 7},
                  {"n_q": 66, "n_k": 66, "b": 2}])
        for i, dims in enumerate(sizes):
            checker.case(src, name, spec, dims, flags=F32_DOTS, seed=30 + i,
                         overrides={"L": T.lengths_override},
                         label="%s masks" % dtype)

# Mixed signatures: f32 in and bf16 out, bf16 in and f32 out, f16 in and
# bf16 out (the weights stay f32).
for args, outs in ((None, "bf16"), ("bf16", None), ("f16", "bf16")):
    name = "mixed_%s_%s" % (args or "f32", outs or "f32")
    src, spec = T.score_model(name, "general", None, d=33, d_q=7)
    src = retype(src, args, None)
    if outs:
        src = src.replace("output y =", "output y : %s =" % outs)
    for i, dims in enumerate([{"n_q": 3, "n_k": 5, "b": 2},
                              {"n_q": 17, "n_k": 64, "b": 1}]):
        checker.case(src, name, spec, dims, flags=F32_DOTS, seed=50 + i,
                     label="mixed %s -> %s" % (args, outs))

# The shipped examples in bf16 and f16 (their specs are examples.py's).
SPECS = {
    "bahdanau": ({
        "batch": 1, "inputs": ["X", "s"], "feature": ("X", None, None),
        "query": ("s", None, None), "keys": ("F", None, None),
        "values": ("F", None, None),
        "score": ("additive", ["W1", "W2", "bw", "w"], "tanh"),
        "outputs": [("y", "linear", "Wc", "bc", None, True), ("weights", "a")]},
        [{"b": 1, "n_f": 1}, {"b": 2, "n_f": 67}]),
    "transformer": ({
        "batch": 1, "heads": 4, "inputs": ["X"], "query": ("X", "Wq", None),
        "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
        "score": ("scaled_dot", [], None), "causal": True,
        "outputs": [("Y", "linear", "Wo", None, None, False)]},
        [{"b": 1, "n": 1}, {"b": 2, "n": 66}]),
    "sparsemax": ({
        "batch": 1, "inputs": ["X"], "query": ("X", "Wq", None),
        "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
        "score": ("scaled_dot", [], None), "causal": True,
        "align": "entmax15", "outputs": [("y", "c"), ("weights", "a")]},
        [{"b": 1, "n": 7}, {"b": 1, "n": 66}]),
}
for dtype in ("bf16", "f16"):
    for name, (spec, sizes) in SPECS.items():
        with open(os.path.join(EXAMPLES, name + ".attn")) as f:
            src = retype(f.read(), dtype, dtype)
        for i, dims in enumerate(sizes):
            checker.run(T.run_case, src, name, spec, dims, seed=70 + i,
                        flags=F32_DOTS,
                        scale={"Wq": 0.3, "Wk": 0.3, "Wv": 0.3, "Wo": 0.3,
                               "W1": 0.3, "W2": 0.3, "Wc": 0.3},
                        label="%s examples/%s.attn" % (dtype, name))

checker.finish()
