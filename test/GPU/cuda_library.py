# A CUDA library (--target=cuda -o lib.so) where no GPU is: it loads, its
# entry points check arguments exactly as the CPU library of the same
# source does, and a call that passes the checks reaches the driver:
#  - nodriver: libcuda cannot be opened ($ATTNC_LIBCUDA names no file):
#    ATTNC_RT_ERR_CUDA (9) naming the library, from attnc_M and
#    attnc_M_cuda alike, no crash;
#  - fake: the test double of test/Runtime/FakeCuda (host memory as device
#    memory, no PTX execution): attnc_M copies its arguments over, loads the
#    embedded kernels once and stops at the first kernel, which the fake
#    cannot run (CUDA_ERROR_NOT_FOUND from cuModuleGetFunction), freeing
#    every device buffer; attnc_M_cuda refuses host pointers (10) naming
#    the argument.
# RUN: env ATTNC_LIBCUDA=/nonexistent/libcuda.so.1 %python %s nodriver
# RUN: env ATTNC_LIBCUDA=%attnc_obj_root/lib/libattnc_fake_cuda.so %python %s fake
# Without the CUDA toolkit the library embeds the PTX alone (a note says
# so), which the driver JIT-compiles: the same, through mgpuModuleLoadJIT.
# RUN: env ATTNC_CUDA_PATH=/nonexistent ATTNC_LIBCUDA=%attnc_obj_root/lib/libattnc_fake_cuda.so %python %s fake
# RUN: env ATTNC_CUDA_PATH=/nonexistent attnc %S/Inputs/dot_lengths.attn --target=cuda -o %t.so 2>&1 | FileCheck %s --check-prefix=NOTE
# NOTE: attnc: note: the CUDA toolkit's ptxas was not found ($ATTNC_CUDA_PATH, or $CUDA_HOME, $CUDA_PATH, /usr/local/cuda, PATH): the library embeds the kernels as PTX only, which the driver compiles when the library first runs
# RUN: env ATTNC_CUDA_PATH=/nonexistent attnc %S/Inputs/dot_lengths.attn --target=cuda --emit=llvm-ir | FileCheck %s --check-prefix=JIT
# JIT: call ptr @mgpuModuleLoadJIT(
# JIT: call void @mgpuLaunchKernel(
# RUN: %if ptxas %{ attnc %S/Inputs/dot_lengths.attn --target=cuda:sm_90,sm_80 --emit=llvm-ir | FileCheck %s --check-prefix=FATBIN %}
# FATBIN: call ptr @mgpuModuleLoad(
# FATBIN: call void @mgpuLaunchKernel(

import ctypes
import os
import sys

import attnc_testlib as T

SOURCE = """
model sdpa_lengths {
  dims  n, d = 16
  batch b
  input X : f32[b, n, d]
  input L : i32[b]
  query   q = X
  keys    K = X
  values  V = X
  score   e = scaled_dot(q, K)
  mask    lengths(L)
  align   a = softmax(e)
  context c = sum(a * V)
  output  y = c
}
"""

checker = T.Checker()
mode = sys.argv[1]
cpu = T.compile(SOURCE).model("sdpa_lengths")
gpu_lib = T.compile(SOURCE, ["--target=cuda:sm_80,sm_90"])
gpu = gpu_lib.model("sdpa_lengths")
cuda_entry = getattr(gpu_lib.cdll, "attnc_sdpa_lengths_cuda")
cuda_entry.restype = ctypes.c_int32
cuda_entry.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p]


def call_cuda(tensors, nargs=None):
    arr = (T.attnc_tensor * max(len(tensors), 1))()
    for i, t in enumerate(tensors):
        arr[i] = t.desc
    n = len(tensors) if nargs is None else nargs
    return cuda_entry(ctypes.cast(arr, ctypes.c_void_p), n, None)


def args(b=2, n=5, d=16, dtype=T.ATTNC_F32, l_shape=None):
    x = T.Tensor([0.01 * i for i in range(b * n * d)], [b, n, d], dtype)
    l_shape = l_shape or [b]
    lengths = T.Tensor([n] * l_shape[0], l_shape, T.ATTNC_I32)
    y = T.Tensor.full([b, n, d], 0.0)
    return [x, lengths, y]


checker.check(cpu.signature_text() == gpu.signature_text(),
              "the CUDA library's signature is the CPU library's")

# Refused arguments: the same code and message from the three entry points.
bad = {
    "nargs": (args(), 2),
    "dtype": (args(dtype=T.ATTNC_F16), None),
    "shape": (args(l_shape=[3]), None),
}
for name, (tensors, nargs) in bad.items():
    rc_cpu = cpu.call(tensors, nargs=nargs)
    msg_cpu = cpu.last_error()
    rc_gpu = gpu.call(tensors, nargs=nargs)
    msg_gpu = gpu.last_error()
    rc_cuda = call_cuda(tensors, nargs)
    msg_cuda = gpu.last_error()
    checker.check(rc_cpu != 0 and rc_cpu == rc_gpu == rc_cuda,
                  "%s: codes cpu %d, attnc_M %d, attnc_M_cuda %d" %
                  (name, rc_cpu, rc_gpu, rc_cuda))
    checker.check(msg_cpu == msg_gpu == msg_cuda,
                  "%s: messages differ: %r / %r / %r" %
                  (name, msg_cpu, msg_gpu, msg_cuda))
    print("%s: rc=%d %s" % (name, rc_gpu, msg_gpu))

if mode == "nodriver":
    for entry, call in (("attnc_M", gpu.call), ("attnc_M_cuda", call_cuda)):
        rc = call(args())
        msg = gpu.last_error()
        print("%s without a driver: rc=%d %s" % (entry, rc, msg))
        checker.check(rc == 9 and "cannot open the CUDA driver library "
                      "'/nonexistent/libcuda.so.1'" in msg,
                      "%s without a driver: rc=%d %r" % (entry, rc, msg))
    checker.check(cpu.call(args()) == 0, "the CPU library still runs")
else:
    fake = ctypes.CDLL(os.environ["ATTNC_LIBCUDA"], mode=ctypes.RTLD_GLOBAL)
    for fn in ("fake_cuda_live_allocations", "fake_cuda_module_loads",
               "fake_cuda_launches"):
        getattr(fake, fn).restype = ctypes.c_longlong
    for i in range(3):
        rc = gpu.call(args())
        msg = gpu.last_error()
        checker.check(rc == 9 and "cuModuleGetFunction" in msg and
                      "CUDA_ERROR_NOT_FOUND" in msg,
                      "attnc_M with the fake driver: rc=%d %r" % (rc, msg))
    print("attnc_M with the fake driver: rc=%d %s" % (rc, msg))
    loads = fake.fake_cuda_module_loads()
    live = fake.fake_cuda_live_allocations()
    print("module loads %d, launches %d, live allocations %d" %
          (loads, fake.fake_cuda_launches(), live))
    checker.check(loads == 1, "the kernels are loaded once (%d)" % loads)
    checker.check(live == 0, "no device buffer left (%d)" % live)
    rc = call_cuda(args())
    msg = gpu.last_error()
    print("attnc_M_cuda with host pointers: rc=%d %s" % (rc, msg))
    checker.check(rc == 10 and "argument 'X' (#0)" in msg and
                  "is not device memory" in msg,
                  "attnc_M_cuda with host pointers: rc=%d %r" % (rc, msg))

sys.exit(checker.finish())
