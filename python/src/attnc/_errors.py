"""Exceptions of the attnc package."""

import re
from typing import List, NamedTuple, Optional, Sequence


class AttncError(Exception):
    """Base class of the errors raised by attnc."""


class CompilerNotFoundError(AttncError, FileNotFoundError):
    """No attnc executable was found (see :func:`attnc.find_compiler`)."""


class Diagnostic(NamedTuple):
    """One located message of the compiler: ``file:line:col: severity: message``."""

    file: str
    line: int
    column: int
    severity: str
    message: str

    def __str__(self) -> str:
        return "%s:%d:%d: %s: %s" % (self.file, self.line, self.column,
                                     self.severity, self.message)


_DIAG = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+):\s*"
                   r"(?P<sev>error|warning|note|remark):\s*(?P<msg>.*)$")


def parse_diagnostics(text: str) -> List[Diagnostic]:
    """The ``file:line:col: severity: message`` lines of a compiler output."""
    out = []
    for line in text.splitlines():
        m = _DIAG.match(line.strip())
        if m:
            out.append(Diagnostic(m.group("file"), int(m.group("line")),
                                  int(m.group("col")), m.group("sev"),
                                  m.group("msg")))
    return out


class CompileError(AttncError):
    """The compiler refused the program (or an IR stage could not be
    printed). ``diagnostics`` holds the located messages (a list of
    :class:`Diagnostic`), ``output`` the compiler's whole stderr,
    ``returncode`` its exit status and ``command`` what was run."""

    def __init__(self, output: str, returncode: int,
                 command: Sequence[str] = (), what: str = "attnc"):
        self.output = output
        self.returncode = returncode
        self.command = list(command)
        self.diagnostics: List[Diagnostic] = parse_diagnostics(output)
        msg = "%s failed (exit status %d)" % (what, returncode)
        text = output.strip()
        super().__init__(msg + (":\n" + text if text else ""))

    @property
    def errors(self) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class CompilerWarning(UserWarning):
    """A warning printed by the compiler on a successful compilation."""


class CallError(AttncError, ValueError):
    """A model refused its arguments.

    ``runtime_message`` is ``attnc_<model>_last_error()`` and ``status`` the
    non-zero return code when the C runtime refused the call (see
    runtime/include/attnc/runtime.h); both are None when the Python side
    refused it first (an unsupported dtype, a tensor on another device, ...).
    ``argument`` names the argument concerned when known."""

    def __init__(self, model: str, message: str, status: Optional[int] = None,
                 runtime_message: Optional[str] = None,
                 argument: Optional[str] = None):
        self.model = model
        self.status = status
        self.runtime_message = runtime_message
        self.argument = argument
        # The runtime's messages already begin with "attnc_<model>:".
        prefixed = message.startswith("attnc_%s:" % model)
        super().__init__(message if prefixed else "%s: %s" % (model, message))

    def last_error(self) -> Optional[str]:
        """The runtime's message (``attnc_<model>_last_error()``), if any."""
        return self.runtime_message
