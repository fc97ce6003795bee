"""Model signatures: the JSON of ``attnc_<model>_signature()`` as objects."""

import json
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

Dim = Union[int, str]


class Arg:
    """One argument of a model: its name, role (``"input"``, ``"param"`` or
    ``"output"``), dtype (``"f32"``, ...) and shape, where a string names a
    dynamic dimension and an integer is a static size."""

    __slots__ = ("name", "role", "dtype", "shape", "index")

    def __init__(self, name: str, role: str, dtype: str,
                 shape: Sequence[Dim], index: int):
        self.name = name
        self.role = role
        self.dtype = dtype
        self.shape: Tuple[Dim, ...] = tuple(shape)
        self.index = index

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_output(self) -> bool:
        return self.role == "output"

    def type_str(self) -> str:
        """``f32[b, n, 64]``."""
        return "%s[%s]" % (self.dtype, ", ".join(str(d) for d in self.shape))

    def resolve(self, dims: Mapping[str, int]) -> Tuple[int, ...]:
        """The concrete shape, given the sizes of the dynamic dims."""
        return tuple(d if isinstance(d, int) else dims[d] for d in self.shape)

    def __repr__(self) -> str:
        return "Arg(%s: %s %s)" % (self.name, self.role, self.type_str())


class Signature:
    """The signature of a model: its arguments in ABI order (inputs and
    params in declaration order, then the outputs)."""

    def __init__(self, name: str, args: List[Arg], text: str = ""):
        self.name = name
        self.args = args
        self.text = text

    @classmethod
    def from_json(cls, text: str) -> "Signature":
        data = json.loads(text)
        args = [Arg(a["name"], a["role"], a["dtype"], a["shape"], i)
                for i, a in enumerate(data["args"])]
        return cls(data["name"], args, text)

    @property
    def arguments(self) -> List[Arg]:
        """The inputs and params: what a call takes, in order."""
        return [a for a in self.args if not a.is_output]

    @property
    def inputs(self) -> List[Arg]:
        return [a for a in self.args if a.role == "input"]

    @property
    def params(self) -> List[Arg]:
        return [a for a in self.args if a.role == "param"]

    @property
    def outputs(self) -> List[Arg]:
        return [a for a in self.args if a.is_output]

    @property
    def dynamic_dims(self) -> List[str]:
        """The names of the dynamic dims, in order of first appearance."""
        seen: List[str] = []
        for a in self.args:
            for d in a.shape:
                if isinstance(d, str) and d not in seen:
                    seen.append(d)
        return seen

    def arg(self, name: str) -> Optional[Arg]:
        for a in self.args:
            if a.name == name:
                return a
        return None

    def infer_dims(self, shapes: Mapping[str, Sequence[int]]) -> Dict[str, int]:
        """Sizes of the dynamic dims from the shapes of some arguments (by
        name). An argument of the wrong rank tells nothing (the runtime
        refuses the call with its own message); the first argument that
        gives a dim wins (the runtime checks that the others agree)."""
        dims: Dict[str, int] = {}
        for a in self.args:
            shape = shapes.get(a.name)
            if shape is None or len(shape) != a.rank:
                continue
            for d, s in zip(a.shape, shape):
                if isinstance(d, str) and d not in dims:
                    dims[d] = s
        return dims

    def prototype(self) -> str:
        """``flex(X, Wq, ...) -> (y, A)``."""
        outs = [a.name for a in self.outputs]
        ret = outs[0] if len(outs) == 1 else "(%s)" % ", ".join(outs)
        return "%s(%s) -> %s" % (self.name, ", ".join(
            a.name for a in self.arguments), ret)

    def describe(self) -> str:
        """A multi-line description: every argument's role, dtype and shape."""
        width = max([len(a.name) for a in self.args] + [1])
        lines = [self.prototype(), ""]
        if self.arguments:
            lines.append("Arguments (inputs and params; positional or by name):")
            for a in self.arguments:
                lines.append("  %-*s : %-6s %s" % (width, a.name, a.role,
                                                   a.type_str()))
        lines.append("Outputs (allocated from the signature, or given with "
                     "out=):")
        for a in self.outputs:
            lines.append("  %-*s : %-6s %s" % (width, a.name, a.role,
                                               a.type_str()))
        dyn = self.dynamic_dims
        if dyn:
            lines.append("Dynamic dims (inferred from the arguments' shapes): "
                         + ", ".join(dyn))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return "Signature(%s)" % self.prototype()
