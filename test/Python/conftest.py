"""pytest set-up of the Python package's tests (test/Python/test_*.py).

lit runs each test file with `python3 -m pytest` (REQUIRES: python-pytest,
see lit.local.cfg); `python3 -m pytest test/Python` runs them all by hand
(with build/bin/attnc found by the package, or $ATTNC).

  * the package is imported from the source tree (python/src) unless it is
    already importable (an installed copy);
  * compiled libraries go to $ATTNC_CACHE_DIR, or a fresh directory of this
    session;
  * `c` is a soft checker (Inputs/pkgtest.Checker): a test makes all its
    checks, and fails at its end listing every one that failed;
  * `selfattn` is the compiled Inputs/pkgtest.SELFATTN model, once per file.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "Inputs"))
try:
    import attnc  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "..", "..", "python", "src"))

import pkgtest as P  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory):
    if not os.environ.get("ATTNC_CACHE_DIR"):
        os.environ["ATTNC_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    return os.environ["ATTNC_CACHE_DIR"]


@pytest.fixture
def c():
    return P.Checker()


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """A test that took `c` fails when any of its checks failed."""
    outcome = yield
    checker = pyfuncitem.funcargs.get("c")
    if outcome.excinfo is None and checker is not None and checker.messages:
        pytest.fail("%d of %d checks failed:\n  %s" % (
            len(checker.messages), checker.count,
            "\n  ".join(checker.messages)), pytrace=False)


@pytest.fixture(scope="module")
def selfattn():
    import attnc
    return attnc.compile(P.SELFATTN)
