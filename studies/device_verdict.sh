#!/usr/bin/env bash
# The bench verdict at the exact arm's operating point (docs/bench.md's GPU pilot: 2-128-128-1
# SiLU, exact samples on a 160 x 160 grid), prepared for a lent GPU; not yet run. One process per
# toy, all on the GPU at once, each a fixed budget (not wall seconds), 5 seeds, CD and the f below.
#   run from the repository root on the device machine: bash studies/device_verdict.sh BUDGET_M [METHODS]
#   BUDGET_M: millions of counted evaluations per run; the grid arm charges 160² + 512 a CD step,
#   so 200 is about 7,600 CD steps (the pilot's 25 Gaussians met the target at 6,624).
#   DEVICE=cpu PYTHON=.venv/bin/python runs it here (a dry run at a tiny budget).
# Results: $OUT/verdict.tar.gz (each toy's `febm bench --plot` folder and log).
set -u
BUDGET=${1:?budget in millions}
METHODS=${2:-cd,kl,reverse_kl,jensen_shannon,gan,squared_hellinger,alpha=-0.5,alpha=0.5,pearson_chi2}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/verdict /tmp/pkg/febm
cp febm/*.py /tmp/pkg/febm/ && for d in divergences toy_models dynamics; do ln -sfn "$PWD/$d" /tmp/pkg/febm/$d; done
export PYTHONPATH=/tmp/pkg PYTHONUNBUFFERED=1
for toy in 8gaussians 25gaussians moons rings; do
  "${PYTHON:-python3}" -P -m febm --threads 1 bench toy2d "$toy" --methods "$METHODS" --seeds 5 --budget "$BUDGET" \
    --hidden 128,128 --activation silu --sampler grid --sampler-grid 160 --device "${DEVICE:-cuda}" --json \
    --plot /tmp/verdict/$toy > /tmp/verdict/$toy.log 2>&1 &
done
wait
tar czf "$OUT/verdict.tar.gz" -C /tmp verdict
tail -n 2 /tmp/verdict/*.log
