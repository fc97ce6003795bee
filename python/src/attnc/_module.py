"""Module (a compiled library) and Model (one callable model of it)."""

import ctypes
import inspect
import keyword
import os
import re
import tempfile
import threading
from collections import namedtuple
from typing import (Any, Dict, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

from . import _arrays
from ._abi import DTYPE_CODES, MAX_RANK, attnc_tensor, bind
from ._compiler import build_command, run_compiler
from ._errors import CallError
from ._signature import Signature

#: Stages of ``attnc --emit=`` that ``Module.ir`` returns as bytes.
_BINARY_STAGES = ("obj",)


class Model:
    """A compiled model, called like a function::

        y = model(X, Wq, ...)            # inputs and params, in order
        y, A = model(X=x, Wq=wq, ...)    # or by name; several outputs
        model(x, wq, out=(y, A))         # write into given arrays

    Arguments are NumPy arrays, PyTorch CPU tensors, :class:`attnc.Tensor`,
    anything with ``__array_interface__`` or the buffer protocol, or
    numbers and nested lists (copied). Arrays are passed without a copy, with
    their strides; the C runtime checks every argument (rank, dtype, static
    and dynamic sizes, strides, overlap) before computing, and a refused call
    raises :class:`attnc.CallError` with its message. Dynamic dims are taken
    from the arguments' shapes; outputs are allocated from the signature:
    torch tensors if an argument is a torch tensor, else NumPy arrays if an
    argument is a NumPy array, else :class:`attnc.Tensor`. ``out=`` gives
    outputs to write instead: one array (one output), a sequence in output
    order, or a dict by name (the others are allocated).

    Returns the output (one) or a namedtuple of the outputs (several).
    The model's own signature is in its docstring and ``model.signature``.
    """

    def __init__(self, module: "Module", name: str, cdll: ctypes.CDLL):
        self.module = module
        self.name = name
        self._fn, sig_fn, self._err_fn = bind(cdll, name)
        self.signature: Signature = Signature.from_json(sig_fn().decode())
        outs = [a.name for a in self.signature.outputs]
        self._result_type = (namedtuple("%s_outputs" % _identifier(name), outs,
                                        rename=True) if len(outs) > 1 else None)
        self.__signature__ = _call_signature(self.signature, with_self=False)

    # -- introspection ------------------------------------------------------
    @property
    def signature_json(self) -> str:
        """The raw JSON of ``attnc_<model>_signature()``."""
        return self.signature.text

    def last_error(self) -> str:
        """``attnc_<model>_last_error()`` of this thread ("" if none)."""
        r = self._err_fn()
        return r.decode("utf-8", "replace") if r else ""

    def __repr__(self) -> str:
        return "<attnc model %s from %s>" % (self.signature.prototype(),
                                             self.module.path)

    # -- calling --------------------------------------------------------------
    def __call__(self, *args: Any, out: Any = None, **named: Any) -> Any:
        sig = self.signature
        params = sig.arguments
        outputs = sig.outputs
        values = self._bind_arguments(args, named)

        views = []
        for a in params:
            views.append(self._view(a, values[a.name], writable=False))
        kinds = {v.kind for v in views}
        kind = ("torch" if "torch" in kinds else
                "numpy" if "numpy" in kinds else "array")

        given = self._bind_outputs(out)
        dims = sig.infer_dims({a.name: v.shape for a, v in zip(params, views)})
        ranks_ok = all(len(v.shape) == a.rank for a, v in zip(params, views))
        results: List[Any] = []
        for a in outputs:
            if a.name in given:
                obj = given[a.name]
                v = self._view(a, obj, writable=True)
                if v.readonly:
                    raise CallError(self.name, "output %s: the array given "
                                    "with out= is read-only" % a.name,
                                    argument=a.name)
            else:
                missing = [d for d in a.shape if isinstance(d, str)
                           and d not in dims]
                if missing and ranks_ok:
                    raise CallError(self.name, "cannot infer dim %s of output "
                                    "%s from the arguments: pass it with out="
                                    % (missing[0], a.name), argument=a.name)
                shape = tuple(d if isinstance(d, int) else max(dims.get(d, 0), 0)
                              for d in a.shape)
                obj = _arrays.allocate(kind, a.dtype, shape)
                v = self._view(a, obj, writable=True)
            results.append(obj)
            views.append(v)

        n = len(views)
        descs = (attnc_tensor * max(n, 1))()
        for i, (a, v) in enumerate(zip(sig.args, views)):
            code = DTYPE_CODES.get(v.dtype)
            if code is None:
                raise CallError(self.name, "%s %s: %s data cannot be passed "
                                "as %s" % (a.role, a.name, v.label, a.dtype),
                                argument=a.name)
            if len(v.shape) > MAX_RANK:
                raise CallError(self.name, "%s %s: rank %d is above the "
                                "ABI's maximum of %d" % (a.role, a.name,
                                                         len(v.shape), MAX_RANK),
                                argument=a.name)
            v.fill(descs[i], code)
        status = self._fn(descs, n)
        if status != 0:
            msg = self.last_error()
            raise CallError(self.name, "%s (status %d)\n  called with: %s\n"
                            "  signature:   %s" % (
                                msg, status, ", ".join(
                                    "%s = %s" % (a.name, v.label)
                                    for a, v in zip(sig.args, views)),
                                ", ".join("%s: %s" % (a.name, a.type_str())
                                          for a in sig.args)),
                            status=status, runtime_message=msg,
                            argument=_named_in(msg, sig))
        if self._result_type is None:
            return results[0] if results else None
        return self._result_type(*results)

    def _bind_arguments(self, args: Sequence[Any],
                        named: Mapping[str, Any]) -> Dict[str, Any]:
        params = self.signature.arguments
        names = [a.name for a in params]
        if len(args) > len(params):
            raise TypeError("%s() takes %d arguments (%s) but %d were given" % (
                self.name, len(params), ", ".join(names), len(args)))
        values = dict(zip(names, args))
        for k, v in named.items():
            if k not in names:
                hint = (" (an output: pass it with out=)"
                        if self.signature.arg(k) is not None else "")
                raise TypeError("%s() got an unexpected keyword argument %r%s;"
                                " its arguments: %s" % (self.name, k, hint,
                                                        ", ".join(names)))
            if k in values:
                raise TypeError("%s() got multiple values for argument %r" % (
                    self.name, k))
            values[k] = v
        missing = [n for n in names if n not in values]
        if missing:
            raise TypeError("%s() missing %d argument%s: %s" % (
                self.name, len(missing), "s" if len(missing) > 1 else "",
                ", ".join(missing)))
        return values

    def _bind_outputs(self, out: Any) -> Dict[str, Any]:
        outputs = [a.name for a in self.signature.outputs]
        if out is None:
            return {}
        if isinstance(out, Mapping):
            unknown = [k for k in out if k not in outputs]
            if unknown:
                raise TypeError("%s(): out= names %s, not an output (outputs: "
                                "%s)" % (self.name, ", ".join(unknown),
                                         ", ".join(outputs)))
            return {k: v for k, v in out.items() if v is not None}
        if isinstance(out, (tuple, list)):
            if len(out) != len(outputs):
                raise TypeError("%s(): out= has %d arrays for %d outputs (%s)"
                                % (self.name, len(out), len(outputs),
                                   ", ".join(outputs)))
            return {k: v for k, v in zip(outputs, out) if v is not None}
        if len(outputs) != 1:
            raise TypeError("%s(): %d outputs (%s): pass out= as a tuple or a "
                            "dict" % (self.name, len(outputs), ", ".join(outputs)))
        return {outputs[0]: out}

    def _view(self, a: Any, obj: Any, writable: bool) -> "_arrays.View":
        try:
            return _arrays.view(obj, a.dtype, writable)
        except _arrays.ArgumentError as e:
            raise CallError(self.name, "%s %s (%s): %s" % (
                a.role, a.name, a.type_str(), e), argument=a.name) from None


def _identifier(name: str) -> str:
    s = re.sub(r"\W", "_", name)
    if not s or s[0].isdigit() or keyword.iskeyword(s):
        s = "_" + s
    return s


def _named_in(msg: str, sig: Signature) -> Optional[str]:
    for a in sig.args:
        if re.search(r"(?<![\w])%s(?![\w])" % re.escape(a.name), msg):
            return a.name
    return None


def _call_signature(sig: Signature, with_self: bool) -> inspect.Signature:
    ps = []
    if with_self:
        ps.append(inspect.Parameter("self",
                                    inspect.Parameter.POSITIONAL_OR_KEYWORD))
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    for a in sig.arguments:
        name = a.name if a.name.isidentifier() and not keyword.iskeyword(
            a.name) and a.name not in ("self", "out") else None
        if name is None:
            kind = inspect.Parameter.POSITIONAL_ONLY
            name = "_" + _identifier(a.name).lstrip("_")
        ps.append(inspect.Parameter(name, kind, annotation=a.type_str()))
    ps.append(inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY,
                                default=None))
    outs = sig.outputs
    ret = (outs[0].type_str() if len(outs) == 1 else
           "(%s)" % ", ".join("%s: %s" % (a.name, a.type_str()) for a in outs))
    try:
        return inspect.Signature(ps, return_annotation=ret)
    except ValueError:  # e.g. duplicate names after renaming
        return inspect.Signature(
            [inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
             inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY,
                               default=None)], return_annotation=ret)


