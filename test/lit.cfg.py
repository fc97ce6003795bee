# -*- Python -*-
# lit configuration of attnc: IR tests (FileCheck), driver tests, and the
# numerical integration tests (Python scripts that compile models with attnc,
# call them through the C ABI and compare with a double-precision reference).

import os
import subprocess
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

# A tree configured with ATTNC_SANITIZE (scripts/test.sh --sanitize; see
# docs/testing.md) runs the same tests on sanitized tools and models. The
# models' .so files hold the sanitized runtime and need the ASan runtime in
# the process that loads them: Python (not instrumented) preloads it, with
# leak detection off since the interpreter keeps memory on purpose
# (attnc_testlib starts attnc without the preload and with the leak checker
# on again), and the C programs that tests build are instrumented too
# (%sanitize_flags). Tests that cannot run sanitized say
# `UNSUPPORTED: sanitized` with the reason.
sanitize_flags = ""
if config.attnc_sanitize:
    config.available_features.add("sanitized")
    sanitize_flags = ("-fsanitize=%s -fno-omit-frame-pointer "
                      "-fno-sanitize-recover=undefined" % config.attnc_sanitize)
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    if config.asan_runtime:
        asan_dir = os.path.dirname(config.asan_runtime)
        sanitize_flags += " -shared-libasan -Wl,-rpath,%s" % asan_dir
        config.environment["ASAN_OPTIONS"] = "detect_leaks=1"
        config.environment["ATTNC_TOOL_ASAN_OPTIONS"] = "detect_leaks=1"
        # lit.llvm defined %python already (the interpreter running lit, as
        # the first substitution of a name wins): replace it.
        config.substitutions = [
            s for s in config.substitutions if s[0] != "%python"]
        python = 'env LD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 "%s"' % (
            config.asan_runtime, sys.executable)
config.substitutions.append(("%sanitize_flags", sanitize_flags))

# tsan: the C compiler has ThreadSanitizer's runtime (Runtime/threads-tsan.test).
tsan_runtime = subprocess.run(
    [config.c_compiler, "-print-file-name=libclang_rt.tsan-x86_64.a"],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    universal_newlines=True).stdout.strip()
if os.path.isabs(tsan_runtime) and os.path.exists(tsan_runtime):
    config.available_features.add("tsan")
config.substitutions.append(("%python", python))
config.substitutions.append(("%attnc_src", config.attnc_src_root))
config.substitutions.append(("%cc", config.c_compiler))
config.substitutions.append(("%attnc_obj_root", config.attnc_obj_root))
config.substitutions.append(
    ("%attnc_bin", os.path.join(config.attnc_tools_dir, "attnc")))
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
        _flags = _f.read().split()
        if "avx512_bf16" in _flags:
            config.available_features.add("avx512bf16")
        # avx512f: attnc --vector-isa=host sizes the kernels for AVX-512.
        if "avx512f" in _flags:
            config.available_features.add("avx512f")
except OSError:
    pass

# python-numpy: %python has NumPy (the GPU kit's self-test, bench/gpu).
import subprocess as _subprocess
try:
    if _subprocess.run([python, "-c", "import numpy"],
                       stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL,
                       timeout=60).returncode == 0:
        config.available_features.add("python-numpy")
except (OSError, _subprocess.SubprocessError):
    pass

# auto-bf16-dots: attnc --dot-precision=auto gives bf16 models bf16 dot
# products on this host (AVX512-BF16 faster than f32 FMAs: AMD Zen; or AMX
# tiles), as `attnc --version` says.
try:
    _version = _subprocess.run(
        [os.path.join(config.attnc_tools_dir, "attnc"), "--version"],
        stdout=_subprocess.PIPE, stderr=_subprocess.DEVNULL, timeout=60,
        universal_newlines=True).stdout
    if "gives bf16 models bf16 dot products" in _version:
        config.available_features.add("auto-bf16-dots")
    # amx-bf16: attnc --dot-precision=bf16 puts whole tiles on the AMX tile
    # unit (the host has AMX-BF16 and the OS saves its state).
    if "AMX-BF16: yes" in _version:
        config.available_features.add("amx-bf16")
except (OSError, _subprocess.SubprocessError):
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
