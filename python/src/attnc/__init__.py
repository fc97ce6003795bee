"""attnc from Python: compile ``.attn`` attention models and call them on
NumPy arrays and PyTorch tensors.

    >>> import attnc
    >>> mod = attnc.compile("examples/transformer.attn")
    >>> mod.models
    ('transformer',)
    >>> Y = mod.transformer(X, Wq, Wk, Wv, Wo)      # NumPy arrays in and out
    >>> help(mod.transformer)                       # names, roles, dtypes, shapes
    >>> print(mod.ir("attn"))                       # the attn dialect

The package itself needs only the standard library: NumPy and PyTorch are
used when the arguments are theirs, and :class:`attnc.Tensor` stands in
otherwise. ``attnc.torch`` registers models as PyTorch custom operators.
"""

import os
from typing import Optional, Sequence, Union

from ._compiler import (Config, compile_to_cache, compiler_identity, config,
                        default_cache_dir, find_compiler, read_source,
                        resolve_cache_dir, __version__)
from ._errors import (AttncError, CallError, CompileError, CompilerNotFoundError,
                      CompilerWarning, Diagnostic)
from ._module import Model, Module, load
from ._signature import Arg, Signature
from ._tensor import Tensor

__all__ = [
    "compile", "load", "Module", "Model", "Signature", "Arg", "Tensor",
    "AttncError", "CompileError", "CallError", "CompilerNotFoundError",
    "CompilerWarning", "Diagnostic", "config", "Config", "find_compiler",
    "default_cache_dir", "compiler_identity", "__version__",
]


def compile(source_or_path: Union[str, bytes, "os.PathLike[str]"],
            target: str = "host", opt: int = 3, flags: Sequence[str] = (),
            cache_dir: Union[None, bool, str, "os.PathLike[str]"] = None,
            compiler: Optional[Union[str, "os.PathLike[str]"]] = None) -> Module:
    """Compiles a ``.attn`` program (its text, or the path of a ``.attn`` or
    ``.mlir`` file) into a shared library and loads it.

    target, opt: ``attnc --target=<target> -O<opt>``. flags: more attnc
    options (``["--tile-size=32", "--openmp=false"]``, see ``attnc --help``).
    cache_dir: where libraries are kept, by a hash of the source, target,
    opt, flags and the compiler binary; None: ``attnc.config.cache_dir``,
    ``$ATTNC_CACHE_DIR`` or ``~/.cache/attnc``; False: a private folder
    removed at exit. A cached library is loaded without running the
    compiler (``module.cached`` is then True). compiler: the attnc
    executable (see :func:`find_compiler`).

    Raises :class:`CompileError` (``.diagnostics``: the compiler's located
    ``file:line:col`` messages, with the file shown as given, ``<string>``
    for source text), :class:`CompilerNotFoundError`, FileNotFoundError.
    Compiler warnings are issued as :class:`CompilerWarning`."""
    if isinstance(flags, str):
        flags = flags.split()
    text, path, suffix = read_source(source_or_path)
    exe = find_compiler(compiler)
    root = resolve_cache_dir(cache_dir)
    c = compile_to_cache(text, path, suffix, target, opt, tuple(flags), root,
                         exe)
    return Module(c.library, c.info["models"], source=text,
                  source_file=c.source_file, source_path=path, target=target,
                  opt=opt, flags=tuple(flags), compiler=exe, cached=c.cached,
                  diagnostics=c.info.get("stderr", ""))
