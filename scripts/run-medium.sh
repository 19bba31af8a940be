#!/usr/bin/env bash
# The medium-scale reproduction (docs/experiments.md, "Medium scale"): the size (E1), rescaling (E2) and compare
# (E3/E4) sweeps on MNIST and CIFAR-10 with 3 seeds, into results/medium/<experiment>/, then the figures,
# report.md and report.html of each, and results/medium/PROVENANCE.md (commit, machine, kernel, threads, times).
#
# Resumable: after a kill (Ctrl-C, kill -9, a reboot) run the same command again; finished runs are skipped and an
# unfinished one resumes from its last epoch checkpoint. Runs nice'd, --jobs 2 (one BLAS thread per run).
#
#   scripts/run-medium.sh                         # all three: size, rescaling, compare (about 11 CPU hours)
#   scripts/run-medium.sh compare                 # only some, in the order given
#   JOBS=1 OUT=/tmp/medium scripts/run-medium.sh rescaling
#   OUT=/tmp/slice SET="scales.medium.base.epochs=1" scripts/run-medium.sh rescaling   # a slice (another OUT!)
#
# Environment: OUT (results/medium), JOBS (2), NICE (10), DATA (../shared/data, holding mnist-convnetjs and
# cifar10-jpeg), SEEDS (3), SET (one --set KEY=VALUE, optional), PATHSGD_JAVA_OPTS (-Xmx12g), SCALE (medium; the
# README's quick-scale results: SCALE=quick SEEDS=1 OUT=results/quick scripts/run-medium.sh, about 15 minutes).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$here"
SCALE="${SCALE:-medium}"
OUT="${OUT:-results/$SCALE}"
JOBS="${JOBS:-2}"
NICE="${NICE:-10}"
SEEDS="${SEEDS:-3}"
DATA="${DATA:-$here/../shared/data}"
experiments=("$@")
if [ ${#experiments[@]} -eq 0 ]; then
  experiments=(size rescaling compare)
fi
for e in "${experiments[@]}"; do
  case "$e" in size|rescaling|compare) ;; *) echo "run-medium.sh: unknown experiment '$e' (size, rescaling, compare)" >&2; exit 2;; esac
done
for d in mnist-convnetjs cifar10-jpeg; do
  if [ ! -d "$DATA/$d" ]; then
    echo "run-medium.sh: $DATA/$d not found (set DATA to the folder holding mnist-convnetjs and cifar10-jpeg)" >&2
    exit 2
  fi
done
mkdir -p "$OUT"
# one data folder with a subfolder per data set: mnist = the full official training set + 3,000 official test
# images, cifar10 = the 25,000-image JPEG copy
data="$OUT/.data"
mkdir -p "$data"
ln -sfn "$(readlink -f "$DATA/mnist-convnetjs")" "$data/mnist"
ln -sfn "$(readlink -f "$DATA/cifar10-jpeg")" "$data/cifar10"
# one jar for the whole reproduction: built from this checkout the first time, then reused on every resume, so that
# later edits of the checkout do not change a half-finished sweep
jar="$OUT/.pathsgd.jar"
if [ ! -f "$jar" ]; then
  ./pathsgd --version >/dev/null
  cp cli/target/pathsgd.jar "$jar"
  git rev-parse HEAD > "$OUT/.commit" 2>/dev/null || echo unknown > "$OUT/.commit"
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then echo "(with uncommitted changes)" >> "$OUT/.commit"; fi
fi
export OPENBLAS_THREAD_TIMEOUT="${OPENBLAS_THREAD_TIMEOUT:-20}"
export CI=true # one plain line per run and epoch, for the log
java_cmd=(java ${PATHSGD_JAVA_OPTS:--Xmx12g} --add-modules jdk.incubator.vector -jar "$jar")
sets=()
if [ -n "${SET:-}" ]; then sets=(--set "$SET"); fi
for e in "${experiments[@]}"; do
  mkdir -p "$OUT/$e"
  echo "== $e: $(date -u +%FT%TZ) start" | tee -a "$OUT/$e/sweep.log"
  start=$(date +%s)
  status=0
  /usr/bin/time -f "$e: cpu_user %U s, cpu_sys %S s, wall %e s, exit %x" -a -o "$OUT/$e/cpu-time.txt" \
    nice -n "$NICE" "${java_cmd[@]}" experiments run "$e" --scale "$SCALE" --seeds "$SEEDS" --jobs "$JOBS" \
    --out "$OUT/$e" --data-dir "$data" "${sets[@]}" 2>&1 | tee -a "$OUT/$e/sweep.log" || status=$?
  echo "== $e: $(date -u +%FT%TZ) end, exit $status, $(( $(date +%s) - start )) s wall" | tee -a "$OUT/$e/sweep.log"
  # a sweep that ended with exit status 0 has every run finished: its verdicts go into CLAIMS.md and the README
  if [ "$status" -eq 0 ]; then date -u +%FT%TZ > "$OUT/$e/COMPLETE"; fi
  nice -n "$NICE" "${java_cmd[@]}" report --in "$OUT/$e" 2>&1 | tee -a "$OUT/$e/sweep.log" || true
done
# provenance of the whole reproduction
{
  echo "# Provenance of the $SCALE-scale results"
  echo
  echo "- written: $(date -u +%FT%TZ) by scripts/run-medium.sh ${experiments[*]}"
  echo "- pathsgd commit: $(tr '\n' ' ' < "$OUT/.commit")"
  echo "- machine: $(uname -srvmo); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(nproc) cores; $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "- java: $(java -version 2>&1 | head -1)"
  echo "- threads: --jobs $JOBS runs at once, one OpenBLAS thread each (noise-floor runs: their own pinned counts); OPENBLAS_THREAD_TIMEOUT=$OPENBLAS_THREAD_TIMEOUT; nice $NICE"
  for e in size rescaling compare; do
    [ -f "$OUT/$e/runs.jsonl" ] || continue
    echo "- $e: $(wc -l < "$OUT/$e/runs.jsonl") runs; BLAS $(grep -o '"blas":"[^"]*"' "$OUT/$e/runs.jsonl" | sort -u | sed 's/"blas"://' | tr '\n' ' ')"
    echo "  - training seconds summed over runs and epochs (timings.csv): $(awk -F, 'NR>1 {s+=$3} END {printf "%.0f", s}' "$OUT/$e/timings.csv")"
    [ -f "$OUT/$e/cpu-time.txt" ] && sed 's/^/  - \/usr\/bin\/time of an invocation: /' "$OUT/$e/cpu-time.txt"
  done
} > "$OUT/PROVENANCE.md"
# the claims tables of every finished experiment: $OUT/CLAIMS.md, and the README's generated block for results/medium
if [ "$OUT" = results/medium ]; then
  "${java_cmd[@]}" report --summary "$OUT" --readme README.md || true
else
  "${java_cmd[@]}" report --summary "$OUT" || true
fi
echo "results in $OUT: $(ls "$OUT" | tr '\n' ' ')"
