#!/usr/bin/env bash
# attnc against PyTorch and ONNX Runtime in one run: see bench/peers.py.
#   bash bench/peers.sh [--quick] [--threads 1,2] [--attnc build/bin/attnc] ...
# Creates build/peers-venv (torch, onnxruntime, onnx, numpy from PyPI) the
# first time; the tests never use it.
set -euo pipefail
exec python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/peers.py" "$@"
