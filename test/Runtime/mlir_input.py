# RUN: %python %s
# attnc compiles the attn dialect (a .mlir file, as --emit=attn prints it)
# like the .attn file it came from: for each example (and a file with two
# models), the library built from `attnc x.attn --emit=attn -o x.mlir` then
# `attnc x.mlir` has the same signatures, header and entry points as the one
# built from x.attn, and gives bit-identical outputs on the same random data.
# The printed attn module also reads back to itself.

import os
import subprocess
import tempfile

import attnc_testlib as T

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..")
CASES = {
    os.path.join(SRC, "examples", "luong.attn"): {"b": 3, "n": 17},
    os.path.join(SRC, "examples", "bahdanau.attn"): {"b": 2, "n_f": 13},
    os.path.join(SRC, "examples", "transformer.attn"): {"b": 2, "n": 9},
    os.path.join(HERE, "..", "Driver", "Inputs", "two-models.attn"):
        {"b": 2, "n": 7, "m": 5},
}

checker = T.Checker()
attnc = T.find_attnc()
work = tempfile.mkdtemp(prefix="attnc-mlir-input-")


def run(*args):
    proc = subprocess.run([attnc] + list(args), env=T.tool_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    checker.check(proc.returncode == 0, "attnc %s failed:\n%s" % (
        " ".join(args), proc.stderr))
    return proc.stdout


def load(path):
    import ctypes
    return T.Library(ctypes.CDLL(path), path, "")


def models_of(lib_path):
    out = subprocess.run(["nm", "-D", "--defined-only", lib_path],
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    return sorted(line.split()[-1][len("attnc_"):-len("_signature")]
                  for line in out.splitlines()
                  if line.endswith("_signature"))


for src, dims in CASES.items():
    stem = os.path.splitext(os.path.basename(src))[0]
    d = os.path.join(work, stem)
    os.makedirs(d)
    mlir = os.path.join(d, stem + ".mlir")
    lib_attn = os.path.join(d, "lib%s_attn.so" % stem)
    lib_mlir = os.path.join(d, "lib%s_mlir.so" % stem)
    # With the locations: they carry the .attn positions and the names the
    # IR prints values under (`%c = attn.attention`), both of which must
    # survive the round trip.
    run(src, "--emit=attn", "--mlir-print-debuginfo", "-o", mlir)
    run(src, "-o", lib_attn)
    run(mlir, "-o", lib_mlir)
    checker.check(run(mlir, "--emit=attn", "--mlir-print-debuginfo") ==
                  open(mlir).read(),
                  "%s: the attn module does not print back to itself" % stem)
    checker.check(run(src, "--emit=header", "-o", "-") ==
                  run(mlir, "--emit=header", "-o", "-"),
                  "%s: the headers differ" % stem)
    if not (os.path.exists(lib_attn) and os.path.exists(lib_mlir)):
        continue
    names = models_of(lib_attn)
    checker.check(names and names == models_of(lib_mlir),
                  "%s: models %s vs %s" % (stem, names, models_of(lib_mlir)))
    la, lm = load(lib_attn), load(lib_mlir)
    for name in names:
        ma, mm = la.model(name), lm.model(name)
        checker.check(ma.signature_text() == mm.signature_text(),
                      "%s: signatures differ:\n%s\n%s" % (
                          name, ma.signature_text(), mm.signature_text()))
        sig = ma.signature()
        data = T.random_tensors(sig, dims, seed=7)
        results = []
        for m in (ma, mm):
            ts = []
            for a in sig["args"]:
                shape = T.resolve(a["shape"], dims)
                if a["role"] == "output":
                    ts.append(T.Tensor.full(shape, T.SENTINEL))
                else:
                    ts.append(T.Tensor(data[a["name"]][1], shape,
                                       T.DTYPES[a["dtype"]]))
            rc = m.call(ts)
            checker.check(rc == 0, "%s: status %d: %s" % (name, rc,
                                                           m.last_error()))
            results.append([t.values() for t, a in zip(ts, sig["args"])
                            if a["role"] == "output"])
        checker.check(results[0] == results[1],
                      "%s: outputs of the .mlir library differ from the "
                      ".attn one" % name)
        checker.check(all(v != T.SENTINEL for out in results[0] for v in out),
                      "%s: an output was not written" % name)

import shutil
shutil.rmtree(work, True)
checker.finish()
