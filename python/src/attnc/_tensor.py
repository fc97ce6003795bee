"""attnc.Tensor: a small row-major tensor in a Python buffer.

Models return these when neither NumPy nor PyTorch is in play, and accept
them as arguments. They expose ``__array_interface__``, so ``numpy.asarray``
views them without a copy when NumPy is installed."""

import ctypes
import struct
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from ._abi import ITEMSIZE

#: struct/memoryview format of each dtype (16-bit floats of bf16 as raw bits).
FORMATS = {"f32": "f", "f64": "d", "f16": "e", "bf16": "H", "i32": "i",
           "i64": "q"}
#: __array_interface__ typestr of each dtype (bf16 as raw 16-bit words).
TYPESTRS = {"f32": "<f4", "f64": "<f8", "f16": "<f2", "bf16": "<u2",
            "i32": "<i4", "i64": "<i8"}


def _prod(xs: Iterable[int]) -> int:
    p = 1
    for x in xs:
        p *= x
    return p


def _bf16_bits(x: float) -> int:
    """The bf16 bits of a float (round to nearest even)."""
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    if (bits & 0x7F800000) == 0x7F800000 and bits & 0x7FFFFF:
        return 0x7FC0  # NaN
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF


def _bf16_value(b: int) -> float:
    return struct.unpack("<f", struct.pack("<I", b << 16))[0]


def _shape_of(nested: Any) -> Tuple[int, ...]:
    shape = []
    x = nested
    while isinstance(x, (list, tuple)):
        shape.append(len(x))
        if not x:
            break
        x = x[0]
    return tuple(shape)


def _flatten(nested: Any, shape: Sequence[int], out: List[Any]) -> None:
    if not shape:
        if isinstance(nested, (list, tuple)):
            raise ValueError("ragged nested sequence")
        out.append(nested)
        return
    if not isinstance(nested, (list, tuple)) or len(nested) != shape[0]:
        raise ValueError("ragged nested sequence")
    for x in nested:
        _flatten(x, shape[1:], out)


class Tensor:
    """A C-contiguous tensor of an attnc dtype in a ``bytearray``.

    >>> t = Tensor.from_list([[1, 2], [3, 4]], "f32")
    >>> t.shape, t.dtype, t.tolist()
    ((2, 2), 'f32', [[1.0, 2.0], [3.0, 4.0]])
    """

    def __init__(self, shape: Sequence[int], dtype: str = "f32",
                 values: Optional[Iterable[Any]] = None):
        if dtype not in FORMATS:
            raise TypeError("unsupported dtype %r (one of %s)" % (
                dtype, ", ".join(FORMATS)))
        self.shape: Tuple[int, ...] = tuple(int(s) for s in shape)
        if any(s < 0 for s in self.shape):
            raise ValueError("negative size in shape %s" % (self.shape,))
        self.dtype = dtype
        self.size = _prod(self.shape)
        self.itemsize = ITEMSIZE[dtype]
        self.buffer = bytearray(self.size * self.itemsize)
        # A ctypes view pins the bytearray (it cannot be resized while the
        # view lives) and gives its address.
        self._cview = ((ctypes.c_char * len(self.buffer)).from_buffer(
            self.buffer) if self.buffer else None)
        if values is not None:
            flat = list(values)
            if len(flat) != self.size:
                raise ValueError("%d values for shape %s (%d elements)" % (
                    len(flat), self.shape, self.size))
            struct.pack_into(self._fmt(), self.buffer, 0, *self._encode(flat))

    # -- construction -----------------------------------------------------
    @classmethod
    def from_list(cls, nested: Any, dtype: str = "f32") -> "Tensor":
        """A tensor from nested lists (or a scalar, rank 0)."""
        shape = _shape_of(nested)
        flat: List[Any] = []
        _flatten(nested, shape, flat)
        return cls(shape, dtype, flat)

    @classmethod
    def full(cls, shape: Sequence[int], value: Any,
             dtype: str = "f32") -> "Tensor":
        return cls(shape, dtype, [value] * _prod(shape))

    # -- access -----------------------------------------------------------
    @property
    def data_ptr(self) -> Optional[int]:
        """The address of the first element (None when empty)."""
        return ctypes.addressof(self._cview) if self._cview is not None else None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def strides(self) -> Tuple[int, ...]:
        """Row-major strides, in elements."""
        st, s = [], 1
        for d in reversed(self.shape):
            st.append(s)
            s *= d
        return tuple(reversed(st))

    def _fmt(self) -> str:
        return "<%d%s" % (self.size, FORMATS[self.dtype])

    def _encode(self, flat: List[Any]) -> List[Any]:
        if self.dtype == "bf16":
            return [_bf16_bits(float(v)) for v in flat]
        if self.dtype in ("i32", "i64"):
            return [int(v) for v in flat]
        return [float(v) for v in flat]

    def flat(self) -> List[Any]:
        """The elements in row-major order, as Python numbers."""
        vals = list(struct.unpack_from(self._fmt(), self.buffer, 0))
        if self.dtype == "bf16":
            return [_bf16_value(v) for v in vals]
        return vals

    def tolist(self) -> Any:
        """The elements as nested lists (a number for rank 0)."""
        flat = self.flat()
        if not self.shape:
            return flat[0]

        def build(offset: int, dim: int) -> List[Any]:
            n = self.shape[dim]
            if dim == len(self.shape) - 1:
                return flat[offset:offset + n]
            step = _prod(self.shape[dim + 1:])
            return [build(offset + i * step, dim + 1) for i in range(n)]
        return build(0, 0)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a rank-0 tensor")
        return self.shape[0]

    @property
    def __array_interface__(self) -> dict:
        return {"version": 3, "shape": self.shape,
                "typestr": TYPESTRS[self.dtype],
                "data": (self.data_ptr or 0, False), "strides": None}

    def numpy(self) -> Any:
        """A NumPy array viewing this tensor (needs NumPy)."""
        import numpy
        return numpy.asarray(self)

    def __repr__(self) -> str:
        body = repr(self.tolist()) if self.size <= 64 else "..."
        return "attnc.Tensor(%s, shape=%s, dtype=%s)" % (body, self.shape,
                                                         self.dtype)
