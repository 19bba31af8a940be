#!/usr/bin/env bash
# The Path-SGD step inside DJL against DJL's own SGD step (docs/djl.md, "Speed"): 784-H-H-10, batch 100, 1 and 2
# threads (PyTorch's intra-op threads and pathsgd's OpenBLAS threads), with OpenBLAS's detected kernel and with
# OPENBLAS_CORETYPE=Haswell. Run from the repository root: djl/bench.sh [H ...] (default 1000 4000).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -q -pl djl -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt \
  -Dmdep.includeScope=test
CP=djl/target/test-classes:djl/target/classes:$(cat djl/target/cp.txt)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 4000)
for blas in detected Haswell; do
  for H in "${sizes[@]}"; do
    for T in 1 2; do
      if [ "$H" -le 1000 ]; then S=10; R=5; else S=5; R=3; fi
      if [ $blas = detected ]; then E=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE); else E=(env OPENBLAS_CORETYPE=Haswell); fi
      echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
      "${E[@]}" DJL_CACHE_DIR=djl/target/djl-cache OPENBLAS_THREAD_TIMEOUT=20 nice java -Xmx6g \
        --add-modules jdk.incubator.vector -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=$T \
        -Dai.djl.pytorch.num_interop_threads=1 -cp "$CP" io.github.pathsgd.djl.DjlStepBench "$H" $T $S $R 2>&1 \
        | grep "784-"
    done
  done
done
