# RUN: %python %s
# The parallel loop of the tiled form (batch x head x query tile) runs on
# OpenMP threads: the outputs are bit-for-bit the same for every thread count
# (OMP_NUM_THREADS = 1, 2, 3, 5), each run in a process of its own, for a
# multi-head causal model with lengths, for an additive score with the
# weights as an output, and for a model whose keys are split (few query
# tiles, thousands of keys: the partial states of the splits are merged in
# a fixed order, whatever the thread count), and one head of 200 queries,
# whose query groups the thread count sizes (2 to 5 groups of query tiles
# here, attn-tile-attention; what a tile computes does not change). (Their
# numerics against the reference are checked by the integration tests,
# which run with the default thread count.)

import json
import os
import subprocess
import sys

import attnc_testlib as T

SOURCE = """
model mh {
  dims  n, d = 16, h = 4, d_k = 8
  batch b
  input X : f32[b, n, d]
  input L : i32[b]
  param Wq, Wk, Wv : f32[h, d_k, d]
  heads h {
    query   Q = Wq X
    keys    K = Wk X
    values  V = Wv X
    score   e = scaled_dot(Q, K)
    mask    causal, lengths(L)
    align   a = softmax(e)
    context c = sum(a * V)
  }
  output C = concat(c)
}

model add {
  dims  n, m, d = 12, d_w = 7
  batch b
  input X : f32[b, n, d]
  input S : f32[b, m, d]
  param W1, W2 : f32[d_w, d]
  param bw, w : f32[d_w]
  query   q = S
  keys    K = X
  values  V = X
  score   e = additive(q, K; W1, W2, bw, w)
  align   a = softmax(e)
  context c = sum(a * V)
  output  y = c
  output  A = a
}

model split {
  dims  n_q, n_k, d = 16
  batch b
  input Q : f32[b, n_q, d]
  input X : f32[b, n_k, d]
  query   q = Q
  keys    K = X
  values  V = X
  score   e = scaled_dot(q, K)
  mask    causal
  align   a = softmax(e)
  context c = sum(a * V)
  output  y = c
  output  z = logsumexp(e)
}
"""

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import attnc_testlib as T
lib = T.compile(open(sys.argv[2]).read())
out = {}
for name, dims in json.loads(sys.argv[3]):
    model = lib.model(name)
    sig = model.signature()
    data = T.random_tensors(sig, dims, 7)
    ts = []
    for a in sig["args"]:
        shape = T.resolve(a["shape"], dims)
        if a["role"] == "output":
            ts.append(T.Tensor.full(shape, 0.0, T.DTYPES[a["dtype"]]))
        else:
            ts.append(T.Tensor(data[a["name"]][1], shape, T.DTYPES[a["dtype"]]))
    assert model.call(ts) == 0, model.last_error()
    out[name + json.dumps(dims)] = [t.buf.tobytes().hex() for t in ts
                                    if t is not None]
print(json.dumps(out))
"""

CASES = [("mh", {"b": 3, "n": 67}), ("mh", {"b": 1, "n": 130}),
         ("add", {"b": 5, "n": 33, "m": 9}),
         ("split", {"b": 1, "n_q": 5, "n_k": 3001}),
         ("split", {"b": 2, "n_q": 20, "n_k": 1300}),
         ("split", {"b": 1, "n_q": 200, "n_k": 300})]

checker = T.Checker()
workdir = T._workdir()
src = os.path.join(workdir, "openmp_threads.attn")
with open(src, "w") as f:
    f.write(SOURCE)
child = os.path.join(workdir, "openmp_child.py")
with open(child, "w") as f:
    f.write(CHILD)
libdir = os.path.dirname(os.path.abspath(T.__file__))
results = {}
for threads in (1, 2, 3, 5):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, child, libdir, src,
                           json.dumps(CASES)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    checker.check(proc.returncode == 0, "OMP_NUM_THREADS=%d: %s" % (
        threads, proc.stderr[-2000:]))
    if proc.returncode == 0:
        results[threads] = json.loads(proc.stdout)
for threads, out in results.items():
    checker.check(out == results[1], "OMP_NUM_THREADS=%d: outputs differ "
                  "from those of one thread" % threads)
print("thread counts compared:", sorted(results))
checker.finish()
