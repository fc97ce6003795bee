# RUN: %python %s
# The C ABI refuses bad arguments: each bad call must return non-zero, leave a
# message in attnc_M_last_error() naming the problem, and write nothing (the
# outputs keep their sentinel, the inputs their values). A valid call returns
# 0, also after refused calls; last_error is per thread.

import ctypes
import sys
import threading

import attnc_testlib as T

# Distinctive argument names, so that a message naming the argument can be
# checked by substring. Params are interleaved with inputs: the ABI order is
# the declaration order of inputs and params, then the outputs.
SOURCE = """
model abi {
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
  output yout = Wout c + bout
  output Aweights = a
}
"""
SPEC = {"batch": 1, "inputs": ["Xkeys", "Xvals", "Squery", "Lens"],
        "query": ("Squery", None, None), "keys": ("Xkeys", None, None),
        "values": ("Xvals", None, None), "score": ("dot", [], None),
        "lengths": "Lens",
        "outputs": [("yout", "linear", "Wout", "bout", None, False),
                    ("Aweights", "a")]}
ORDER = ["Xkeys", "Wout", "Xvals", "Squery", "Lens", "bout", "yout", "Aweights"]
B, N, M, D, DY = 2, 5, 3, 4, 3
SHAPES = {"Xkeys": [B, N, D], "Wout": [DY, D], "Xvals": [B, N, D],
          "Squery": [B, M, D], "Lens": [B], "bout": [DY], "yout": [B, M, DY],
          "Aweights": [B, M, N]}

checker = T.Checker()
lib = T.compile(SOURCE)
model = lib.model("abi")


def fresh():
    """Valid tensors (outputs filled with the sentinel), by name."""
    ts = {}
    for i, name in enumerate(ORDER):
        shape = SHAPES[name]
        if name == "Lens":
            ts[name] = T.Tensor([N, 2][:B], shape, T.ATTNC_I32)
        elif name in ("yout", "Aweights"):
            ts[name] = T.Tensor.full(shape, T.SENTINEL)
        else:
            ts[name] = T.Tensor([0.1 * ((i * 7 + k) % 11) - 0.5
                                 for k in range(T.prod(shape))], shape)
    return ts


def snapshot(ts):
    return {k: list(t.buf) for k, t in ts.items()}


def expect_error(label, ts, all_of=(), any_of=(), nargs=None, null_args=False,
                 order=None):
    """Calls with the tensors `ts`; checks refusal, message, no writes."""
    before = snapshot(ts)
    args = [ts[k] for k in (order or ORDER)]
    rc = model.call(args, nargs=nargs, null_args=null_args)
    msg = model.last_error()
    checker.check(rc != 0, "%s: expected a non-zero status, got %d" % (label, rc))
    low = msg.lower()
    for s in all_of:
        checker.check(s.lower() in low,
                      "%s: last_error %r does not mention %r" % (label, msg, s))
    if any_of:
        checker.check(any(s.lower() in low for s in any_of),
                      "%s: last_error %r mentions none of %r" % (label, msg, any_of))
    after = snapshot(ts)
    for k in before:
        checker.check(before[k] == after[k],
                      "%s: argument %s was written by a refused call" % (label, k))


def valid_call(label):
    ts = fresh()
    rc = model.call([ts[k] for k in ORDER])
    checker.check(rc == 0, "%s: valid call returned %d: %s" % (
        label, rc, model.last_error()))
    checker.check(T.SENTINEL not in ts["yout"].values(),
                  "%s: valid call left yout unwritten" % label)


valid_call("initial valid call")

# Number of arguments.
expect_error("too few arguments", fresh(), all_of=["8", "7"], nargs=7)
ts = fresh()
ts["extra"] = T.Tensor.full([1], 0.0)
expect_error("too many arguments", ts, all_of=["8", "9"],
             order=ORDER + ["extra"])
expect_error("negative nargs", fresh(), nargs=-1)
expect_error("null args pointer", fresh(), any_of=["null"], null_args=True)

# Rank.
ts = fresh()
ts["Xkeys"] = T.Tensor([0.0] * (N * D), [N, D])
expect_error("rank of Xkeys 2 instead of 3", ts, all_of=["Xkeys", "rank"])
ts = fresh()
ts["Lens"] = T.Tensor([1, 1, 1, 1], [B, 2], T.ATTNC_I32)
expect_error("rank of Lens 2 instead of 1", ts, all_of=["Lens", "rank"])
ts = fresh()
ts["Xkeys"].desc.rank = 9
expect_error("rank 9 > ATTNC_MAX_RANK", ts, all_of=["Xkeys", "rank"])
ts = fresh()
ts["Wout"].desc.rank = -1
expect_error("negative rank", ts, all_of=["Wout", "rank"])

# Element type.
ts = fresh()
ts["Xvals"] = T.Tensor([0.5] * (B * N * D), [B, N, D], T.ATTNC_F64)
expect_error("f64 for the f32 Xvals", ts, all_of=["Xvals"],
             any_of=["dtype", "type", "f32", "f64"])
ts = fresh()
ts["Lens"] = T.Tensor([1.0] * B, [B], T.ATTNC_F32)
expect_error("f32 for the i32 Lens", ts, all_of=["Lens"],
             any_of=["dtype", "type", "i32", "f32"])
ts = fresh()
ts["yout"].desc.dtype = 77
expect_error("unknown dtype 77 for yout", ts, all_of=["yout"],
             any_of=["dtype", "type"])

