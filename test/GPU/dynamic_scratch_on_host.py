# RUN: env ATTNC_TEST_FLAGS=--gpu-schedule-on-host %python %s
# Programs whose per-tile scratch has a dynamic size, through the GPU
# schedule run on the CPU (--gpu-schedule-on-host): each query tile's
# scratch is then a slot of one workspace (-attn-privatize-tile-scratch,
# memref.view at the tile's offset): the slots' sizes and offsets must keep
# each tile's rows whole (and, in the sanitized tree, inside the workspace).
# That slots of different tiles are disjoint only a GPU can show (here the
# tiles run one after another); the pass's IR test shows the index. Dynamic feature and value sizes (the accumulator is
# [8, d_v] with d_v dynamic), causal and lengths, sizes around the tiles
# and the 32 tiles of a block, against the float64 reference. (The sparse
# alignments' [8, n_k] scores: schedule-on-host.test runs
# Integration/sparse_alignments.py the same way.)

import attnc_testlib as T

DYNAMIC = ("dynamic_dims", """
model dynamic_dims {
  dims n, m, d, d_v
  batch b
  input X : f32[b, n, d]
  input Xv : f32[b, n, d_v]
  input S : f32[b, m, d]
  input L : i32[b]
  query Q = S
  keys K = X
  values V = Xv
  score e = scaled_dot(Q, K)
  mask causal, lengths(L)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
}
""", {"batch": 1, "inputs": ["X", "Xv", "S", "L"], "query": ("S", None, None),
      "keys": ("X", None, None), "values": ("Xv", None, None),
      "score": ("scaled_dot", [], None), "causal": True, "lengths": "L",
      "outputs": [("y", "c")]})

checker = T.Checker()
for i, (m, n, d, dv) in enumerate([(1, 1, 1, 1), (7, 5, 3, 17), (65, 64, 16, 8),
                                   (257, 131, 5, 33), (300, 300, 2, 3),
                                   (9, 0, 4, 4)]):
    checker.case(DYNAMIC[1], DYNAMIC[0], DYNAMIC[2],
                 {"n": n, "m": m, "d": d, "d_v": dv, "b": 2}, seed=300 + i,
                 overrides={"L": T.lengths_override})
checker.finish()
