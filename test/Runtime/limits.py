# RUN: %python %s
# The C ABI at the limits of its sizes, and aliasing between every pair of
# arguments:
#  - a product of sizes (elements, or bytes) that overflows int64 is refused
#    with ATTNC_RT_ERR_SHAPE and a message saying so, whatever data points
#    to; element counts past 2^31 that fit are refused only for their NULL
#    data (nothing is ever computed from a 32-bit count);
#  - an empty batch with huge other dimensions is empty: nothing is read,
#    written or allocated from the huge sizes;
#  - every output refuses to share a byte with any other argument (same
#    start, or the last element of one under the first of the other), in
#    both orders; inputs and params may share memory with each other; and
#    arguments that only touch end to end are fine.

import ctypes
import itertools

import attnc_testlib as T

SOURCE = """
model limits {
  dims n, m, d = 4, d_y = 3
  batch b
  input  Xk : f32[b, n, d]
  param  W : f32[d_y, d]
  input  Xv : f32[b, n, d]
  input  S : f32[b, m, d]
  input  L : i32[b]
  param  bias : f32[d_y]
  query Q = S
  keys K = Xk
  values V = Xv
  score e = dot(Q, K)
  mask lengths(L)
  align a = softmax(e)
  context c = sum(a * V)
  output y = W c + bias
  output A = a
  output lse = logsumexp(e)
}
"""
ORDER = ["Xk", "W", "Xv", "S", "L", "bias", "y", "A", "lse"]
OUTPUTS = {"y", "A", "lse"}
DTYPE = {name: T.ATTNC_I32 if name == "L" else T.ATTNC_F32 for name in ORDER}
ERR_SHAPE, ERR_NULL_DATA, ERR_OVERLAP = 3, 4, 6


def shapes(b, n, m):
    return {"Xk": [b, n, 4], "W": [3, 4], "Xv": [b, n, 4], "S": [b, m, 4],
            "L": [b], "bias": [3], "y": [b, m, 3], "A": [b, m, n],
            "lse": [b, m]}


checker = T.Checker()
model = T.compile(SOURCE).model("limits")
checker.check([a["name"] for a in model.signature()["args"]] == ORDER,
              "the ABI order is not %s" % ORDER)


def valid_tensors(b=2, n=5, m=3):
    ts = {}
    for name, shape in shapes(b, n, m).items():
        if name == "L":
            ts[name] = T.Tensor([n] * b, shape, T.ATTNC_I32)
        elif name in OUTPUTS:
            ts[name] = T.Tensor.full(shape, T.SENTINEL)
        else:
            ts[name] = T.Tensor([0.25 * (k % 5) - 0.5 for k in range(T.prod(shape))],
                                shape)
    return ts


def call(ts):
    rc = model.call([ts[k] for k in ORDER])
    return rc, model.last_error()


# --- Sizes ------------------------------------------------------------------

def huge(b, n, m, data, real_up_to=0):
    """Tensors of the given sizes. Those of at most `real_up_to` elements get
    a buffer of their size; the other non-empty ones' data is `data`
    ("null", or "small": a one-element buffer the call must not touch)."""
    ts = {}
    for name, shape in shapes(b, n, m).items():
        count = T.prod(shape)
        if 0 < count <= real_up_to:
            ts[name] = T.Tensor.full(shape, 0, DTYPE[name])
            continue
        ts[name] = T.Tensor(None, shape, DTYPE[name],
                            buffer=T.Tensor.full([1], 0, DTYPE[name]).buf,
                            null_data=(data == "null" or count == 0))
    return ts


def expect_refused(label, ts, codes, words):
    rc, msg = call(ts)
    checker.check(rc in codes, "%s: status %d (%r), expected one of %s" % (
        label, rc, msg, codes))
    checker.check(any(w in msg for w in words),
                  "%s: message %r mentions none of %s" % (label, msg, words))


I64_MAX = 2**63 - 1
for label, (b, n, m) in {
        "elements of Xk overflow int64 (4 * 2^62 * 4)": (4, 2**62, 1),
        "bytes of Xk overflow int64 (2^62 elements * 4 bytes)": (1, 2**60, 1),
        "elements of A overflow int64 (2^40 * 2^40)": (1, 2**40, 2**40),
        "INT64_MAX sizes": (I64_MAX, I64_MAX, I64_MAX),
        "INT64_MAX queries": (1, 1, I64_MAX),
}.items():
    for data in ("null", "small"):
        expect_refused("%s, %s data" % (label, data), huge(b, n, m, data),
                       [ERR_SHAPE], ["overflows"])

