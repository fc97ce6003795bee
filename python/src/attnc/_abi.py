"""The C ABI of attnc models (runtime/include/attnc/attnc.h), in ctypes."""

import ctypes
from typing import Dict

MAX_RANK = 8

#: attnc_dtype codes, by the dtype names of the signature JSON.
DTYPE_CODES: Dict[str, int] = {
    "f32": 0, "f64": 1, "f16": 2, "bf16": 3, "i32": 4, "i64": 5,
}
DTYPE_NAMES: Dict[int, str] = {v: k for k, v in DTYPE_CODES.items()}

#: Bytes per element of each dtype.
ITEMSIZE: Dict[str, int] = {
    "f32": 4, "f64": 8, "f16": 2, "bf16": 2, "i32": 4, "i64": 8,
}


class attnc_tensor(ctypes.Structure):
    """``attnc_tensor``: data, dtype, rank, shape[8], strides[8] (in elements)."""

    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.c_int64 * MAX_RANK),
        ("strides", ctypes.c_int64 * MAX_RANK),
    ]


def bind(cdll: ctypes.CDLL, model: str):
    """The three entry points of `model` in a loaded library, typed."""
    fn = getattr(cdll, "attnc_" + model)
    fn.argtypes = [ctypes.POINTER(attnc_tensor), ctypes.c_int32]
    fn.restype = ctypes.c_int32
    sig = getattr(cdll, "attnc_%s_signature" % model)
    sig.argtypes = []
    sig.restype = ctypes.c_char_p
    err = getattr(cdll, "attnc_%s_last_error" % model)
    err.argtypes = []
    err.restype = ctypes.c_char_p
    return fn, sig, err
