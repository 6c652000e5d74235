#!/usr/bin/env bash
# `make demo`: the embedded default end to end on scenes built from
# Fashion-MNIST (configs/scenes-quick.yaml): generate and check the scenes,
# then `regal experiment`: pretraining, the two RALis policies, every method
# at every budget and seed, results, figures and report.html. An interrupted
# demo continues where it stopped; a run whose data or config changed is
# kept aside and started over (see run_experiment).
set -euo pipefail
regal=${1:?usage: demo.sh path/to/regal}
config=configs/scenes-quick.yaml
out=runs/scenes-quick/experiment
start=$(date +%s)

"$regal" make-scenes --config "$config"
"$regal" inspect-dataset --type folder --root data/scenes-quick/target --split val
threads=$(nproc)

# Runs the experiment; when regal refuses to continue it because the data,
# the config or the pretrained net changed under the run (e.g. a newer regal
# regenerated the scenes), the old directory is kept under a .stale-<time>
# name and the experiment starts over; any other failure stops the demo.
# The refusals that mean so (tests/experiment/demo_script.h reads this line):
restart_pattern="start a new run directory|with another config|another pretrained net|made from another policy"
run_experiment() {
  local output
  output=$(mktemp)
  # regal logs to stdout and draws progress on stderr: keep both (pipefail
  # makes the status regal's).
  if "$regal" experiment --config "$config" --out "$out" --threads "$threads" 2>&1 | tee "$output"; then
    rm -f "$output"
    return
  fi
  if grep -qE "$restart_pattern" "$output"; then
    rm -f "$output"
    local stale
    stale="$out.stale-$(date +%Y%m%d-%H%M%S)"
    mv "$out" "$stale"
    echo "demo: the data, config or pretrained net changed since $out was started; kept it as $stale, starting over"
    "$regal" experiment --config "$config" --out "$out" --threads "$threads"
  else
    rm -f "$output"
    return 1
  fi
}
run_experiment

echo
echo "demo finished in $(( $(date +%s) - start ))s"
echo "  results: $out/results.csv (per unit), $out/summary.csv (mean and std over seeds)"
echo "  figures: $out/figures/"
echo "  report:  $out/report.html"
