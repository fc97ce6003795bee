# REQUIRES: python-pytest, python-pip-install
# RUN: env ATTNC_PIP_PYTHON=%pip_python ATTNC_PACKAGE_DIR=%attnc_src/python %python -m pytest -q -rs -p no:cacheprovider %s
# `pip install ./python` works offline: the package (copied, so that the
# build leaves nothing in the source tree) is installed with --no-index into
# a fresh virtual environment, which then compiles and calls a model through
# the installed copy. (lit.local.cfg picks an interpreter with venv, pip,
# setuptools and wheel; without one this test is UNSUPPORTED.)

import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

INSTALLED_USE = r"""
import os, sys, attnc
assert attnc.__file__.startswith(sys.prefix), attnc.__file__
assert os.path.exists(os.path.join(os.path.dirname(attnc.__file__), "py.typed"))
m = attnc.compile('''
model tiny {
  dims n, d = 3
  batch b
  input X : f32[b, n, d]
  query Q = X
  keys K = X
  values V = X
  score e = dot(Q, K)
  align a = softmax(e)
  context c = sum(a * V)
  output y = c
}
''', cache_dir=False)
X = attnc.Tensor.full((1, 2, 3), 1.0)
y = m.tiny(X)
assert y.shape == (1, 2, 3) and y.flat() == [1.0] * 6, y
print("installed attnc", attnc.__version__, "at", attnc.__file__)
"""


def test_pip_install(tmp_path):
    builder = os.environ.get("ATTNC_PIP_PYTHON")
    if not builder:
        pytest.skip("ATTNC_PIP_PYTHON (an interpreter with venv, pip, "
                    "setuptools and wheel) is not set; lit sets it")
    pkg = os.environ.get("ATTNC_PACKAGE_DIR",
                         os.path.join(HERE, "..", "..", "python"))
    tmp = str(tmp_path)
    src = os.path.join(tmp, "pkg")
    shutil.copytree(pkg, src, ignore=shutil.ignore_patterns(
        "build", "dist", "*.egg-info", "__pycache__"))
    venv = os.path.join(tmp, "venv")
    # --system-site-packages: the builder's setuptools and wheel build the
    # package (--no-build-isolation), nothing is downloaded.
    subprocess.run([builder, "-m", "venv", "--system-site-packages", venv],
                   check=True)
    py = os.path.join(venv, "bin", "python")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the installed copy, not the source tree
    env["PIP_NO_INDEX"] = "1"
    subprocess.run([py, "-m", "pip", "install", "--no-index", "--no-build-isolation",
                    "--no-deps", "--quiet", src], check=True, env=env)
    r = subprocess.run([py, "-c", INSTALLED_USE], env=env, cwd=tmp)
    assert r.returncode == 0, "the installed package failed (rc %d)" % r.returncode