# Element counts past 2^31 (and 2^32) that fit int64, with NULL data only
# for the large tensors (the others are real): refused for that NULL data.
# A count computed in 32 bits would wrap to a small or zero size and let the
# call through.
for label, (b, n, m) in {
        "Xk and Xv of 2^31 elements": (2**27, 4, 1),
        "A of 2^32 elements": (1, 2**16, 2**16),
        "A of 2^32 + 2^16 elements": (1, 2**16 + 1, 2**16),
}.items():
    expect_refused(label + ", NULL data", huge(b, n, m, "null", 2**19),
                   [ERR_NULL_DATA], ["NULL"])

# Negative sizes, including the most negative.
for label, (b, n, m) in {"n = -1": (2, -1, 3), "m = INT64_MIN": (2, 3, -2**63),
                         "b = -2^62": (-2**62, 3, 3)}.items():
    expect_refused(label, huge(b, n, m, "null"), [ERR_SHAPE], ["negative"])

# An empty batch: every tensor with b is empty (NULL data is fine), however
# large n and m are; only the params hold data.
for n, m in ((2**62, 2**62), (I64_MAX, 1), (2**31, 2**31)):
    ts = huge(0, n, m, "null")
    ts["W"] = T.Tensor.full([3, 4], 0.5)
    ts["bias"] = T.Tensor.full([3], 0.5)
    rc, msg = call(ts)
    checker.check(rc == 0, "b = 0, n = %d, m = %d: status %d (%r), expected 0"
                  % (n, m, rc, msg))

# A valid call still computes after all that.
ts = valid_tensors()
rc, msg = call(ts)
checker.check(rc == 0 and T.SENTINEL not in ts["y"].values(),
              "valid call: status %d (%r)" % (rc, msg))

# --- Aliasing, every pair of arguments ---------------------------------------


def share(first, second, offset_elements, b=2, n=5, m=3):
    """Valid tensors, except that `second` lies in one buffer with `first`,
    starting `offset_elements` (4-byte elements) after it."""
    ts = valid_tensors(b, n, m)
    sizes = {k: T.prod(v) for k, v in shapes(b, n, m).items()}
    total = max(sizes[first], offset_elements + sizes[second]) + 1
    buf = T.Tensor.full([total], 0.5).buf
    base = buf.buffer_info()[0]
    for name, start in ((first, 0), (second, offset_elements)):
        t = T.Tensor(None, shapes(b, n, m)[name], DTYPE[name], buffer=buf)
        t.desc.data = base + 4 * start
        if name == "L":
            for k in range(b):
                buf[start + k] = 0.0  # (any bit pattern: lengths are clamped)
        ts[name] = t
    return ts, sizes


for first, second in itertools.permutations(ORDER, 2):
    pair = "%s and %s" % (first, second)
    involves_output = first in OUTPUTS or second in OUTPUTS
    sizes = {k: T.prod(v) for k, v in shapes(2, 5, 3).items()}
    placements = {"at the same address": 0,
                  "from the last element of %s" % first: sizes[first] - 1}
    for where, offset in placements.items():
        ts, _ = share(first, second, offset)
        rc, msg = call(ts)
        label = "%s %s" % (pair, where)
        if involves_output:
            output = first if first in OUTPUTS else second
            checker.check(rc == ERR_OVERLAP,
                          "%s: status %d (%r), expected %d (overlap)" % (
                              label, rc, msg, ERR_OVERLAP))
            checker.check(output in msg and "overlaps" in msg,
                          "%s: message %r does not name %s's overlap" % (
                              label, msg, output))
        else:
            checker.check(rc == 0, "%s (inputs may share memory): status %d "
                          "(%r)" % (label, rc, msg))
    # End to end: no byte shared, always fine.
    ts, _ = share(first, second, sizes[first])
    rc, msg = call(ts)
    checker.check(rc == 0, "%s end to end: status %d (%r), expected 0" % (
        pair, rc, msg))

checker.finish()
