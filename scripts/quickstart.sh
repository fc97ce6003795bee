#!/usr/bin/env bash
# Set-up and first run: installs what is missing, builds attnc, compiles
# examples/transformer.attn (multi-head causal self-attention) to
# build/examples/libtransformer.so and runs the host program
# examples/host/transformer_main.c on generated data: it prints outputs and
# the maximum error against a double-precision reference.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

echo "== attnc examples/transformer.attn -o $BUILD_DIR/examples/libtransformer.so"
"$BUILD_DIR/bin/attnc" "$ROOT/examples/transformer.attn" \
  -o "$BUILD_DIR/examples/libtransformer.so"
echo "== running the host program"
"$BUILD_DIR/bin/transformer-main" "$@"
