# RUN: %python %s
# --backend-parts: LLVM optimizes and compiles a library's module in parts,
# side by side (compiler/lib/Codegen/PartitionedBackend.cpp). The parts hold
# the same functions LLVM would compile in one module, so a library built
# in one part and one built in 2, 3 or 64 (more than there are functions)
# compute bitwise the same outputs, on the shipped examples (one model
# each: the Transformer's projections, parallel regions and causal mask,
# Bahdanau's additive score and weights, 1.5-entmax) and on a file of two
# models. The default (as many parts as cores, at most 4) is what every
# other numerics suite runs against the float64 reference; examples.py's
# RUN line here checks one part against it as well.
# RUN: env ATTNC_TEST_FLAGS=--backend-parts=1 %python %attnc_src/test/Integration/examples.py

import os
import struct

import attnc_testlib as T

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "examples")

TWO_MODELS = """
model first {
  dims  n, d = 24
  batch b
  input Q, K, V : f32[b, n, d]
  query   q = Q
  keys    k = K
  values  v = V
  score   e = scaled_dot(q, k)
  align   a = softmax(e)
  context c = sum(a * v)
  output  O = c
}
model second {
  dims  n, d = 40
  batch b
  input X : f32[b, n, d]
  param Wq, Wk : f32[d, d]
  query   q = Wq X
  keys    k = Wk X
  values  v = X
  score   e = dot(q, k)
  mask    causal
  align   a = softmax(e)
  context c = sum(a * v)
  output  O = c
  output  A = a
}
"""

CASES = [
    ("transformer", "transformer", {"b": 2, "n": 37}),
    ("bahdanau", "bahdanau", {"b": 3, "n_f": 29}),
    ("sparsemax", "sparsemax", {"b": 1, "n": 45}),
    (None, "first", {"b": 2, "n": 19}),
    (None, "second", {"b": 1, "n": 53}),
]


def outputs(source, model_name, dims, parts):
    """The outputs' bytes of `model_name` compiled with --backend-parts=parts,
    on the same random inputs every time."""
    lib = T.compile(source, ["--backend-parts=%d" % parts])
    model = lib.model(model_name)
    sig = model.signature()
    data = T.random_tensors(sig, dims, seed=5, scale={
        name: 0.3 for name in ("W", "Wq", "Wk", "Wv", "Wo", "W1", "W2", "Wc")})
    tensors, outs = [], []
    for arg in sig["args"]:
        dtype = T.DTYPES[arg["dtype"]]
        shape = T.resolve(arg["shape"], dims)
        if arg["role"] == "output":
            tensor = T.Tensor.full(shape, T.SENTINEL, dtype)
            outs.append(tensor)
        else:
            tensor = T.Tensor(data[arg["name"]][1], shape, dtype)
        tensors.append(tensor)
    status = model.call(tensors)
    if status != 0:
        raise SystemExit("FAIL: %s with %d parts returned %d: %s" % (
            model_name, parts, status, model.last_error()))
    return [struct.pack("%df" % len(t.values()), *t.values()) for t in outs]


failures = 0
for example, model_name, dims in CASES:
    if example:
        with open(os.path.join(EXAMPLES, example + ".attn")) as f:
            source = f.read()
    else:
        source = TWO_MODELS
    whole = outputs(source, model_name, dims, 1)
    for parts in (2, 3, 64):
        split = outputs(source, model_name, dims, parts)
        same = split == whole
        print("%-12s %d parts: %s" % (model_name, parts,
                                      "bitwise the same as one part" if same
                                      else "DIFFERENT from one part"))
        failures += not same
if failures:
    raise SystemExit("FAIL: %d libraries differ from the one-part build" %
                     failures)
print("ok")
