"""Running the attnc executable, and the cache of compiled libraries."""

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

from . import _elf
from ._errors import CompileError, CompilerNotFoundError, CompilerWarning

__version__ = "0.1.0"

PathLike = Union[str, "os.PathLike[str]"]


class Config:
    """Package-wide settings (``attnc.config``).

    ``compiler``: the attnc executable to use when ``compile()`` gets none
    and ``$ATTNC`` is unset. ``cache_dir``: where compiled libraries are
    kept when ``compile()`` gets none and ``$ATTNC_CACHE_DIR`` is unset.
    Both start from ``$XDG_CONFIG_HOME/attnc/config.json`` (default
    ``~/.config/attnc/config.json``, keys ``"compiler"`` and
    ``"cache_dir"``) when that file exists."""

    def __init__(self) -> None:
        self.compiler: Optional[str] = None
        self.cache_dir: Optional[str] = None
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(
            os.path.expanduser("~"), ".config")
        path = os.path.join(base, "attnc", "config.json")
        try:
            with open(path) as f:
                data = json.load(f)
            self.compiler = data.get("compiler")
            self.cache_dir = data.get("cache_dir")
        except (OSError, ValueError, AttributeError):
            pass

    def __repr__(self) -> str:
        return "attnc.Config(compiler=%r, cache_dir=%r)" % (self.compiler,
                                                             self.cache_dir)


config = Config()


def _source_tree_compiler() -> Optional[str]:
    # python/src/attnc/_compiler.py -> <repo>/build/bin/attnc
    here = os.path.dirname(os.path.abspath(__file__))
    guess = os.path.join(here, "..", "..", "..", "build", "bin", "attnc")
    return os.path.abspath(guess) if os.path.isfile(guess) else None


def find_compiler(compiler: Optional[PathLike] = None) -> str:
    """The attnc executable: `compiler` if given, else ``$ATTNC``, else
    ``attnc.config.compiler``, else ``$ATTNC_TOOLS_DIR/attnc``, else
    ``attnc`` on ``PATH``, else the ``build/bin/attnc`` of the source tree
    this package was imported from."""
    tried: List[str] = []
    candidates: List[Tuple[str, Optional[str]]] = [
        ("compiler=", os.fspath(compiler) if compiler is not None else None),
        ("$ATTNC", os.environ.get("ATTNC") or None),
        ("attnc.config.compiler", config.compiler),
    ]
    tools = os.environ.get("ATTNC_TOOLS_DIR")
    candidates.append(("$ATTNC_TOOLS_DIR",
                       os.path.join(tools, "attnc") if tools else None))
    for what, path in candidates:
        if path is None:
            continue
        found = shutil.which(path) if os.sep not in path else (
            path if os.path.isfile(path) and os.access(path, os.X_OK) else None)
        if found:
            return os.path.abspath(found)
        tried.append("%s (%s)" % (what, path))
        if what in ("compiler=", "$ATTNC"):  # explicit: do not guess further
            raise CompilerNotFoundError(
                "the attnc compiler given by %s is not an executable: %s" % (
                    what, path))
    on_path = shutil.which("attnc")
    if on_path:
        return os.path.abspath(on_path)
    tried.append("PATH")
    tree = _source_tree_compiler()
    if tree:
        return tree
    raise CompilerNotFoundError(
        "attnc compiler not found (looked at: %s); pass compiler=, set $ATTNC "
        "or attnc.config.compiler, or put attnc on PATH" % ", ".join(tried))


_identity_lock = threading.Lock()
_identities: Dict[Tuple[str, int, int], str] = {}


def compiler_identity(path: str) -> str:
    """What identifies a compiler binary in cache keys: its real path, size,
    modification time and ``--version`` output."""
    real = os.path.realpath(path)
    st = os.stat(real)
    key = (real, st.st_size, st.st_mtime_ns)
    with _identity_lock:
        if key not in _identities:
            try:
                proc = subprocess.run([path, "--version"], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, timeout=60)
                version = proc.stdout.decode("utf-8", "replace").strip()
            except (OSError, subprocess.SubprocessError) as e:
                version = "unknown (%s)" % e
            _identities[key] = "%s|%d|%d|%s" % (real, st.st_size,
                                               st.st_mtime_ns, version)
        return _identities[key]


def default_cache_dir() -> str:
    if config.cache_dir:
        return os.path.expanduser(config.cache_dir)
    env = os.environ.get("ATTNC_CACHE_DIR")
    if env:
        return os.path.expanduser(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "attnc")


_private_cache: Optional[str] = None


def _private_cache_dir() -> str:
    """A cache for this process only (``cache_dir=False``)."""
    global _private_cache
    if _private_cache is None:
        _private_cache = tempfile.mkdtemp(prefix="attnc-")
        atexit.register(shutil.rmtree, _private_cache, True)
    return _private_cache


def resolve_cache_dir(cache_dir: Union[None, bool, PathLike]) -> str:
    if cache_dir is False:
        return _private_cache_dir()
    if cache_dir is None or cache_dir is True:
        return default_cache_dir()
    return os.path.expanduser(os.fspath(cache_dir))


_MLIR_START = re.compile(r"^\s*(module\b|func\.func\b)", re.M)
_MODEL = re.compile(r"^\s*model\s+[A-Za-z_]\w*\s*\{", re.M)


