#!/usr/bin/env bash
# The GPU benchmark, for a machine with a GPU and no cargo: `seqae bench --backend gpu` beside
# PyTorch on CUDA (torch_seq_ae.py --device cuda) in one run, on the standard model (hidden 64,
# length 128, batch 256), for each cell (bench-CELL.json in $OUT), the LSTM once more with the
# reference kernel, then the embeddings of the GPU against the CPU's.
# Build here with `cargo build --release --features gpu`, then run it there from the
# repository root:
#   bash examples/gpu_check.sh [PYTHON] [TORCH_SCRIPT]
# PYTHON (with torch) and TORCH_SCRIPT (../shared/bench/torch_seq_ae.py) are optional: without
# them only seqae runs. SEQAE_BIN names the binary (default target/release/seqae), or its gzip
# (`strip` then `gzip -9` shrink the GPU build from about 89 MB to about 18 MB for the trip).
# It needs the Vulkan loader (libvulkan.so.1) and the GPU's Vulkan driver: run it through
# `SEQAE_VULKAN=system bash examples/gpu_env.sh`, which finds them (SEQAE_VULKAN_DEBS there
# brings the loader to a machine without it).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=${SEQAE_BIN:-target/release/seqae}
if [[ $bin == *.gz ]]; then
    gunzip -c "$bin" > "$tmp/seqae"
    chmod +x "$tmp/seqae"
    bin=$tmp/seqae
fi
python=${1:-}
script=${2:-}
out=${OUT:-target/gpu-check}
# The sequences and their length: the standard run's unless set (small ones rehearse the
# script on lavapipe: SEQAE_CHECK_N=64 SEQAE_CHECK_LEN=16 bash examples/gpu_env.sh bash $0).
n=${SEQAE_CHECK_N:-4096}
len=${SEQAE_CHECK_LEN:-128}
mkdir -p "$out"
"$bin" --version
peer=()
if [ -n "$python" ] && [ -n "$script" ]; then
    peer=(--peer "$python" --peer-script "$script")
    "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
fi
# One run per cell (the device's time is short): the JSON keeps every figure, and a line of it
# is printed.
for cell in lstm gru rnn; do
    "$bin" bench --backend gpu --cell "$cell" --n "$n" --len "$len" --dim 3 --hidden 64 --batch 256 \
        --epochs 2 --runs 1 "${peer[@]}" --json > "$out/bench-$cell.json"
    python3 - "$out/bench-$cell.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
peer = v.get("peer") or {}
layers = "fused" if v["fused_layers"] else "reference"
print(f'{v["cell"]} on {v["device"]} ({layers} layers): train {v["train_seq_per_s"]:.0f} seq/s, '
      f'encode {v["encode_seq_per_s"]:.0f} seq/s; PyTorch train {peer.get("train_seq_per_s", float("nan")):.0f}, '
      f'encode {peer.get("encode_seq_per_s", float("nan")):.0f}; ratios {v.get("train_ratio")}, {v.get("encode_ratio")}')
PY
done
# The reference kernel (burn's stock tensor operations, one small kernel per operation and step)
# on the same GPU: the fused kernels' speed-up over it, in this run. A short run: it is slow.
"$bin" bench --backend gpu --kernel reference --cell lstm --n $((n / 8)) --len "$len" --dim 3 --hidden 64 \
    --batch 256 --epochs 1 --runs 1 --json > "$out/bench-lstm-reference.json"
python3 - "$out/bench-lstm-reference.json" "$out/bench-lstm.json" <<'PY'
import json, sys
ref, fused = (json.load(open(p)) for p in sys.argv[1:])
print(f'lstm reference kernel: train {ref["train_seq_per_s"]:.0f} seq/s, encode {ref["encode_seq_per_s"]:.0f} seq/s; '
      f'fused / reference: train {fused["train_seq_per_s"] / ref["train_seq_per_s"]:.1f}x, '
      f'encode {fused["encode_seq_per_s"] / ref["encode_seq_per_s"]:.1f}x')
PY
# Embeddings on the GPU against the CPU's, from one model (the demo's data).
"$bin" train datasets/BasicMotions --out "$out/model" --epochs 5 --backend gpu --force --quiet
"$bin" embed "$out/model" datasets/BasicMotions --out "$out/cpu.csv" --force
"$bin" embed "$out/model" datasets/BasicMotions --out "$out/gpu.csv" --backend gpu --force
python3 - "$out/cpu.csv" "$out/gpu.csv" <<'PY'
import csv, sys
tables = [list(csv.DictReader(open(p))) for p in sys.argv[1:]]
cols = [c for c in tables[0][0] if c.startswith("z")]
worst = max(abs(float(a[c]) - float(b[c])) / (1 + abs(float(a[c])))
            for a, b in zip(*tables) for c in cols)
print(f"embeddings, GPU against CPU: largest relative difference {worst:.2e} over {len(tables[0])} rows")
PY
