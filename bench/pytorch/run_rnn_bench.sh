#!/bin/bash
# The RNN step benchmark of docs/rnn.md: RnnStepBenchmark (pathsgd) and torch_rnn_step.py (PyTorch nn.RNN), one
# thread, H = 100, (T, B) = (100, 16), (100, 100), (784, 16), (784, 100), under both OpenBLAS kernel settings.
# Run from the repository root after `mvn -B -ntp -q -pl bench -am package -DskipTests`; needs Debian's python3-torch.
set -u
for setting in default haswell; do
  if [ "$setting" = default ]; then envs=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE); else envs=(env OPENBLAS_CORETYPE=Haswell); fi
  echo "=== $setting (${envs[*]})"
  "${envs[@]}" OPENBLAS_THREAD_TIMEOUT=20 java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar \
    io.github.pathsgd.bench.RnnStepBenchmark 1 10 20 100 2>&1 | grep -v '^WARNING'
  for tb in 100,16 100,100 784,16 784,100; do
    (cd bench/pytorch && "${envs[@]}" /usr/bin/python3 torch_rnn_step.py --steps-t "${tb%,*}" --batch "${tb#*,}" \
      --threads 1 --warmup 3 --steps 10)
  done
done
