#!/usr/bin/env bash
# One device call: the CUDA tests, the operating-point pilot on the GPU (every
# configuration of studies/operating_point.py on every toy, all at once, each given the same wall
# seconds), and one bench cell on the CPU and on CUDA. Results go to $OUT as one tarball.
#   run from the repository root on the device machine: bash studies/device_pilot.sh SECONDS
#   JOBS="CONFIG:TOY ..." runs only those jobs; QUICK=1 leaves out the tests and the CPU/CUDA cell.
set -u
SECONDS_EACH=${1:-400}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/pilot /tmp/pkg/febm
# the package without an install: the same layout pyproject's package-dir gives
cp febm/*.py /tmp/pkg/febm/ && for d in divergences toy_models dynamics; do ln -sfn "$PWD/$d" /tmp/pkg/febm/$d; done
export PYTHONPATH=/tmp/pkg PYTHONUNBUFFERED=1
python3 -P -c "import torch, febm; print('torch', torch.__version__, torch.cuda.get_device_name(), febm.__file__)"
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
ALL=$(for c in default wide-tanh wide-silu wide-silu-lr5 deep-silu wide-silu-grid; do
  for t in 8gaussians 25gaussians moons rings; do echo "$c:$t"; done; done)
for job in ${JOBS:-$ALL}; do
  config=${job%%:*} toy=${job#*:}
  timeout $((SECONDS_EACH * 5 / 4 + 30)) python3 -m studies operating_point run $toy $config \
    --seconds "$SECONDS_EACH" --device cuda --seeds 5 --out /tmp/pilot/$config-$toy.json > /tmp/pilot/$config-$toy.log 2>&1 &
done
[ -n "${QUICK:-}" ] || python3 -P -m pytest -q -p no:randomly tests/training/test_train.py -k "cuda or device" 2>&1 | tail -5 > "$OUT/cuda-tests.txt"
cat "$OUT/cuda-tests.txt"
[ -n "${QUICK:-}" ] || python3 -m studies operating_point devices --out /tmp/pilot/devices.json > /tmp/pilot/devices.log 2>&1
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
wait
ls /tmp/pilot
tail -n 3 /tmp/pilot/*.log | tail -40
tar czf "$OUT/pilot.tar.gz" -C /tmp pilot
python3 -m studies operating_point table /tmp/pilot | tee "$OUT/table.md"
