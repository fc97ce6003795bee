#!/usr/bin/env python3
"""Calls a model compiled by attnc from Python through ctypes.

    python3 run_model.py libbahdanau.so bahdanau b=2 n_f=10

Reads the model's signature, fills its inputs and params with random
numbers (lengths: random valid counts), calls attnc_<model>, and prints each
output's shape and first values. Only the standard library is needed; with
numpy, pass `array.ctypes.data` as `data` instead of an array.array buffer.
"""

import array
import ctypes
import json
import os
import random
import sys


class attnc_tensor(ctypes.Structure):
    """The attnc_tensor of runtime/include/attnc/attnc.h."""
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("shape", ctypes.c_int64 * 8),
                ("strides", ctypes.c_int64 * 8)]


DTYPES = {"f32": (0, "f"), "i32": (4, "i")}


def make_tensor(buffer, dtype, shape):
    t = attnc_tensor()
    t.data = buffer.buffer_info()[0] if len(buffer) else None
    t.dtype = DTYPES[dtype][0]
    t.rank = len(shape)
    stride = 1
    for d in reversed(range(len(shape))):  # contiguous, row-major
        t.shape[d], t.strides[d] = shape[d], stride
        stride *= shape[d]
    return t


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    lib = ctypes.CDLL(os.path.abspath(argv[1]))
    name = argv[2]
    dims = dict(arg.split("=") for arg in argv[3:])
    entry = getattr(lib, "attnc_" + name)
    entry.argtypes = [ctypes.POINTER(attnc_tensor), ctypes.c_int32]
    entry.restype = ctypes.c_int32
    for suffix in ("_signature", "_last_error"):
        getattr(lib, "attnc_" + name + suffix).restype = ctypes.c_char_p
    signature = json.loads(getattr(lib, "attnc_%s_signature" % name)())

    rng = random.Random(0)
    buffers, tensors = [], []
    for arg in signature["args"]:
        shape = [int(dims.get(d, 8)) if isinstance(d, str) else d
                 for d in arg["shape"]]
        count = 1
        for d in shape:
            count *= d
        code = DTYPES[arg["dtype"]][1]
        if arg["role"] == "output":
            values = [0] * count
        elif arg["dtype"] == "i32":  # a lengths mask: at most the key count
            values = [rng.randint(0, 8) for _ in range(count)]
        else:
            values = [rng.uniform(-1, 1) for _ in range(count)]
        buffers.append(array.array(code, values))
        tensors.append(make_tensor(buffers[-1], arg["dtype"], shape))

    args = (attnc_tensor * len(tensors))(*tensors)
    status = entry(args, len(tensors))
    if status != 0:
        error = getattr(lib, "attnc_%s_last_error" % name)().decode()
        sys.exit("attnc_%s failed (%d): %s" % (name, status, error))
    for arg, buffer, t in zip(signature["args"], buffers, tensors):
        if arg["role"] == "output":
            shape = list(t.shape[:t.rank])
            print("%s %s: %s" % (arg["name"], shape,
                                 " ".join("%.5f" % v for v in buffer[:6])))


if __name__ == "__main__":
    main(sys.argv)
