#!/usr/bin/env bash
# Packs what examples/gpu_check.sh needs on a GPU machine that has no cargo and no network into
# one folder (default .gl/, ignored by git), from the repository root:
#   bash examples/gpu_pack.sh [FOLDER]
# - seqae-gpu.xz: the release binary with the `gpu` feature (WGSL shaders), stripped and
#   compressed with xz (67 MB stripped, 11 MB packed: the device carries 64 MiB in all);
# - seqae-vulkan.xz: the same with the `vulkan` feature (cubecl's SPIR-V compiler);
# - tests/*.xz: the GPU test binaries (`cargo test --features seqae/gpu --lib --test gpu`);
# - the Vulkan loader as Debian packages (libvulkan1, libglvnd0), for a machine without it;
# - torch_seq_ae.py, the PyTorch peer, when ../shared/bench has it.
# Three release builds with the GPU stack (the first takes about 20 minutes on 2 cores; the
# `vulkan` one builds burn's GPU crates again). It ends by printing the command to run there.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.gl}
mkdir -p "$dir/tests"
rm -f "$dir"/tests/*.xz "$dir"/*.gz "$dir"/tests/*.gz
# A stripped, compressed copy of binary $1 as $2.
pack() {
    strip -o "$dir/.strip" "$1"
    xz -9 -T0 -c "$dir/.strip" > "$2"
    rm -f "$dir/.strip"
    echo "$2: $(du -h "$2" | cut -f1)"
}
cargo build --release --features vulkan
pack target/release/seqae "$dir/seqae-vulkan.xz"
# The test binaries, named by cargo's JSON messages; last, so that the `gpu` build of the binary
# is the one left in target/release.
cargo test --release --workspace --features seqae/gpu --lib --test gpu --no-run \
    --message-format=json-render-diagnostics > "$dir/.messages"
python3 - "$dir/.messages" <<'PY' > "$dir/.tests"
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        if m["target"]["name"] in ("seqae_model", "gpu"):
            print(m["executable"])
PY
rm -f "$dir/.messages"
while read -r t; do
    pack "$t" "$dir/tests/$(basename "$t").xz"
done < "$dir/.tests"
rm -f "$dir/.tests"
cargo build --release --features gpu
pack target/release/seqae "$dir/seqae-gpu.xz"
# The Vulkan loader, for amd64, with package lists of its own (the system's are left alone).
lists=$(mktemp -d)
mkdir -p "$lists/partial"
apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt[@]}" update > /dev/null
(cd "$dir" && apt-get "${apt[@]}" download libvulkan1 libglvnd0 2> /dev/null)
rm -rf "$lists"
[ -f ../shared/bench/torch_seq_ae.py ] && cp -f ../shared/bench/torch_seq_ae.py "$dir/"
du -sh "$dir"
cat <<EOF
Run on the GPU machine, from the repository root, with $dir carried:
SEQAE_VULKAN=system SEQAE_VULKAN_DEBS=$dir SEQAE_BIN=$dir/seqae-gpu.xz SEQAE_BIN_SPIRV=$dir/seqae-vulkan.xz SEQAE_GPU_TESTS=$dir/tests bash examples/gpu_env.sh bash examples/gpu_check.sh python3 $dir/torch_seq_ae.py
EOF