def read_source(source_or_path: Union[str, bytes, "os.PathLike[str]"],
                ) -> Tuple[str, Optional[str], str]:
    """(text, path or None, suffix) of a source string or file."""
    if isinstance(source_or_path, bytes):
        source_or_path = source_or_path.decode("utf-8")
    if isinstance(source_or_path, os.PathLike) or (
            isinstance(source_or_path, str) and "\n" not in source_or_path
            and "{" not in source_or_path):
        path = os.fspath(source_or_path)
        with open(path, encoding="utf-8") as f:  # FileNotFoundError if absent
            text = f.read()
        suffix = ".mlir" if path.endswith(".mlir") else ".attn"
        return text, os.path.abspath(path), suffix
    text = source_or_path
    is_mlir = _MLIR_START.search(text) and not _MODEL.search(text)
    suffix = ".mlir" if is_mlir else ".attn"
    return text, None, suffix


def _stem(path: Optional[str], text: str) -> str:
    if path:
        stem = os.path.splitext(os.path.basename(path))[0]
    else:
        m = re.search(r"\bmodel\s+([A-Za-z_]\w*)", text)
        stem = m.group(1) if m else "module"
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", stem)
    return stem or "module"


def build_command(compiler: str, src: str, out: str, target: str, opt: int,
                  flags: Sequence[str], emit: Optional[str] = None) -> List[str]:
    if not isinstance(opt, int) or not 0 <= opt <= 3:
        raise ValueError("opt must be 0, 1, 2 or 3, not %r" % (opt,))
    cmd = [compiler, src, "-o", out, "--target=%s" % target, "-O%d" % opt]
    if emit:
        cmd.append("--emit=%s" % emit)
    return cmd + [str(f) for f in flags]


def run_compiler(cmd: Sequence[str], display: str, internal: str,
                 what: str = "attnc") -> str:
    """Runs the compiler; raises CompileError on failure. Returns stderr
    (with `internal` paths shown as `display`)."""
    try:
        proc = subprocess.run(list(cmd), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    except OSError as e:
        raise CompilerNotFoundError("cannot run %s: %s" % (cmd[0], e))
    err = proc.stderr.decode("utf-8", "replace").replace(internal, display)
    if proc.returncode != 0:
        out = proc.stdout.decode("utf-8", "replace").replace(internal, display)
        raise CompileError((out + err) if out.strip() else err,
                           proc.returncode, cmd, what)
    return err


def cache_key(text: str, suffix: str, target: str, opt: int,
              flags: Sequence[str], identity: str) -> str:
    blob = json.dumps({"source": text, "suffix": suffix, "target": target,
                       "opt": opt, "flags": [str(f) for f in flags],
                       "compiler": identity, "package": __version__},
                      sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


class Compiled:
    """A library in the cache: its folder, files and record."""

    def __init__(self, folder: str, info: dict, cached: bool):
        self.folder = folder
        self.info = info
        self.cached = cached
        self.library = os.path.join(folder, info["library"])
        self.source_file = os.path.join(folder, info["source_file"])


def compile_to_cache(text: str, path: Optional[str], suffix: str, target: str,
                     opt: int, flags: Sequence[str], cache_root: str,
                     compiler: str) -> Compiled:
    identity = compiler_identity(compiler)
    key = cache_key(text, suffix, target, opt, flags, identity)
    final = os.path.join(cache_root, key)
    info_path = os.path.join(final, "info.json")
    if os.path.isfile(info_path):
        try:
            with open(info_path) as f:
                info = json.load(f)
            if os.path.isfile(os.path.join(final, info["library"])):
                return Compiled(final, info, True)
        except (OSError, ValueError, KeyError):
            pass
        shutil.rmtree(final, ignore_errors=True)  # incomplete: redo it

    os.makedirs(cache_root, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-%s-" % key[:8], dir=cache_root)
    try:
        stem = _stem(path, text)
        src = os.path.join(tmp, stem + suffix)
        lib = os.path.join(tmp, "lib%s.so" % stem)
        with open(src, "w", encoding="utf-8") as f:
            f.write(text)
        cmd = build_command(compiler, src, lib, target, opt, flags)
        display = path or "<string>"
        stderr = run_compiler(cmd, display, src)
        if stderr.strip():
            warnings.warn("attnc: %s" % stderr.strip(), CompilerWarning,
                          stacklevel=3)
        models = _elf.model_names(lib)
        order = [m.group(1) for m in re.finditer(
            r"\bmodel\s+([A-Za-z_]\w*)", text)]
        models.sort(key=lambda m: (order.index(m) if m in order else len(order), m))
        info = {"key": key, "library": os.path.basename(lib),
                "source_file": os.path.basename(src), "source_path": path,
                "models": models, "target": target, "opt": opt,
                "flags": [str(f) for f in flags], "compiler": identity,
                "command": [os.path.basename(cmd[0])] + cmd[1:],
                "stderr": stderr}
        with open(os.path.join(tmp, "info.json"), "w") as f:
            json.dump(info, f, indent=1)
        try:
            os.rename(tmp, final)
        except OSError:
            # Another process finished the same key first: use its files.
            if not os.path.isfile(info_path):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            with open(info_path) as f:
                info = json.load(f)
        return Compiled(final, info, False)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
