#!/usr/bin/env bash
# Rebuild this example: synthetic LFW and YTF, three descriptors run on each by the real run
# path, then `fverify report`. Run from the repository root; takes about a minute on 2 cores.
set -euo pipefail
here=reports/example-report
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
fverify synth lfw "$data/lfw" --folds 10 --pairs-per-fold 30 --seed 0
fverify synth ytf "$data/ytf" --splits 10 --pairs-per-split 10 --seed 0
rm -rf reports/runs/example-* "$here/report"
names=()
for model in pixels_coarse pixels_fine gradients; do
    fverify lfw --data "$data/lfw" --pairs "$data/lfw/pairs.txt" --model "$here/models.py:$model" \
        --out "reports/runs/example-lfw-$model" --no-cache --no-progress
    fverify ytf --data "$data/ytf" --splits "$data/ytf/splits.txt" --model "$here/models.py:$model" \
        --out "reports/runs/example-ytf-$model" --no-cache --no-progress
done
label() { case $1 in pixels_coarse) echo "pixels 14x14";; pixels_fine) echo "pixels 28x28";; gradients) echo "gradient histograms";; esac; }
for run in reports/runs/example-*; do names+=(--name "$run=$(label "${run#reports/runs/example-???-}")"); done
fverify report reports/runs/example-* --out "$here/report" --baseline "pixels 14x14" "${names[@]}"
