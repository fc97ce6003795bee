# REQUIRES: amx-bf16
# RUN: %python %s
# The blocked kernel's bf16 products on the AMX tile unit (attnc
# --dot-precision=bf16 on a host with AMX-BF16; BlockedAMX.cpp) against the
# float64 reference: Q.K^T per panel of 16 keys summed over D in chunks of
# 32, P.V per 16 value columns summed over the key tile in chunks of 32.
# What the tile code has to get right, and the sizes that reach it:
#  - the query tile past n_q (n_q = 9, 17, 41: the queries are padded with
#    copies of the last row, whose results the tile also stores);
#  - the chunk of 32 keys that the tile's visible keys end inside (n_k = 31,
#    33, 97, 129, 300 and causal masks: it reads a copy holding the visible
#    keys only) and the chunks after it (zero pairs);
#  - D of 1 to 8 chunks (32 .. 256: 256 reloads the query tiles per panel)
#    and Dv of 1 to 8 tiles of 16 columns;
#  - key tiles of 32, 128 (the default) and 512 (16 chunks: the probability
#    tiles reloaded per value tile);
#  - heads, batches, causal and lengths masks; f32 and bf16 arguments;
#  - query groups of 1 and 3 tiles besides the default, and -O0.
# Every configuration's IR is checked to contain amx.tile_mulf, so that a
# silent fallback to the vector kernel would fail here.
#
# Values past a batch entry's length are NaN in one run and 0 in another:
# the outputs must be bitwise the same (a masked key's value is never read,
# not even times a probability of 0).
#
# Tolerance, added to attnc_testlib's: as test/Integration/
# bf16_dot_products.py states, 2^-8 max|V| with bf16 arguments and 2^-6
# max|V| with f32 ones (their rounding to bf16 perturbs the scores).

import math
import subprocess

import attnc_testlib as T

checker = T.Checker()
BF16 = ("--dot-precision=bf16",)


def uses_amx(source, flags):
    """Whether attnc puts the model's products on the tile unit."""
    proc = subprocess.run([T.find_attnc(), "-", "--emit=loops", "-o", "-"]
                          + list(flags), input=source, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    return proc.returncode == 0 and "amx.tile_mulf" in proc.stdout


def check_config(dtype, d, dv, tile, sizes, causal=False, lengths=False,
                 extra=()):
    name = "m_%s_%d_%d_%d_%d%d" % (dtype, d, dv, tile, causal, lengths)
    src, spec = T.dot_model(name, dtype, d, dv, True, causal, lengths)
    flags = BF16 + (("--tile-size=%d" % tile,) if tile else ()) + extra
    checker.check(uses_amx(src, flags),
                  "%s %s: no amx.tile_mulf in the kernel" % (name, flags))
    atol = 2.0 ** -8 if dtype == "bf16" else 2.0 ** -6
    for i, (h, nq, nk) in enumerate(sizes):
        if causal and nq != nk:
            continue
        dims = {"b": 2, "h": h, "n_q": nq, "n_k": nk}
        checker.case(src, name, spec, dims, seed=i,
                     flags=flags, atol=atol,
                     overrides={"L": T.lengths_override} if lengths else None,
                     label="amx %s d=%d dv=%d tile=%s %s" % (
                         dtype, d, dv, tile or "default", " ".join(extra)))


SIZES = [(1, 9, 33), (2, 17, 97), (1, 8, 31), (1, 41, 129), (3, 16, 64),
         (1, 2, 300), (1, 33, 33), (1, 5, 0)]
check_config("f32", 64, 64, 0, SIZES)
check_config("bf16", 128, 128, 0, SIZES[:4])
check_config("f32", 32, 16, 0, SIZES)
check_config("f32", 256, 48, 0, [(1, 9, 97), (1, 17, 33)])
check_config("f32", 64, 64, 32, [(1, 9, 97), (2, 17, 64)])
check_config("bf16", 64, 32, 512, [(1, 9, 600), (1, 17, 33)])
check_config("f32", 64, 64, 0, [(1, 33, 33), (2, 41, 41), (1, 130, 130)],
             causal=True)
check_config("f32", 64, 64, 0, [(1, 9, 97), (2, 17, 130)], lengths=True)
# Query groups of 1 and 3 tiles (the default is 8): with one, the key loop
# is the only loop around the kernel inside the parallel loop (the tile
# zeros once left it, up out of the parallel loop, and LLVM could not
# compile that).
GROUP1 = ("--query-tiles-per-group=1",)
check_config("f32", 64, 64, 0, [(1, 9, 33), (2, 41, 129), (1, 5, 0)],
             extra=GROUP1)
check_config("bf16", 32, 32, 0, [(1, 41, 97), (2, 33, 64)],
             extra=("--query-tiles-per-group=3",))
check_config("f32", 64, 64, 0, [(1, 41, 41)], causal=True, extra=GROUP1)
# -O0 (machine code of the tile ops at LLVM's -O1: its -O0 path crashed).
check_config("f32", 64, 64, 0, [(1, 9, 33), (2, 17, 130)], extra=("-O0",))


def nan_past_lengths(dtype, d, dv, b, h, nq, nk, lengths):
    """The outputs with values past each (batch, head)'s length NaN, then
    0."""
    src, _ = T.dot_model("nanv", dtype, d, dv, lengths=True)
    lib = T.compile(src, BF16)
    m = lib.model("nanv")
    dt = T.DTYPES[dtype]
    import random
    rng = random.Random(7)
    q = [rng.uniform(-1, 1) for _ in range(b * h * nq * d)]
    k = [rng.uniform(-1, 1) for _ in range(b * h * nk * d)]
    v = [rng.uniform(-1, 1) for _ in range(b * h * nk * dv)]
    outs = []
    for fill in (math.nan, 0.0):
        vv = list(v)
        for bi in range(b):
            for hi in range(h):
                for j in range(max(lengths[bi * h + hi], 0), nk):
                    base = ((bi * h + hi) * nk + j) * dv
                    vv[base:base + dv] = [fill] * dv
        y = T.Tensor.full([b, h, nq, dv], T.SENTINEL, dt)
        args = [T.Tensor(q, [b, h, nq, d], dt), T.Tensor(k, [b, h, nk, d], dt),
                T.Tensor(vv, [b, h, nk, dv], dt),
                T.Tensor(lengths, [b, h], T.ATTNC_I32), y]
        rc = m.call(args)
        checker.check(rc == 0, "nanv: rc %d: %s" % (rc, m.last_error()))
        outs.append(y.values())
    same = all(x == z for x, z in zip(*outs))
    bad = [i for i, x in enumerate(outs[0]) if x != x]
    checker.check(same and not bad,
                  "nanv %s d=%d dv=%d n_q=%d n_k=%d lengths=%s: NaN values "
                  "past the lengths changed the output (%d NaN elements)" % (
                      dtype, d, dv, nq, nk, lengths, len(bad)))


nan_past_lengths("f32", 64, 64, 3, 2, 17, 100, [37, 1, 64, 0, 99, 100])
nan_past_lengths("bf16", 32, 16, 2, 1, 9, 129, [100, 127])
checker.finish()
