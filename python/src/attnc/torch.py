"""attnc models as PyTorch custom operators.

    >>> import attnc, attnc.torch
    >>> mod = attnc.compile("flex.attn")
    >>> op = attnc.torch.register(mod.flex)          # torch.ops.attnc.flex
    >>> f = torch.compile(lambda x, w: op(x, w) * 2)

The operator takes the model's inputs and params (CPU tensors, in order)
and returns its outputs (a tensor, or a tuple of tensors). Its fake (meta)
implementation computes the output shapes and dtypes from the model's
signature, so ``torch.compile`` and ``torch.export`` can trace through it.
Importing this module needs PyTorch; registering needs 2.2 or later
(``torch.library.custom_op`` is used from 2.4 on, ``define``/``impl``/
``impl_abstract`` before).
"""

import re
from typing import Any, Callable, Dict, List, Optional

import torch as _torch  # ImportError without PyTorch

from ._module import Model
from ._signature import Signature

__all__ = ["register", "registered", "TORCH_DTYPES"]

TORCH_DTYPES: Dict[str, Any] = {
    "f32": _torch.float32, "f64": _torch.float64, "f16": _torch.float16,
    "bf16": _torch.bfloat16, "i32": _torch.int32, "i64": _torch.int64,
}

_registry: Dict[str, Any] = {}


def _schema(sig: Signature) -> str:
    names: List[str] = []
    for i, a in enumerate(sig.arguments):
        n = a.name
        if not re.match(r"^[A-Za-z_]\w*$", n) or n in ("self", "out") or (
                n.lower() in ("tensor", "int", "float", "bool")) or n in names:
            n = "arg%d" % i
        names.append(n)
    outs = sig.outputs
    ret = "Tensor" if len(outs) == 1 else "(%s)" % ", ".join(
        "Tensor" for _ in outs)
    return "(%s) -> %s" % (", ".join("Tensor " + n for n in names), ret)


def _fake_outputs(sig: Signature, args: Any) -> Any:
    shapes = {a.name: tuple(t.shape) for a, t in zip(sig.arguments, args)}
    dims = sig.infer_dims(shapes)
    device = args[0].device if args else _torch.device("cpu")
    outs = []
    for a in sig.outputs:
        missing = [d for d in a.shape if isinstance(d, str) and d not in dims]
        if missing:
            raise ValueError("%s: cannot infer dim %s of output %s" % (
                sig.name, missing[0], a.name))
        outs.append(_torch.empty(a.resolve(dims), dtype=TORCH_DTYPES[a.dtype],
                                 device=device))
    return outs[0] if len(outs) == 1 else tuple(outs)


def register(model: Model, name: Optional[str] = None) -> Callable[..., Any]:
    """Registers `model` as the custom operator `name` (``"ns::op"``,
    default ``"attnc::<model>"``) and returns it (``torch.ops.ns.op``).

    The CPU implementation calls the model on contiguous copies of
    non-contiguous arguments and returns fresh outputs (the operator is
    functional: it mutates nothing). Registering the same name again
    returns the existing operator if it wraps the same library and model,
    and raises ValueError otherwise."""
    sig = model.signature
    qualname = name or "attnc::%s" % sig.name
    if "::" not in qualname:
        raise ValueError("operator name %r: expected 'namespace::name'" %
                         qualname)
    ns, opname = qualname.split("::", 1)
    identity = (model.module.path, model.name)
    if qualname in _registry:
        ident, op = _registry[qualname]
        if ident == identity:
            return op
        raise ValueError("operator %s is already registered for model %s of "
                         "%s" % (qualname, ident[1], ident[0]))
    schema = _schema(sig)
    nouts = len(sig.outputs)

    def impl(*args: Any) -> Any:
        res = model(*[a.contiguous() for a in args])
        return res if nouts == 1 else tuple(res)

    def fake(*args: Any) -> Any:
        return _fake_outputs(sig, args)

    lib = _torch.library
    if not (hasattr(lib, "custom_op") or hasattr(lib, "impl_abstract")):
        raise RuntimeError("attnc.torch needs torch 2.2 or later (custom "
                           "operators with fake implementations); this is "
                           "torch %s" % _torch.__version__)
    if hasattr(lib, "custom_op"):  # torch >= 2.4
        op = lib.custom_op(qualname, impl, mutates_args=(), device_types="cpu",
                           schema=schema)
        op.register_fake(fake)
    else:  # torch 2.2 - 2.3
        lib.define(qualname, schema)
        lib.impl(qualname, "CPU")(impl)
        lib.impl_abstract(qualname)(fake)
    result = getattr(getattr(_torch.ops, ns), opname)
    _registry[qualname] = (identity, result)
    return result


def registered() -> Dict[str, Any]:
    """The operators registered by this module, by name."""
    return {k: v[1] for k, v in _registry.items()}
