#!/usr/bin/env python3
"""Runs device_check.py's DEVICE path (main() without --cpu-selftest) on a
machine without a GPU: torch.cuda is mocked (CPU tensors, perf_counter
events, stream 0) and attnc_M_cuda is replaced by attnc_M of the CPU
libraries (out/cpu). It checks the plumbing of the device path (argument
order, tensors, streams, timing, the summary), not CUDA. Needs torch (CPU).

  /tmp/tv/bin/python bench/gpu/mock_device_selftest.py [device_check args]
  (default: --quick --bench-n 64,128)
"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch  # noqa: E402
import device_check as dc  # noqa: E402


class Stream:
    def __init__(self, *a, **k):
        self.cuda_stream = 0x1234 if a or k or self.__class__._n else 0
        self.__class__._n += 1
    _n = 0


class Event:
    def __init__(self, enable_timing=False):
        self.t = None

    def record(self, stream=None):
        self.t = time.perf_counter()

    def synchronize(self):
        pass

    def elapsed_time(self, end):
        return (end.t - self.t) * 1e3


_current = Stream()
torch.cuda.is_available = lambda: True
torch.cuda.init = lambda: None
torch.cuda.synchronize = lambda *a: None
torch.cuda.empty_cache = lambda: None
torch.cuda.get_device_name = lambda *a: "mock (CPU)"
torch.cuda.get_device_capability = lambda *a: (9, 0)
torch.cuda.current_stream = lambda *a: _current
torch.cuda.Stream = lambda *a, **k: Stream(side=True)
torch.cuda.Event = Event
dc.DEVICE = "cpu"

calls = {"cuda": 0}


def call_cuda(self, descs, stream):
    calls["cuda"] += 1
    assert stream in (0, 0x1234), stream
    rc = self.call_host(descs)
    # The mock has no device memory to tell host pointers from: the error
    # path's host-pointer call (valid arguments, numpy memory) gets the
    # runtime's code 10.
    if rc == 0 and sys._getframe(1).f_code.co_name == "error_path_checks":
        return 10
    return rc


dc.Model.call_cuda = call_cuda
_init = dc.Model.__init__


def init(self, dll, name):
    _init(self, dll, name)
    self._cuda = self._host     # the CPU library has no attnc_M_cuda


dc.Model.__init__ = init

# A kit whose CUDA libraries are the CPU ones.
kit = tempfile.mkdtemp(prefix="attnc_mock_kit_")
for name in ("numerics", "bench"):
    os.symlink(os.path.join(HERE, "out", "cpu", "lib%s.so" % name),
               os.path.join(kit, "lib%s.so" % name))
args = sys.argv[1:] or ["--quick", "--bench-n", "64,128"]
sys.argv = ["device_check.py", "--kit", kit] + args
rc = dc.main()
print("mock: %d attnc_M_cuda calls (run by attnc_M of the CPU library); "
      "device_check.py exited %d" % (calls["cuda"], rc))
sys.exit(rc)