def _model_class(sig: Signature) -> type:
    """A subclass of Model for one signature, so that ``help(model)`` shows
    the model's arguments, roles, dtypes and shapes."""
    doc = "%s\n\n%s" % (sig.describe(), inspect.cleandoc(Model.__doc__ or ""))

    def __call__(self, *args, out=None, **named):  # type: ignore
        return Model.__call__(self, *args, out=out, **named)
    __call__.__doc__ = sig.describe()
    __call__.__signature__ = _call_signature(sig, with_self=True)  # type: ignore
    __call__.__qualname__ = "%s.__call__" % _identifier(sig.name)
    return type(_identifier(sig.name), (Model,),
                {"__doc__": doc, "__call__": __call__, "__module__": "attnc",
                 # what help() shows as the class's call signature
                 "__signature__": _call_signature(sig, with_self=False)})


def make_model(module: "Module", name: str, cdll: ctypes.CDLL) -> Model:
    sig_fn = bind(cdll, name)[1]
    cls = _model_class(Signature.from_json(sig_fn().decode()))
    return cls(module, name, cdll)


class Module:
    """A compiled .attn file: a shared library and its models.

    ``module.<model>`` / ``module["<model>"]``: the callable models;
    ``module.models``: their names; ``module.path``: the library;
    ``module.ir(stage)``: the IR of a compiler stage; ``module.cached``:
    whether the library came from the cache without running the compiler."""

    def __init__(self, path: str, models: Sequence[str],
                 source: Optional[str] = None,
                 source_file: Optional[str] = None,
                 source_path: Optional[str] = None, target: str = "host",
                 opt: int = 3, flags: Sequence[str] = (),
                 compiler: Optional[str] = None, cached: bool = False,
                 diagnostics: str = ""):
        self.path = path
        self.source = source
        self.source_file = source_file
        self.source_path = source_path
        self.target = target
        self.opt = opt
        self.flags = tuple(flags)
        self.compiler = compiler
        self.cached = cached
        self.compiler_output = diagnostics
        self._cdll = ctypes.CDLL(os.path.abspath(path))
        self._models: Dict[str, Model] = {}
        for name in models:
            self._models[name] = make_model(self, name, self._cdll)
        self._ir: Dict[Tuple[str, Tuple[str, ...]], Union[str, bytes]] = {}
        self._ir_lock = threading.Lock()

    @property
    def models(self) -> Tuple[str, ...]:
        """The names of the models, in source order."""
        return tuple(self._models)

    def __getitem__(self, name: str) -> Model:
        try:
            return self._models[name]
        except KeyError:
            raise KeyError("no model %r in %s (models: %s)" % (
                name, self.path, ", ".join(self._models))) from None

    def __getattr__(self, name: str) -> Model:
        models = self.__dict__.get("_models")
        if models is not None and name in models:
            return models[name]
        raise AttributeError("%r: no model %r (models: %s)" % (
            self, name, ", ".join(models or ())))

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._models))

    def __iter__(self) -> Iterator[Model]:
        return iter(self._models.values())

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __len__(self) -> int:
        return len(self._models)

    def __repr__(self) -> str:
        return "<attnc module %s: %s>" % (os.path.basename(self.path),
                                          ", ".join(self._models))

    def signature(self, name: str) -> Signature:
        return self[name].signature

    def ir(self, stage: str = "attn", flags: Sequence[str] = ()) -> Union[str, bytes]:
        """The program at a stage of the compiler, as ``attnc --emit=<stage>``
        prints it: ``"ast"``, ``"attn"``, ``"loops"``, ``"llvm-dialect"``,
        ``"llvm-ir"`` (``"llvm"`` is taken as ``"llvm-ir"``), ``"asm"``,
        ``"header"`` (text), ``"obj"`` (bytes). Uses the module's target,
        opt level and flags, plus `flags` (e.g. ``["--mlir-print-debuginfo"]``).
        Raises CompileError with the compiler's message for an unknown stage."""
        if self.source_file is None or self.compiler is None:
            raise ValueError("the module was loaded from a library, not "
                             "compiled: its IR is not available")
        if stage == "so":
            raise ValueError("the shared library is module.path")
        stage = {"llvm": "llvm-ir"}.get(stage, stage)
        key = (stage, tuple(str(f) for f in flags))
        with self._ir_lock:
            if key in self._ir:
                return self._ir[key]
        with tempfile.TemporaryDirectory(prefix="attnc-ir-") as tmp:
            out = os.path.join(tmp, "out")
            cmd = build_command(self.compiler, self.source_file, out,
                                self.target, self.opt,
                                list(self.flags) + list(key[1]), emit=stage)
            run_compiler(cmd, self.source_path or "<string>", self.source_file,
                         what="attnc --emit=%s" % stage)
            with open(out, "rb") as f:
                data = f.read()
        result: Union[str, bytes] = (data if stage in _BINARY_STAGES
                                     else data.decode("utf-8", "replace"))
        with self._ir_lock:
            self._ir[key] = result
        return result


def load(path: str, models: Optional[Sequence[str]] = None) -> Module:
    """A Module from a library already compiled by attnc (``module.ir`` is
    not available then). `models`: the model names (default: read from the
    library's exported symbols)."""
    from . import _elf
    path = os.path.abspath(path)
    names = list(models) if models is not None else _elf.model_names(path)
    return Module(path, names)
