"""Turning arrays into attnc_tensor descriptors, and allocating outputs.

Accepted: PyTorch CPU tensors (``data_ptr()``, ``stride()``), any object
with ``__array_interface__`` (NumPy arrays, :class:`attnc.Tensor`, ...),
objects with the buffer protocol (``array.array``, ``memoryview``, ctypes
arrays), and Python numbers or nested lists (copied). Nothing is copied for
the first three: the descriptor points at the caller's memory, with its
strides converted to elements; the C runtime decides whether it accepts them.
"""

import ctypes
import sys
from typing import Any, Callable, Dict, Optional, Tuple, Union

from ._abi import ITEMSIZE, MAX_RANK, attnc_tensor
from ._tensor import Tensor

# Element types by the names other libraries give them.
_BY_NAME = {
    "float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16",
    "int32": "i32", "int64": "i64",
}
# __array_interface__ typestr (kind, itemsize) -> dtype; "raw16": 16-bit
# words taken as whichever 16-bit float the argument wants (bf16 in NumPy).
_BY_TYPESTR = {
    ("f", 4): "f32", ("f", 8): "f64", ("f", 2): "f16", ("i", 4): "i32",
    ("i", 8): "i64", ("u", 2): "raw16",
}
_BY_FORMAT = {"f": "f32", "d": "f64", "e": "f16"}

_LITTLE = sys.byteorder == "little"


class View:
    """What a descriptor needs of an argument, and what keeps it alive."""

    __slots__ = ("data", "dtype", "shape", "strides", "keep", "kind",
                 "readonly", "_label")

    def __init__(self, data: Optional[int], dtype: str, shape: Tuple[int, ...],
                 strides: Tuple[int, ...], keep: Any, kind: str,
                 readonly: bool, label: Union[str, Callable[[], str]]):
        self.data = data or None
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.keep = keep
        self.kind = kind          # "torch", "numpy", "array" or "buffer"
        self.readonly = readonly
        self._label = label

    @property
    def label(self) -> str:
        """What the argument is, for messages: e.g. "numpy float64 [2, 3]"
        (made only when a message needs it: calls are on the fast path)."""
        label = self._label
        return label if isinstance(label, str) else label()

    def fill(self, desc: attnc_tensor, dtype_code: int) -> None:
        desc.data = self.data
        desc.dtype = dtype_code
        desc.rank = len(self.shape)
        for i, (s, st) in enumerate(zip(self.shape, self.strides)):
            desc.shape[i] = s
            desc.strides[i] = st


class ArgumentError(Exception):
    """Raised by view(); the caller turns it into a CallError naming the
    argument."""


# The top-level package of each argument type seen (is_torch and is_numpy
# run on every argument of every call).
_PACKAGE_OF: Dict[type, str] = {}


def _package(obj: Any) -> str:
    t = type(obj)
    package = _PACKAGE_OF.get(t)
    if package is None:
        package = _PACKAGE_OF[t] = t.__module__.split(".")[0]
    return package


def is_torch(obj: Any) -> bool:
    return _package(obj) == "torch" and hasattr(
        obj, "data_ptr") and hasattr(obj, "stride")


def is_numpy(obj: Any) -> bool:
    return _package(obj) == "numpy"


def _row_major(shape: Tuple[int, ...]) -> Tuple[int, ...]:
    st, s = [], 1
    for d in reversed(shape):
        st.append(s)
        s *= d
    return tuple(reversed(st))


