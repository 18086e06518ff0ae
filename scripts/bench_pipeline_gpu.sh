#!/usr/bin/env bash
# The H100 measurements of reports/bench/pipeline*.json, as they were run (runs 8-12 of
# pipeline_h100_variants.json). Needs voxrepro's dependencies importable (pip install -e .).
#
#   OUT=/tmp/bench VARIANTS="w16:16:32 d16:16:32:--decode-device=cuda" LABEL=h100 \
#       bash scripts/bench_pipeline_gpu.sh
#   # one GPU of a multi-GPU host:
#   GPUS=0 VARIANTS="w28:28:56 w31:31:62" LABEL=h100_32cpu bash scripts/bench_pipeline_gpu.sh
#
# VARIANTS: name:workers:videos[:extra bench_pipeline.py flags], each an end-to-end run
# (e2e_<name>.json); then the full benchmark (stages + end to end) with the fastest variant's
# workers, merged into $OUT/pipeline.json under LABEL (FULL=0 skips it).
set -u
OUT=${OUT:?set OUT to a folder for the results}
mkdir -p "$OUT"
[ -n "${GPUS:-}" ] && export CUDA_VISIBLE_DEVICES=$GPUS
nvidia-cuda-mps-control -d 2>/dev/null  # worker processes share the GPU (already running: fine)
nproc; nvidia-smi -L
# DEVICE=cpu FP16= FRAMES=50 EB=8 runs it without a GPU (a smoke test of the script itself).
COMMON="--device ${DEVICE:-cuda} --frames ${FRAMES:-750} --batch-size 256 --e2e-batch-size ${EB:-64} ${FP16---fp16} --threads 1"
best=0; best_args=""
for spec in ${VARIANTS:-"w16:16:32"}; do
    IFS=: read -r name workers videos extra <<< "$spec"
    echo "== $name: --workers $workers --videos $videos $extra"
    python3 scripts/bench_pipeline.py $COMMON --skip-stages --workers "$workers" \
        --videos "$videos" $extra > "$OUT/e2e_$name.json" 2> "$OUT/e2e_$name.err"
    fps=$(python3 -c "import json,sys; t=open(sys.argv[1]).read(); d=json.loads(t[t.index('{'):]); print(int(d['fps'])); print(d['worker_cpu_ms_per_frame'], 'ms CPU a frame;', len(d['failed']), 'failed', file=sys.stderr)" "$OUT/e2e_$name.json" || echo 0)
    echo "$name: $fps frames/s"
    if [ "$fps" -gt "$best" ]; then best=$fps; best_args="--workers $workers --videos $videos $extra"; fi
done
if [ "${FULL:-1}" = 1 ] && [ -n "$best_args" ]; then
    [ -f "$OUT/pipeline.json" ] || cp reports/bench/pipeline.json "$OUT/pipeline.json"
    python3 scripts/bench_pipeline.py $COMMON --label "${LABEL:-h100}" --detect-frames 3072 \
        --stage-threads 8 $best_args --out "$OUT/pipeline.json" > "$OUT/full.log" 2>&1
    tail -1 "$OUT/full.log"
fi
