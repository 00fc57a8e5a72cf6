#!/usr/bin/env bash
# The GPU check of issue 10 (CI has no GPU): run from the repository root on a CUDA machine whose python has
# bench3d and a CUDA torch. Every method's pretraining steps and every task's step on CUDA with --amp off,
# bf16 and fp16 (time, peak memory), a `torchrun --nproc_per_node 1` run, and the real-frame steps.
# Results land in ${OUT:-gpu_check}/.
set -euo pipefail
OUT=${OUT:-gpu_check}
PY=${PY:-python}
mkdir -p "$OUT"
$PY -m bench3d synth --out "$OUT/world" --scenes 4 --samples-per-scene 4 --image-size 112x200 > /dev/null
$PY -m bench3d bench device --device cuda --dataroot "$OUT/world" --out "$OUT/device.json" > /dev/null || status=$?
/usr/bin/time -v $PY -m torch.distributed.run --standalone --nproc_per_node 1 -m bench3d run --method scalr \
  --protocol linear_probe --fraction 1 --draw 0 --seed 0 --pretrain-seed 0 --device cuda --amp bf16 \
  --dataroot "$OUT/world" --results "$OUT/store" > "$OUT/torchrun.log" 2>&1
if [ -d ../shared/real-nuscenes-frame ]; then
  $PY -m bench3d bench frame-step --dataroot ../shared/real-nuscenes-frame --device cuda > "$OUT/frame_step.json"
fi
exit "${status:-0}"
