# RUN: %python %s
# attnc_M_signature() is valid JSON (Python's json module) listing the
# arguments in ABI order (inputs and params in declaration order, then the
# outputs in declaration order) with role, dtype and shape (static sizes as
# integers, dynamic ones as their names; static products like h * d_k folded);
# each model of a file has its own entry points.

import json

import attnc_testlib as T

SOURCE = """
model first {
  dims n, m, d = 4, d_y = 3
  batch b
  input  Xkeys : f32[b, n, d]
  param  Wout : f32[d_y, d]
  input  Xvals : f32[b, n, d]
  input  Squery : f32[b, m, d]
  input  Lens : i32[b]
  param  bout : f32[d_y]
  query Q = Squery
  keys K = Xkeys
  values V = Xvals
  score e = dot(Q, K)
  mask lengths(Lens)
  align a = softmax(e)
  context c = sum(a * V)
  output Aweights = a
  output yout = Wout c + bout
}

model second {
  dims  n, d = 6, h = 2, d_k = 3
  batch b = 2
  input X  : f32[b, n, d]
  param Wq, Wk, Wv : f32[h, d_k, d]
  param Wo : f32[d, h * d_k]
  param Wg : f32[h, d_k, d_k]
  param ba : f32[]
  heads h {
    query   Q = Wq X
    keys    K = Wk X
    values  V = Wv X
    score   e = activated_general(Q, K; Wg, ba, act = tanh)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output Y = Wo concat(c)
  output C = concat(c)
  output A = a
}
"""

EXPECTED = {
    "first": [
        ("Xkeys", "input", "f32", ["b", "n", 4]),
        ("Wout", "param", "f32", [3, 4]),
        ("Xvals", "input", "f32", ["b", "n", 4]),
        ("Squery", "input", "f32", ["b", "m", 4]),
        ("Lens", "input", "i32", ["b"]),
        ("bout", "param", "f32", [3]),
        ("Aweights", "output", "f32", ["b", "m", "n"]),
        ("yout", "output", "f32", ["b", "m", 3]),
    ],
    "second": [
        ("X", "input", "f32", [2, "n", 6]),
        ("Wq", "param", "f32", [2, 3, 6]),
        ("Wk", "param", "f32", [2, 3, 6]),
        ("Wv", "param", "f32", [2, 3, 6]),
        ("Wo", "param", "f32", [6, 6]),
        ("Wg", "param", "f32", [2, 3, 3]),
        ("ba", "param", "f32", []),
        ("Y", "output", "f32", [2, "n", 6]),
        ("C", "output", "f32", [2, "n", 6]),
        ("A", "output", "f32", [2, 2, "n", "n"]),
    ],
}

checker = T.Checker()
lib = T.compile(SOURCE)
for name, expected in EXPECTED.items():
    m = lib.model(name)
    text = m.signature_text()
    try:
        sig = json.loads(text)
    except ValueError as e:
        checker.check(False, "%s: signature is not JSON (%s): %r" % (name, e, text))
        continue
    checker.check(sig.get("name") == name, "%s: name field %r" % (name, sig.get("name")))
    args = sig.get("args", [])
    got = [(a.get("name"), a.get("role"), a.get("dtype"), a.get("shape")) for a in args]
    checker.check(len(got) == len(expected),
                  "%s: %d args in the signature, expected %d: %r" % (
                      name, len(got), len(expected), got))
    for g, e in zip(got, expected):
        checker.check(g == tuple(e), "%s: signature arg %r, expected %r" % (name, g, e))
    # The signature does not change between calls.
    checker.check(m.signature_text() == text, "%s: signature text changes" % name)

# A valid call of `second` (static batch 2) gives the reference values.
spec = {"batch": 1, "heads": 2, "inputs": ["X"], "query": ("X", "Wq", None),
        "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
        "score": ("activated_general", ["Wg", "ba"], "tanh"),
        "outputs": [("Y", "linear", "Wo", None, None, False), ("C", "c"),
                    ("A", "a")]}
checker.case(SOURCE, "second", spec, {"n": 7}, seed=3)
checker.finish()
