# -*- Python -*-
# lit configuration of attnc: IR tests (FileCheck), driver tests, and the
# numerical integration tests (Python scripts that compile models with attnc,
# call them through the C ABI and compare with a double-precision reference).

import os
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "attnc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".attn", ".test", ".py"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "lib", "unit",
                   "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attnc_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMPDIR", "ATTNC_TEST_FLAGS"])
llvm_config.use_default_substitutions()

python = config.python_executable or sys.executable
config.substitutions.append(("%python", python))
config.substitutions.append(("%attnc_src", config.attnc_src_root))
config.substitutions.append(("%cc", config.c_compiler))
config.substitutions.append(("%attnc_obj_root", config.attnc_obj_root))
config.substitutions.append(
    ("%runtime_include", os.path.join(config.attnc_src_root, "runtime", "include")))
config.environment["PYTHONPATH"] = os.path.join(
    config.attnc_src_root, "test", "lib")
config.environment["ATTNC_TOOLS_DIR"] = config.attnc_tools_dir

tool_dirs = [config.attnc_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["attnc", "attn-opt", "attnc-run", "attnc-bench"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.attnc_tools_dir, append_path=True)
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"

# avx512bf16: the host can run code of attnc --dot-precision=bf16 (the
# numerical tests of it need one; elsewhere they are UNSUPPORTED).
try:
    with open("/proc/cpuinfo") as _f:
        if "avx512_bf16" in _f.read().split():
            config.available_features.add("avx512bf16")
except OSError:
    pass

# ptxas: the CUDA toolkit's assembler, which checks the PTX of attnc
# --target=cuda (test/GPU/ptxas_examples.py). Found at
# /usr/local/cuda/bin/ptxas (or $CUDA_HOME/bin) or on PATH; elsewhere the
# tests that need it are UNSUPPORTED ("requires ... ptxas").
import shutil as _shutil
_ptxas_candidates = [os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"),
                                  "bin", "ptxas"),
                     "/usr/local/cuda/bin/ptxas", _shutil.which("ptxas")]
for _ptxas in _ptxas_candidates:
    if _ptxas and os.path.isfile(_ptxas) and os.access(_ptxas, os.X_OK):
        config.available_features.add("ptxas")
        config.substitutions.append(("%ptxas", _ptxas))
        config.environment["ATTNC_PTXAS"] = _ptxas
        break
else:
    lit_config.note("ptxas not found (/usr/local/cuda/bin, $CUDA_HOME/bin, "
                    "PATH): the PTX assembly tests are UNSUPPORTED")
