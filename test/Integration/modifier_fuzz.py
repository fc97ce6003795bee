# RUN: %python %s
# Random score modifiers, mask predicates and weight factors (typed
# expression trees over the indices, dimensions, tensor elements with
# out-of-range subscripts, every operator and function; random alignments)
# compiled by attnc: each compiles or is refused with a located error
# (exit 1), never a crash; each compiled model runs on random data through
# attnc-run (segment ids far outside the tensors: subscripts are clamped)
# without a crash. A guard against crashes, not a numerical test (that is
# score_modifiers.py).

import os
import random
import subprocess
import sys
import tempfile

import attnc_testlib as T


def program(rng):
    """One random model (source text) with a score modifier, a mask
    predicate and an alignment, possibly with a weight factor."""
    def iexpr(d):
        r = rng.random()
        if d <= 0 or r < 0.35:
            return rng.choice(["i", "l", "h_", "0", "1", "3", "-2", "n", "seg[i]", "seg[l]", "seg[i + l]", "seg[-5]"])
        if r < 0.75:
            return "(" + iexpr(d-1) + " " + rng.choice(["+", "-", "*"]) + " " + iexpr(d-1) + ")"
        if r < 0.85:
            return "-" + iexpr(d-1)
        return rng.choice(["abs", "min", "max"]) + ("(" + iexpr(d-1) + ")" if rng.random() < 0.3 else "")  + ("" if rng.random() < 0.3 else "(" + iexpr(d-1) + ", " + iexpr(d-1) + ")")
    def fexpr(d):
        r = rng.random()
        if d <= 0 or r < 0.3:
            return rng.choice(["2.5", "slope[h_]", "p[i, 0]", "B[h_, i - l]", "T", iexpr(1)])
        if r < 0.7:
            return "(" + fexpr(d-1) + " " + rng.choice(["+", "-", "*", "/"]) + " " + fexpr(d-1) + ")"
        return rng.choice(["tanh", "exp", "sigmoid", "relu", "abs", "log", "sqrt"]) + "(" + fexpr(d-1) + ")"
    def bexpr(d):
        r = rng.random()
        if d <= 0 or r < 0.5:
            a = iexpr(2) if rng.random() < 0.7 else fexpr(2)
            b = iexpr(2) if rng.random() < 0.7 else fexpr(2)
            return "(" + a + " " + rng.choice(["<", "<=", ">", ">=", "==", "!="]) + " " + b + ")"
        if r < 0.85:
            return "(" + bexpr(d-1) + " " + rng.choice(["&&", "||"]) + " " + bexpr(d-1) + ")"
        return "!" + bexpr(d-1)
    score = rng.choice(["scaled_dot(q, K)", "scaled_dot(q, K) + " + fexpr(2), fexpr(1) + " * scaled_dot(q, K)", "30.0 * tanh(scaled_dot(q, K) / 30.0)"])
    mask = bexpr(3)
    align = rng.choice(["softmax(e)", "softmax(e) * " + fexpr(2), "sigmoid(e) * exp(-" + fexpr(1) + ")", "sparsemax(e)", "entmax15(e)", "argmax(e)"])
    return ("""model m {
      dims n, d = 8, h = 2, d_k = 4
      batch b
      input X : f32[b, n, d]
      input seg : i32[b, n]
      param slope : f32[h]
      param B : f32[h, 5]
      param T : f32[1]
      param Wq, Wk, Wv : f32[h, d_k, d]
      param Wp : f32[1, d]
      let p = Wp X
      heads h {
        query q = Wq X
        keys K = Wk X
        values V = Wv X
        score e[h_, i, l] = %s
        mask [h_, i, l]: %s
        align a%s = %s
        context c = sum(a * V)
      }
      output y = concat(c)
      output A = a
    }""" % (score, mask, "[h_, i, l]" if "*" in align else "", align))



def main():
    attnc = T.find_attnc()
    run = os.path.join(os.path.dirname(attnc), "attnc-run")
    work = tempfile.mkdtemp(prefix="attnc-modfuzz-")
    compiled = refused = 0
    failures = []
    for seed in range(40):
        source = program(random.Random(seed))
        path = os.path.join(work, "m%d.attn" % seed)
        lib = os.path.join(work, "libm%d.so" % seed)
        with open(path, "w") as f:
            f.write(source)
        p = subprocess.run([attnc, path, "-o", lib], env=T.tool_env(),
                           stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        if p.returncode == 1 and ": error: " in p.stderr:
            refused += 1
            continue
        if p.returncode != 0:
            failures.append("seed %d: attnc exited %d\n%s\n%s" % (
                seed, p.returncode, p.stderr[-2000:], source))
            continue
        compiled += 1
        r = subprocess.run([run, lib, "--model", "m", "--dim", "b=2",
                            "--dim", "n=37", "--seed", str(seed)],
                           env=T.tool_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if r.returncode != 0:
            failures.append("seed %d: the model exited %d\n%s\n%s" % (
                seed, r.returncode, r.stderr[-2000:], source))
    print("%d compiled and ran, %d refused with an error, %d failures" % (
        compiled, refused, len(failures)))
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if compiled < 10:
        failures.append("too few programs compiled (%d): the generator no "
                        "longer exercises the compiler" % compiled)
        print("FAIL: too few compiled", file=sys.stderr)
    sys.exit(1 if failures else 0)


main()
