# RUN: %python %s
# A compiled model is reentrant: calls from several threads at once, on
# different sizes, give bit-for-bit the results of the same calls made one
# after the other; repeating a call gives identical outputs; refused calls in
# one thread do not disturb valid calls in others.

import threading

import attnc_testlib as T

SOURCE = """
model thr {
  dims n, m, d = 17, d_k = 5
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d]
  param Wq, Wk, Wv : f32[d_k, d]
  query Q = Wq S
  keys K = Wk X
  values V = Wv X
  score e = scaled_dot(Q, K)
  mask causal
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
  output A = a
}
"""

checker = T.Checker()
model = T.compile(SOURCE).model("thr")
sig = model.signature()
SIZES = [{"n": 7, "m": 3, "b": 3}, {"n": 65, "m": 9, "b": 2},
         {"n": 130, "m": 4, "b": 1}, {"n": 1, "m": 1, "b": 3}]


def make_call(dims, seed):
    data = T.random_tensors(sig, dims, seed)
    ts = []
    for a in sig["args"]:
        shape = T.resolve(a["shape"], dims)
        if a["role"] == "output":
            ts.append(T.Tensor.full(shape, T.SENTINEL))
        else:
            ts.append(T.Tensor(data[a["name"]][1], shape))
    return ts


def outputs(ts):
    return [list(t.buf) for t, a in zip(ts, sig["args"]) if a["role"] == "output"]


# Serial results.
serial = {}
for i, dims in enumerate(SIZES):
    ts = make_call(dims, 400 + i)
    rc = model.call(ts)
    checker.check(rc == 0, "serial call %s: %d %s" % (dims, rc, model.last_error()))
    serial[i] = outputs(ts)
    ts2 = make_call(dims, 400 + i)
    model.call(ts2)
    checker.check(outputs(ts2) == serial[i], "repeated call %s differs" % dims)

errors = []


def worker(k):
    for rep in range(5):
        i = (k + rep) % len(SIZES)
        ts = make_call(SIZES[i], 400 + i)
        rc = model.call(ts)
        if rc != 0:
            errors.append("thread %d: status %d: %s" % (k, rc, model.last_error()))
        elif outputs(ts) != serial[i]:
            errors.append("thread %d: results for %s differ from the serial "
                          "call" % (k, SIZES[i]))
        # A refused call in between (wrong rank of X).
        bad = make_call(SIZES[i], 0)
        bad[0] = T.Tensor([0.0] * 17, [1, 17])
        if model.call(bad) == 0:
            errors.append("thread %d: a bad call was accepted" % k)
        elif "X" not in model.last_error():
            errors.append("thread %d: last_error %r does not name X" % (
                k, model.last_error()))


threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for e in errors:
    checker.check(False, e)
checker.check(True, "")
checker.finish()