# Static dimension mismatch (d = 4).
ts = fresh()
ts["Squery"] = T.Tensor([0.0] * (B * M * 5), [B, M, 5])
expect_error("Squery last dim 5, static d = 4", ts, all_of=["Squery", "5", "4"])
ts = fresh()
ts["Wout"] = T.Tensor([0.0] * (DY * 3), [DY, 3])
expect_error("Wout [3, 3], expected [3, 4]", ts, all_of=["Wout"])

# Dynamic dims inconsistent between arguments.
ts = fresh()
ts["Xvals"] = T.Tensor([0.0] * (B * (N + 1) * D), [B, N + 1, D])
expect_error("n = 5 from Xkeys, 6 from Xvals", ts, all_of=["Xvals"],
             any_of=["'n'", '"n"', " n ", "n=", "n =", "`n`", " n:", "(n)", "dim",
                     "size", "shape"])
ts = fresh()
ts["Squery"] = T.Tensor([0.0] * ((B + 1) * M * D), [B + 1, M, D])
expect_error("b = 2 from Xkeys, 3 from Squery", ts, all_of=["Squery"])
ts = fresh()
ts["Lens"] = T.Tensor([1] * (B + 1), [B + 1], T.ATTNC_I32)
expect_error("b = 3 from Lens", ts, all_of=["Lens"])
ts = fresh()
ts["Xkeys"].desc.shape[1] = -1
expect_error("negative size", ts, all_of=["Xkeys"])

# Output shapes.
ts = fresh()
ts["yout"] = T.Tensor.full([B, M, DY + 1], T.SENTINEL)
expect_error("yout [2, 3, 4], expected [2, 3, 3]", ts, all_of=["yout"])
ts = fresh()
ts["Aweights"] = T.Tensor.full([B, M, N + 1], T.SENTINEL)
expect_error("Aweights [2, 3, 6], expected [2, 3, 5]", ts, all_of=["Aweights"])
ts = fresh()
ts["Aweights"] = T.Tensor.full([B, M + 1, N], T.SENTINEL)
expect_error("Aweights m = 4, Squery m = 3", ts, all_of=["Aweights"])

# Null data for tensors with elements.
for name in ("Xkeys", "Lens", "bout", "Aweights"):
    ts = fresh()
    ts[name].desc.data = None
    expect_error("NULL data of non-empty %s" % name, ts, all_of=[name],
                 any_of=["null"])

# Strides: non-contiguous (every other element) and transposed.
ts = fresh()
big = T.Tensor([0.0] * (B * N * D * 2), [B, N, D * 2])
t = T.Tensor(None, [B, N, D], buffer=big.buf, strides=[N * D * 2, D * 2, 2])
ts["Xkeys"] = t
expect_error("Xkeys with strides [40, 8, 2]", ts, all_of=["Xkeys"],
             any_of=["stride", "contiguous"])
ts = fresh()
ts["Wout"] = T.Tensor([0.0] * (DY * D), [DY, D], strides=[1, DY])
expect_error("Wout transposed strides [1, 3]", ts, all_of=["Wout"],
             any_of=["stride", "contiguous"])
ts = fresh()
ts["yout"] = T.Tensor.full([B, M, DY], T.SENTINEL, strides=[M * DY, DY, 0])
expect_error("yout with a zero stride", ts, all_of=["yout"],
             any_of=["stride", "contiguous"])

# Outputs overlapping inputs or each other.
ts = fresh()
ts["yout"] = T.Tensor(None, [B, M, DY], buffer=ts["Xkeys"].buf)
expect_error("yout aliases Xkeys", ts, all_of=["yout"], any_of=["overlap", "alias"])
ts = fresh()
# Aweights starts inside the buffer of Squery (partial overlap).
sq = ts["Squery"]
shifted = T.Tensor(None, [B, M, N], buffer=sq.buf)
shifted.desc.data = sq.buf.buffer_info()[0] + 4 * (B * M * D - 1)
ts["Aweights"] = shifted
expect_error("Aweights overlaps the end of Squery", ts, all_of=["Aweights"],
             any_of=["overlap", "alias"])
ts = fresh()
both = T.Tensor.full([B * M * N + B * M * DY], T.SENTINEL)
ts["yout"] = T.Tensor(None, [B, M, DY], buffer=both.buf)
ts["Aweights"] = T.Tensor(None, [B, M, N], buffer=both.buf)
ts["Aweights"].desc.data = both.buf.buffer_info()[0] + 4 * 2
expect_error("yout and Aweights overlap", ts, any_of=["overlap", "alias"])
# An output overlapping a param.
ts = fresh()
ts["yout"] = T.Tensor(None, [B, M, DY], buffer=ts["Wout"].buf)
ts["yout"].desc.data = ts["Wout"].buf.buffer_info()[0]
expect_error("yout aliases Wout", ts, all_of=["yout"], any_of=["overlap", "alias"])

# Still works after all the refusals.
valid_call("valid call after refused calls")

# last_error is per thread: a refusal in another thread leaves this thread's
# message as it was.
ts = fresh()
ts["Xkeys"] = T.Tensor([0.0] * (N * D), [N, D])
model.call([ts[k] for k in ORDER])
mine = model.last_error()


def other_thread():
    t2 = fresh()
    t2["bout"] = T.Tensor([0.0] * 7, [7])
    model.call([t2[k] for k in ORDER])


th = threading.Thread(target=other_thread)
th.start()
th.join()
checker.check(model.last_error() == mine,
              "last_error changed by another thread: %r -> %r" % (
                  mine, model.last_error()))

# And the valid call gives the reference values.
checker.case(SOURCE, "abi", SPEC, {"n": 13, "m": 3, "b": 3}, seed=5,
             overrides={"Lens": T.lengths_override})
checker.finish()
