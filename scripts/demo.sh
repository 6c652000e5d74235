#!/usr/bin/env bash
# `make demo`: the embedded default end to end on scenes built from
# Fashion-MNIST (configs/scenes-quick.yaml): generate the scenes, check them,
# pretrain on the source domain, train the fully supervised upper bound on the
# target domain. Interrupted runs continue where they stopped.
set -euo pipefail
regal=${1:?usage: demo.sh path/to/regal}
config=configs/scenes-quick.yaml
start=$(date +%s)

"$regal" make-scenes --config "$config"
"$regal" inspect-dataset --type folder --root data/scenes-quick/target --split val
resume_if_started() { if [ -f "$1/last.pt" ]; then echo --resume; fi; }
threads=$(nproc)
"$regal" pretrain --config "$config" --threads "$threads" $(resume_if_started runs/scenes-quick/pretrain)
"$regal" train-supervised --config "$config" --threads "$threads" $(resume_if_started runs/scenes-quick/supervised)

echo
echo "demo finished in $(( $(date +%s) - start ))s"
echo "  source-only net:   runs/scenes-quick/pretrain/{summary.json,log.csv,best.pt}"
echo "  fully supervised:  runs/scenes-quick/supervised/{summary.json,log.csv,best.pt}"
