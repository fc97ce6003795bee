# RUN: %python %s
# Programs beyond the gallery: untied hops (each hop its own parameter set,
# named SET_k_NAME), a block calling a block (nested parameter sets), the same
# block at two sequence lengths, and a block used by two calls with the same
# set (shared weights), each against a float64 reference written from the
# formulas (survey eqs. 41-42 for the hops).
# Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (attnc_testlib).

import attnc_testlib as T
import survey_reference as R

SOURCE = """
block hop(u, M) {
  param A, C : f32[d, d]
  keys    K = A M
  values  V = C M
  score   e = dot(u, K)
  align   a = softmax(e)
  context o = sum(a * V)
}

block two_hops(u, M) {
  let u1 = u + hop(u, M) with first
  return u1 + hop(u1, M) with second
}

model untied {
  dims n, d = 6
  batch b
  input X : f32[b, n, d]
  input q : f32[b, d]
  let u = q
  hops 3 untied {
    let u = u + hop(u, X) with h
  }
  output y = u
}

model nested {
  dims n, m, d = 5
  batch b
  input X : f32[b, n, d]
  input Y : f32[b, m, d]
  input q : f32[b, d]
  let over_x = two_hops(q, X) with x
  let over_y = two_hops(q, Y) with y
  let shared = hop(q, X) + hop(q, Y)
  output r = concat(over_x, over_y, shared)
}
"""


def untied_ref(T_, S):
    nb, _, d = S["X"]
    ys = []
    for i in range(nb):
        u = T_["q"][i]
        for k in (1, 2, 3):
            u = R.add(u, R._memory_hop(u, T_["X"][i], T_["h_%d_A" % k],
                                       T_["h_%d_C" % k], d))
        ys.append(u)
    return {"y": ([nb, d], ys)}


def nested_ref(T_, S):
    nb, _, d = S["X"]
    rows = []
    for i in range(nb):
        q = T_["q"][i]

        def two(M, s):
            u1 = R.add(q, R._memory_hop(q, M, T_[s + "_first_A"],
                                        T_[s + "_first_C"], d))
            return R.add(u1, R._memory_hop(u1, M, T_[s + "_second_A"],
                                           T_[s + "_second_C"], d))
        shared = R.add(R._memory_hop(q, T_["X"][i], T_["hop_A"], T_["hop_C"], d),
                       R._memory_hop(q, T_["Y"][i], T_["hop_A"], T_["hop_C"], d))
        rows.append(two(T_["X"][i], "x") + two(T_["Y"][i], "y") + shared)
    return {"r": ([nb, 3 * d], rows)}


checker = T.Checker()
lib = T.compile(SOURCE)
for name, ref, abi, sizes in [
    ("untied", untied_ref,
     ["X", "q", "h_1_A", "h_1_C", "h_2_A", "h_2_C", "h_3_A", "h_3_C", "y"],
     [{"b": 1, "n": 1}, {"b": 3, "n": 7}, {"b": 2, "n": 0}, {"b": 2, "n": 67}]),
    ("nested", nested_ref,
     ["X", "Y", "q", "x_first_A", "x_first_C", "x_second_A", "x_second_C",
      "y_first_A", "y_first_C", "y_second_A", "y_second_C", "hop_A", "hop_C",
      "r"],
     [{"b": 1, "n": 1, "m": 1}, {"b": 2, "n": 5, "m": 13},
      {"b": 3, "n": 17, "m": 2}, {"b": 0, "n": 3, "m": 3}]),
]:
    model = lib.model(name)
    names = [a["name"] for a in model.signature()["args"]]
    checker.check(names == abi, "%s: ABI arguments %s, expected %s"
                  % (name, names, abi))
    for i, dims in enumerate(sizes):
            checker.run(R._run_case, T, model, ref, dims, 11 + i, None,
                    {k: 0.3 for k in abi}, "programs.py")
checker.finish()
