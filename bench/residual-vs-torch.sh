#!/bin/bash
# Residual conv nets (conv(C,3,pad=1), two res(conv(C,3,pad=1),conv(C,3,pad=1)) blocks, maxpool(2), output layer) at
# C = 16, 32 and 64 against PyTorch's same nn.Module (bench/pytorch/torch_step.py; Debian python3-torch), 1 thread,
# batch 50, with OpenBLAS's detected kernel and with OPENBLAS_CORETYPE=Haswell (docs/performance.md). A benchmark,
# not a test: run it on an otherwise idle machine.
# Usage: bench/residual-vs-torch.sh [OUT]   (default out/residual-vs-torch; the jar is built by ./pathsgd if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/residual-vs-torch}"
mkdir -p "$out"
./pathsgd --version > /dev/null
jar=cli/target/pathsgd.jar
r() { echo "conv($1,3,pad=1),res(conv($1,3,pad=1),conv($1,3,pad=1)),res(conv($1,3,pad=1),conv($1,3,pad=1)),maxpool(2)"; }
spec="$(r 16);$(r 32);$(r 64)"
export OPENBLAS_THREAD_TIMEOUT=20
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE java --add-modules jdk.incubator.vector -jar "$jar" bench --conv="$spec" \
  --torch --threads 1 --batch 50 --steps 8 --min-seconds 4 --json "$out/detected.json" | tee "$out/detected.log"
OPENBLAS_CORETYPE=Haswell java --add-modules jdk.incubator.vector -jar "$jar" bench --conv="$spec" \
  --torch --threads 1 --batch 50 --steps 8 --min-seconds 4 --json "$out/haswell.json" | tee "$out/haswell.log"
