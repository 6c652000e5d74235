#!/usr/bin/env bash
# `make demo`: the embedded default end to end on scenes built from
# Fashion-MNIST (configs/scenes-quick.yaml): generate the scenes, check them,
# pretrain on the source domain, train the fully supervised upper bound on the
# target domain. Interrupted runs continue where they stopped; runs whose
# data changed start over (see train_stage).
set -euo pipefail
regal=${1:?usage: demo.sh path/to/regal}
config=configs/scenes-quick.yaml
start=$(date +%s)

"$regal" make-scenes --config "$config"
"$regal" inspect-dataset --type folder --root data/scenes-quick/target --split val
threads=$(nproc)
# Runs a training stage, resuming its run directory when one was started.
# When regal refuses the resume because the data changed under the run (e.g.
# a newer regal regenerated the scenes), the old directory is kept under a
# .stale-<time> name and the stage starts over; any other failure stops.
train_stage() {
  local command=$1 dir=$2
  if [ ! -f "$dir/last.pt" ]; then
    "$regal" "$command" --config "$config" --threads "$threads"
    return
  fi
  local output
  output=$(mktemp)
  # regal logs to stdout and draws progress on stderr: keep both (pipefail
  # makes the status regal's).
  if "$regal" "$command" --config "$config" --threads "$threads" --resume 2>&1 | tee "$output"; then
    rm -f "$output"
    return
  fi
  if grep -q "start a new run directory" "$output"; then
    rm -f "$output"
    local stale
    stale="$dir.stale-$(date +%Y%m%d-%H%M%S)"
    mv "$dir" "$stale"
    echo "demo: the data changed since $dir was started; kept it as $stale, starting over"
    "$regal" "$command" --config "$config" --threads "$threads"
  else
    rm -f "$output"
    return 1
  fi
}
train_stage pretrain runs/scenes-quick/pretrain
train_stage train-supervised runs/scenes-quick/supervised

echo
echo "demo finished in $(( $(date +%s) - start ))s"
echo "  source-only net:   runs/scenes-quick/pretrain/{summary.json,log.csv,best.pt}"
echo "  fully supervised:  runs/scenes-quick/supervised/{summary.json,log.csv,best.pt}"