def _elem_strides(byte_strides, itemsize: int) -> Tuple[int, ...]:
    out = []
    for b in byte_strides:
        if b % itemsize:
            raise ArgumentError(
                "a stride of %d bytes is not a whole number of %d-byte "
                "elements" % (b, itemsize))
        out.append(b // itemsize)
    return tuple(out)


def _resolve_raw16(dtype: str, want: str) -> str:
    if dtype == "raw16":
        return want if want in ("f16", "bf16") else "u16"
    return dtype


def view(obj: Any, want: str, writable: bool) -> View:
    """A View of `obj` for an argument of dtype `want` (used only to read
    16-bit words as f16 or bf16, and to convert numbers and lists)."""
    if is_torch(obj):
        return _torch_view(obj)
    if isinstance(obj, Tensor):
        return View(obj.data_ptr, obj.dtype, obj.shape, obj.strides, obj,
                    "array", False, "attnc.Tensor %s %s" % (
                        obj.dtype, list(obj.shape)))
    iface = getattr(obj, "__array_interface__", None)
    if isinstance(iface, dict) and isinstance(iface.get("data"), tuple):
        return _interface_view(obj, iface, want)
    if isinstance(obj, (bool, int, float, list, tuple)):
        if writable:
            raise ArgumentError("an output must be an array, not a %s" %
                                type(obj).__name__)
        try:
            t = Tensor.from_list(obj, want)
        except (ValueError, TypeError) as e:
            raise ArgumentError("cannot convert a %s to %s: %s" % (
                type(obj).__name__, want, e))
        return View(t.data_ptr, t.dtype, t.shape, t.strides, t, "list",
                    False, "%s %s" % (type(obj).__name__, list(t.shape)))
    try:
        mv = memoryview(obj)
    except TypeError:
        raise ArgumentError(
            "a value of type %s is not an array: pass a NumPy array, a PyTorch CPU tensor, "
            "an attnc.Tensor or an object with __array_interface__ or the "
            "buffer protocol" % type(obj).__name__)
    return _buffer_view(obj, mv, want)


def _torch_view(t: Any) -> View:
    if t.device.type != "cpu":
        raise ArgumentError("a tensor on %s: attnc models run on the CPU "
                            "(use .cpu())" % t.device)
    name = str(t.dtype).replace("torch.", "")
    dtype = _BY_NAME.get(name)
    if dtype is None:
        raise ArgumentError("unsupported dtype torch.%s (supported: %s)" % (
            name, ", ".join("torch." + k for k in _BY_NAME)))
    shape = tuple(int(s) for s in t.shape)
    return View(t.data_ptr(), dtype, shape, tuple(int(s) for s in t.stride()),
                t, "torch", False, "torch.%s %s" % (name, list(shape)))


# The element type of each (dtype object, typestr) seen: NumPy's dtype
# objects are hashable, and their `name` costs microseconds per call.
_DTYPE_OF: Dict[Any, str] = {}


def _interface_dtype(obj: Any, typestr: str) -> str:
    dt = getattr(obj, "dtype", None)
    key = (dt, typestr)
    try:
        return _DTYPE_OF[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable dtype attribute
        key = None
    order, kind, size = typestr[0], typestr[1], int(typestr[2:])
    # Before the name: NumPy names a big-endian float32 "float32" too.
    if (order == ">" and size > 1) or (order == "<" and not _LITTLE):
        raise ArgumentError("byte order %r is not the machine's" % typestr)
    name = getattr(dt, "name", None)
    dtype = _BY_NAME.get(name) if isinstance(name, str) else None
    if dtype is None:
        dtype = _BY_TYPESTR.get((kind, size))
    if dtype is None:
        raise ArgumentError("unsupported element type %s%s (supported: "
                            "float32, float64, float16, bfloat16, int32, "
                            "int64)" % (name + " = " if name else "", typestr))
    if key is not None:
        _DTYPE_OF[key] = dtype
    return dtype


def _interface_view(obj: Any, iface: dict, want: str) -> View:
    typestr = iface["typestr"]
    dtype = _resolve_raw16(_interface_dtype(obj, typestr), want)
    shape = tuple(iface["shape"])
    strides = iface.get("strides")
    st = (_row_major(shape) if strides is None
          else _elem_strides(strides, int(typestr[2:])))
    ptr, readonly = iface["data"]
    kind_name = "numpy" if is_numpy(obj) else "array"

    def label() -> str:
        name = getattr(getattr(obj, "dtype", None), "name", None)
        return "%s %s %s" % (kind_name, name or typestr, list(shape))
    return View(ptr, dtype, shape, st, obj, kind_name, bool(readonly), label)


def _buffer_view(obj: Any, mv: memoryview, want: str) -> View:
    fmt = mv.format.lstrip("@=<")
    dtype = _BY_FORMAT.get(fmt)
    if dtype is None and fmt in "ilqILQhH" and fmt.islower():
        dtype = {4: "i32", 8: "i64"}.get(mv.itemsize)
    if dtype is None and fmt in ("H", "h"):
        dtype = "raw16"
    if dtype is None:
        raise ArgumentError("unsupported buffer format %r" % mv.format)
    dtype = _resolve_raw16(dtype, want)
    shape = tuple(mv.shape or ())
    st = _elem_strides(mv.strides or (), mv.itemsize)
    keep: Any = obj
    if mv.nbytes == 0:
        ptr = None
    elif not mv.c_contiguous:
        raise ArgumentError("a non-contiguous %s: attnc needs row-major "
                            "data (copy it first)" % type(obj).__name__)
    elif mv.readonly:
        # ctypes can only address writable buffers; a read-only input is
        # copied.
        copy = bytearray(mv.tobytes())
        cview = (ctypes.c_char * len(copy)).from_buffer(copy)
        ptr, keep = ctypes.addressof(cview), (copy, cview)
    else:
        cview = (ctypes.c_char * mv.nbytes).from_buffer(mv)
        ptr, keep = ctypes.addressof(cview), (obj, cview)
    return View(ptr, dtype, shape, st, keep, "buffer", mv.readonly,
                "%s %r %s" % (type(obj).__name__, mv.format, list(shape)))


# -- output allocation ------------------------------------------------------

def _numpy_dtype(np: Any, dtype: str) -> Any:
    if dtype == "bf16":
        try:
            import ml_dtypes  # type: ignore
            return ml_dtypes.bfloat16
        except ImportError:
            return np.uint16  # raw bf16 bits
    return {"f32": np.float32, "f64": np.float64, "f16": np.float16,
            "i32": np.int32, "i64": np.int64}[dtype]


def allocate(kind: str, dtype: str, shape: Tuple[int, ...], like: Any = None) -> Any:
    """An uninitialized output: a torch tensor, a NumPy array or an
    attnc.Tensor (the runtime writes every element)."""
    if kind == "torch":
        import torch
        tdt = getattr(torch, {"f32": "float32", "f64": "float64",
                              "f16": "float16", "bf16": "bfloat16",
                              "i32": "int32", "i64": "int64"}[dtype])
        return torch.empty(shape, dtype=tdt)
    if kind == "numpy":
        import numpy as np
        return np.empty(shape, dtype=_numpy_dtype(np, dtype))
    return Tensor(shape, dtype)


def numpy_available() -> bool:
    if "numpy" in sys.modules:
        return True
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


__all__ = ["View", "ArgumentError", "view", "allocate", "is_torch",
           "MAX_RANK", "ITEMSIZE"]
