#!/usr/bin/env bash
# The GPU check, for a machine with a GPU and no cargo, in one go:
# 1. the GPU tests (optional): the test binaries built here with the gpu feature, on this GPU;
# 2. `seqae bench --backend gpu` beside PyTorch on CUDA (torch_seq_ae.py --device cuda) on the
#    standard model (hidden 64, length 128, batch 256), for each cell (bench-wgsl-CELL.json in
#    $OUT); the LSTM once more with the reference kernel, with a quarter of the length and with
#    four times the batch (what limits the kernels);
# 3. the embeddings of one model on the GPU against the CPU's;
# then the three cells of step 2 and step 3 with a second binary (optional) built with the
# `vulkan` feature (cubecl's SPIR-V compiler instead of WGSL), and tables of every figure
# (summary.md in $OUT). A step that fails is reported; a binary that fails a step skips its
# other steps, the rest still run, and the status is 1.
# `bash examples/gpu_pack.sh` builds and packs everything it takes into .gl/ here, and prints
# the whole command to run there. Its form, from the repository root:
#   bash examples/gpu_check.sh [PYTHON] [TORCH_SCRIPT]
# PYTHON (with torch) and TORCH_SCRIPT (../shared/bench/torch_seq_ae.py) are optional: without
# them only seqae runs. SEQAE_BIN names the binary built with the `gpu` feature (default
# target/release/seqae), SEQAE_BIN_SPIRV the `vulkan` one, and SEQAE_GPU_TESTS a folder of GPU
# test binaries (`cargo test --release --workspace --features seqae/gpu --lib --test gpu
# --no-run`), each as is or compressed (.xz or .gz).
# It needs the Vulkan loader (libvulkan.so.1) and the GPU's Vulkan driver: run it through
# `SEQAE_VULKAN=system bash examples/gpu_env.sh`, which finds them (SEQAE_VULKAN_DEBS there
# brings the loader to a machine without it).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A step that fails is reported and the others still run (the device's time is short); the
# script's status says at the end whether any failed.
failed=0
try() {
    local status=0
    "$@" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "FAILED (status $status): $*" >&2
        failed=1
    fi
    return "$status"
}

