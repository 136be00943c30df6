#!/usr/bin/env bash
# The DAML checkpoints, from nothing: paired robot + human push and place datasets, then
# the temporal-loss push model on human videos, the temporal and linear models on robot
# videos (thesis Table 8) and the Sawyer placing model on human videos (Table 6), one after
# another with the thesis-scale preset (three trainings at once on one GPU machine starved
# each other's CPU threads: see the README's GPU section).
#
#   scripts/train-daml.sh DATA OUT MINUTES [TASKS] [extra `oneshot train daml` options]
#
# MINUTES is each model's wall-clock budget (the learning rate anneals on it). Run on a
# machine with a GPU; for a CPU smoke run add `--device cpu --meta-batch 2`.
set -euo pipefail
data=$1 out=$2 minutes=$3 tasks=${4:-600}
shift $(( $# < 4 ? $# : 4 ))
python=${PYTHON:-python3}
workers=$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))
mkdir -p "$out"
for family in push place; do
  "$python" -m oneshot datagen "$family" --out "$data/$family" --tasks "$tasks" \
    --demos-per-task 2 --workers "$workers" --seed 0 --no-progress
done
train() {
  local family=$1 name=$2; shift 2
  "$python" -m oneshot train daml --data "$data/$family" --preset gpu --max-minutes "$minutes" \
    --out "$out/$name" "$@" > "$out/$name.log" 2>&1
}
# pushing: no colour augmentation (thesis B.3.6 has none); placing: U[-0.3, 0.3] (B.3.5)
train push daml-push-human --video-from human --early-frames 10 --colour-shift 0 "$@"
train push daml-push-video --video-from robot --early-frames 8 --colour-shift 0 "$@"
train push daml-push-video-linear --video-from robot --loss linear --early-frames 8 --colour-shift 0 "$@"
train place daml-place-human --video-from human --early-frames 14 --early-window 20 "$@"
tail -n 2 "$out"/*.metrics.jsonl
