#!/usr/bin/env bash
# Issue 15, item 4: the GPU measurements, in at most about 8 minutes on one GPU.
#
#   bash benchmarks/gpu_check.sh [OUT_DIR]       # default OUT_DIR: gpu-check
#   SMOKE=1 bash benchmarks/gpu_check.sh /tmp/x  # tiny sizes: checks the wiring (CPU is fine)
#
# Writes, under OUT_DIR:
#   device.txt            nvidia-smi, the detected device kind, --precision auto's choice
#   table_<size>/         float32 + mixed_float16, XLA off/on, batch 1/4, the authors'
#                         network (deep generator), against the authors' loop; 256, 512, 1024 px
#   fast_paths/           the whole step with the GPU row of solar_euv.device.FAST_PATHS
#                         (table), every path off (off) and every CPU path on
#                         (cpu-avx512-bf16), side by side: fills the "gpu" row
#   layers_float32.txt    every fast layer against the Keras (cuDNN) layer it replaces
#   layers_mixed_float16.txt
#   pipeline.txt, .json   the input pipeline's examples/s at 1024 px
#   summary.txt           steps/s at 1024 px batch 1, the time of 500,000 steps, and
#                         the pipeline against the fastest training configuration
# Each part has its own time limit (under 8 minutes in all), so one slow part cannot eat the others.
set -u
OUT=${1:-gpu-check}
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL=2
PY=${PYTHON:-python}

if [ "${SMOKE:-0}" = 1 ]; then
    SIZES="64"; BIG=64; BATCHES=1; FILTERS=4; ROUNDS=1; STEPS=1; WARM=1; REPEAT=1
    LAYERS="--what bn"; PIPE="--sizes 64 --seconds 1 --examples 8"; SCALE=5  # a CPU is slow
else
    SIZES="256 512 1024"; BIG=1024; BATCHES=1,4; FILTERS=64; ROUNDS=2; STEPS=5; WARM=2
    REPEAT=15; LAYERS=""; PIPE="--sizes 1024 --seconds 5"; SCALE=1
fi
limit() {  # seconds for a part of this size: 90 at 256 px ... 130 at 1024 px
    case "$1" in 1024) echo $((130 * SCALE));; 512) echo $((100 * SCALE));;
                 *) echo $((90 * SCALE));; esac
}
{
    nvidia-smi 2>&1 || echo "nvidia-smi: not available"
    "$PY" - <<'EOF'
from solar_euv.device import device_kind, fast_paths, gpu_compute_capability, resolve_precision
print("device kind:", device_kind(), "compute capability:", gpu_compute_capability())
print("fast paths:", fast_paths())
print("--precision auto ->", resolve_precision("auto"))
EOF
} > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"

# 1. The item-4 table, one run per size (a size that outlasts its limit
#    loses only its own rows; XLA compiles dominate).
for size in $SIZES; do
    timeout "$(limit "$size")" "$PY" -m benchmarks run --models B --sizes "$size" \
        --batches "$BATCHES" \
        --precisions float32,mixed_float16 --xla off,on --rounds "$ROUNDS" --steps "$STEPS" \
        --warmup "$WARM" --bottleneck 1 --base-filters "$FILTERS" --matmul-size 1024 \
        --no-data --out "$OUT/table_$size" || echo "table $size px: exit status $?"
done

# 2. The fast paths on this GPU, whole steps side by side (no XLA).
timeout $((70 * SCALE)) "$PY" -m benchmarks run --models B --sizes "$BIG" --batches 1 \
    --precisions float32,mixed_float16 --xla off --rounds "$ROUNDS" --steps "$STEPS" \
    --warmup "$WARM" --bottleneck 1 --base-filters "$FILTERS" --matmul-size 1024 --no-data \
    --fast-paths table,off,cpu-avx512-bf16 --no-authors --out "$OUT/fast_paths" \
    || echo "fast_paths: exit status $?"

# 3. Every fast layer against the Keras layer (cuDNN), both precisions.
for precision in float32 mixed_float16; do
    timeout $((35 * SCALE)) "$PY" benchmarks/layer_speed.py $LAYERS --precision "$precision" \
        --repeat "$REPEAT" --json "$OUT/layers_$precision.json" > "$OUT/layers_$precision.txt" \
        2>&1 || echo "layers $precision: exit status $?"
    cat "$OUT/layers_$precision.txt"
done

# 4. The input pipeline at 1024 px (examples/s from TFRecord shards, one and nine passbands).
timeout $((30 * SCALE)) "$PY" benchmarks/pipeline_speed.py $PIPE --json "$OUT/pipeline.json" \
    > "$OUT/pipeline.txt" 2>&1 || echo "pipeline: exit status $?"
cat "$OUT/pipeline.txt"

# 5. 1024 px batch 1: steps/s, the paper's 500,000 steps, and whether the pipeline keeps up.
"$PY" - "$OUT" "$BIG" <<'EOF' | tee "$OUT/summary.txt"
import json, pathlib, sys
out, size = pathlib.Path(sys.argv[1]), int(sys.argv[2])
path = out / f"table_{size}" / "train_speed.json"
if not path.is_file():
    sys.exit(f"no {path}: the table did not finish")
result = json.loads(path.read_text())
print("device:", result["machine"]["device"], "kind:", result["machine"].get("device_kind"))
for row in result["rows"]:
    if row["size"] == size and row["batch"] == 1:
        hours = 500_000 * row["step_seconds"] / 3600
        print(f"{row['key']}: {row['steps_per_s']:.2f} steps/s, 500,000 steps in "
              f"{hours:.1f} h ({hours / 24:.2f} days)")
fastest = max((r["images_per_s"] for r in result["rows"]
               if r["size"] == size and r["loop"] == "project"), default=None)
pipeline = out / "pipeline.json"
for row in json.loads(pipeline.read_text()) if pipeline.is_file() else []:
    if row["size"] == size and fastest:
        print(f"pipeline {row['size']} px, {row['target']}: {row['examples_per_s']:.1f} "
              f"examples/s = {row['examples_per_s'] / fastest:.1f}x the fastest training "
              f"configuration ({fastest:.2f} images/s): "
              + ("keeps up" if row["examples_per_s"] >= fastest else "DOES NOT keep up"))
EOF
echo "written under $OUT"
