#!/usr/bin/env bash
# End-to-end demo on the bundled fixture: track a dataset and a checkpoint, change the data, see it in
# status, commit both versions, then travel back to v1 and check the bytes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mlx() { node "$here/bin/mlx.js" "$@"; }
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/mlx-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -r "$here/fixtures/tiny-experiment/." "$work/"
cd "$work"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com

step git init; git init -q -b main
step mlx init; mlx init
step mlx add data/train model.ckpt; mlx add data/train model.ckpt
step cat data/train.mlx; cat data/train.mlx
git add .mlx data/train.mlx model.ckpt.mlx .gitignore params.yaml train.mjs && git commit -qm v1
v1_sum="$(cd data/train && find . -type f | sort | xargs sha256sum | sha256sum)"

step "edit data/train/class1/sample003.csv"; echo "0.1,0.2,1" >> data/train/class1/sample003.csv
step mlx status; mlx status
step mlx add data/train; mlx add data/train
git commit -qam v2
step git diff HEAD~1 -- data/train.mlx; git --no-pager diff HEAD~1 -- data/train.mlx

step "git checkout HEAD~1 -- data/train.mlx && mlx checkout data/train"
git checkout -q HEAD~1 -- data/train.mlx
mlx checkout data/train
v1_again="$(cd data/train && find . -type f | sort | xargs sha256sum | sha256sum)"
if [ "$v1_sum" != "$v1_again" ]; then echo "demo FAILED: data/train differs from v1" >&2; exit 1; fi
step mlx status; mlx status

step "git checkout HEAD -- data/train.mlx && mlx checkout"
git checkout -q HEAD -- data/train.mlx
mlx checkout
step "mlx remote add -d storage $work-store && mlx push"
mlx remote add -d storage "$work-store"
mlx push
git add .mlx/config.yaml && git commit -qm "add remote"
step "git clone . fresh && cd fresh && mlx pull"
trap 'rm -rf "$work" "$work-fresh" "$work-store" "$work-charts"' EXIT
git clone -q "$work" "$work-fresh"
(cd "$work-fresh" && mlx pull)
sums() { (cd "$1" && find . -type f | sort | xargs sha256sum | sha256sum); }
if [ "$(sums data/train)" != "$(sums "$work-fresh/data/train")" ]; then echo "demo FAILED: the fresh clone's data differs" >&2; exit 1; fi
cmp model.ckpt "$work-fresh/model.ckpt"
step "mlx run -n train -d data/train -d train.mjs -p params.yaml:lr,epochs -o out/model.json -M out/metrics.json -M out/history.csv --seed 42 -- node train.mjs"
mlx run -n train -d data/train -d train.mjs -p params.yaml:lr,epochs -o out/model.json -M out/metrics.json -M out/history.csv --seed 42 -- node train.mjs
git add mlx.lock out/model.json.mlx out/metrics.json out/history.csv .gitignore && git commit -qm "train, lr 0.05"
sed -i.bak 's/^lr: .*/lr: 0.1/' params.yaml && rm -f params.yaml.bak
step "edit params.yaml (lr: 0.1) && mlx repro"; mlx repro
git add -A && git commit -qm "train, lr 0.1"
step mlx runs; mlx runs
step "mlx runs --compare --all"; mlx runs --compare --all
step "mlx plots --all -m loss"; mlx plots --all -m loss
step "mlx plots --all -o $work-charts"; mlx plots --all -o "$work-charts"
if ! grep -q 'class="series"' "$work-charts/history-loss.svg"; then echo "demo FAILED: no loss chart was written" >&2; exit 1; fi
step "mlx report HEAD~1 --html $work-charts/report.html"; mlx report HEAD~1 --html "$work-charts/report.html"
step "mlx repro --verify train"; mlx repro --verify train
step "mlx lineage out/model.json"; mlx lineage out/model.json
step "mlx report HEAD~1 --md"; mlx report HEAD~1 --md
step mlx doctor; mlx doctor
printf '\n\033[1mdemo OK:\033[0m data/train is byte for byte v1 again, a fresh clone pulled v2 byte for byte, and the training run is recorded, reproducible and reviewable.\n'