# A runnable path for a binary given as is or compressed (.xz, or .gz; Python's lzma where the
# machine has no xz), or status 1 saying why not.
unpack() {
    local to
    to=$tmp/$(basename "$1")
    to=${to%.*}
    case $1 in
        *.xz) if command -v xz > /dev/null; then xz -dc "$1" > "$to"; else
            python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1" > "$to"; fi ||
            return 1 ;;
        *.gz) gunzip -c "$1" > "$to" || return 1 ;;
        *) to=$1 ;;
    esac
    if [ ! -s "$to" ]; then
        echo "error: $1: no such binary (or an empty one)" >&2
        return 1
    fi
    chmod +x "$to"
    echo "$to"
}
bin=$(unpack "${SEQAE_BIN:-target/release/seqae}")
python=${1:-}
script=${2:-}
out=${OUT:-target/gpu-check}
# The sequences and their length: the standard run's unless set (small ones rehearse the
# script on lavapipe: SEQAE_CHECK_N=64 SEQAE_CHECK_LEN=16 bash examples/gpu_env.sh bash $0).
n=${SEQAE_CHECK_N:-4096}
len=${SEQAE_CHECK_LEN:-128}
mkdir -p "$out"
# Nothing of an earlier run may pass for this one's.
rm -f "$out"/bench-*.json "$out"/cpu-*.csv "$out"/gpu-*.csv "$out"/test-*.log "$out"/*.txt \
    "$out/summary.md"
"$bin" --version
peer=()
if [ -n "$python" ] && [ -n "$script" ]; then
    peer=(--peer "$python" --peer-script "$script")
    # Without torch on CUDA, seqae runs alone.
    try "$python" -c 'import torch; assert torch.cuda.is_available(), "no CUDA"; print("torch", torch.__version__, torch.cuda.get_device_name(0))' ||
        peer=()
fi

# 1. The GPU tests: every output and gradient of the layers against the CPU, a fit and its
# files, the shared-memory fallback, the device's name (the tests whose names hold "gpu"). A
# binary passes when it ran at least one test and none failed; tests.txt keeps each verdict.
if [ -n "${SEQAE_GPU_TESTS:-}" ]; then
    for t in "$SEQAE_GPU_TESTS"/*; do
        name=$(basename "${t%.xz}" .gz)
        log=$out/test-$name.log
        if exe=$(unpack "$t") && "$exe" gpu > "$log" 2>&1 &&
            grep -qE '^test result: ok\. [1-9]' "$log"; then
            echo "tests $name: $(grep -E '^test result' "$log" | tail -n 1)" | tee -a "$out/tests.txt"
        else
            failed=1
            echo "tests $name FAILED (test-$name.log)" | tee -a "$out/tests.txt"
            tail -n 30 "$log" 2> /dev/null || true
        fi
    done
fi

# `seqae bench` on the GPU at the standard model's width, one run, as JSON: bench_gpu BIN JSON
# ARGS (the cell, the sizes, the epochs, and anything else).
bench_gpu() {
    local bin=$1 json=$2
    shift 2
    try "$bin" bench --backend gpu --dim 3 --hidden 64 --runs 1 --json "$@" > "$json"
}

# 2 and 3 for one binary: TAG names its JSON files; the peer (the other arguments) runs beside
# the first binary only (the second's ratios are taken against the same peer figures in the
# summary). Where the peer fails, seqae runs again alone and the peer is dropped. A binary
# that fails a step skips its other steps.
check() {
    local bin=$1 tag=$2
    shift 2
    for cell in lstm gru rnn; do
        local standard=("$bin" "$out/bench-$tag-$cell.json" --cell "$cell" --n "$n" --len "$len"
            --batch 256 --epochs 2)
        if ! bench_gpu "${standard[@]}" "$@"; then
            [ $# -gt 0 ] || return 0
            set --
            bench_gpu "${standard[@]}" || return 0
        fi
    done
    try "$bin" train datasets/BasicMotions --out "$out/model-$tag" --epochs 5 --backend gpu --force --quiet &&
        try "$bin" embed "$out/model-$tag" datasets/BasicMotions --out "$out/cpu-$tag.csv" --force &&
        try "$bin" embed "$out/model-$tag" datasets/BasicMotions --out "$out/gpu-$tag.csv" --backend gpu --force ||
        return 0
}
check "$bin" wgsl "${peer[@]}"
# The reference kernel (burn's stock tensor operations, one small kernel per operation and step)
# on the same GPU: the fused kernels' speed-up over it, in this run. A short run: it is slow.
bench_gpu "$bin" "$out/bench-wgsl-lstm-reference.json" --kernel reference --cell lstm \
    --n $((n / 8)) --len "$len" --batch 256 --epochs 1 || true
# What limits the fused LSTM: a quarter of the length (the time of a step, and what does not
# grow with the length) and four times the batch (whether 256 rows fill the GPU).
bench_gpu "$bin" "$out/bench-wgsl-lstm-short.json" --cell lstm --n "$n" --len $((len / 4)) \
    --batch 256 --epochs 2 || true
bench_gpu "$bin" "$out/bench-wgsl-lstm-wide.json" --cell lstm --n "$n" --len "$len" \
    --batch 1024 --epochs 2 || true
if [ -n "${SEQAE_BIN_SPIRV:-}" ]; then
    if spirv=$(unpack "$SEQAE_BIN_SPIRV"); then
        check "$spirv" spirv
    else
        failed=1
    fi
fi

python3 - "$out" <<'PY' | tee "$out/summary.md"
import csv, json, sys
out = sys.argv[1]
def load(path):
    """A step's JSON, or None where the step failed."""
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None
fmt = lambda x: f"{x:,.0f}" if x else "-"
ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "-"
try:
    print("".join(open(f"{out}/tests.txt")))
except OSError:
    pass
print("| cell | device | layers | train seq/s | encode seq/s | PyTorch train | PyTorch encode | train ratio | encode ratio |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for tag in ("wgsl", "spirv"):
    for cell in ("lstm", "gru", "rnn"):
        v = load(f"{out}/bench-{tag}-{cell}.json")
        if v is None:
            continue
        # The peer ran beside the first binary; the second is compared with those figures.
        peer = (load(f"{out}/bench-wgsl-{cell}.json") or {}).get("peer") or {}
        pt, pe = peer.get("train_seq_per_s"), peer.get("encode_seq_per_s")
        t, e = v["train_seq_per_s"], v["encode_seq_per_s"]
        layers = "fused" if v["fused_layers"] else "reference (fallback)"
        print(f'| {cell} | {v["device"]} | {layers} | {fmt(t)} | {fmt(e)} | {fmt(pt)} | {fmt(pe)} '
              f'| {ratio(t, pt)} | {ratio(e, pe)} |')
ref, fused = load(f"{out}/bench-wgsl-lstm-reference.json"), load(f"{out}/bench-wgsl-lstm.json")
if ref and fused:
    print(f'\nlstm, reference kernel: train {fmt(ref["train_seq_per_s"])} seq/s, encode '
          f'{fmt(ref["encode_seq_per_s"])} seq/s; fused / reference: train '
          f'{ratio(fused["train_seq_per_s"], ref["train_seq_per_s"])}, encode '
          f'{ratio(fused["encode_seq_per_s"], ref["encode_seq_per_s"])}')
# A batch's time against the length (the intercept: what does not grow with it, launches and
# the other layers; the slope: one step of the recurrence) and against the batch.
short, wide = load(f"{out}/bench-wgsl-lstm-short.json"), load(f"{out}/bench-wgsl-lstm-wide.json")
rates = lambda v: all(v and v.get(f"{w}_seq_per_s") for w in ("train", "encode"))
if rates(fused) and rates(short) and rates(wide) and fused["len"] > short["len"]:
    print("\n| lstm, WGSL | length | batch | train ms/batch | encode ms/batch |")
    print("|---|---:|---:|---:|---:|")
    ms = lambda v, what: 1000 * min(v["batch"], v["n"]) / v[f"{what}_seq_per_s"]
    for name, v in (("standard", fused), ("a quarter of the length", short), ("four times the batch", wide)):
        print(f'| {name} | {v["len"]} | {v["batch"]} | {ms(v, "train"):.2f} | {ms(v, "encode"):.3f} |')
    for what in ("train", "encode"):
        steps = fused["len"] - short["len"]
        step = (ms(fused, what) - ms(short, what)) / steps
        fixed = ms(short, what) - short["len"] * step
        print(f'{what}: {1000 * step:.1f} us a step, {fixed:.2f} ms a batch besides the steps; '
              f'batch 1024 against 256: {wide[f"{what}_seq_per_s"] / fused[f"{what}_seq_per_s"]:.2f}x the seq/s')
for tag in ("wgsl", "spirv"):
    try:
        tables = [list(csv.DictReader(open(f"{out}/{side}-{tag}.csv"))) for side in ("cpu", "gpu")]
    except OSError:
        continue
    if not tables[0] or len(tables[0]) != len(tables[1]):
        print(f"\nembeddings ({tag}): the CSV files differ in rows or are empty")
        continue
    cols = [c for c in tables[0][0] if c.startswith("z")]
    worst = max(abs(float(a[c]) - float(b[c])) / (1 + abs(float(a[c])))
                for a, b in zip(*tables) for c in cols)
    print(f"\nembeddings ({tag}), GPU against CPU: largest relative difference {worst:.2e} "
          f"over {len(tables[0])} rows")
PY
if [ "$failed" -ne 0 ]; then
    echo "Some steps FAILED; the log says which." | tee -a "$out/summary.md"
fi
exit "$failed"
