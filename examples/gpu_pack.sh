#!/usr/bin/env bash
# Packs what examples/gpu_check.sh needs on a GPU machine that has no cargo and no network into
# one folder (default .gl/, ignored by git), from the repository root:
#   bash examples/gpu_pack.sh [FOLDER]
# - seqae-gpu.xz: the release binary with the `gpu` feature (WGSL shaders), stripped and
#   compressed with xz (67 MB stripped, 11 MB packed: the device carries 64 MiB in all);
# - seqae-vulkan.xz: the same with the `vulkan` feature (cubecl's SPIR-V compiler);
# - tests/wgsl-*.xz: the GPU test binaries (`cargo test --release --workspace --features
#   seqae/gpu --lib --test gpu --no-run`); tests/spirv-*.xz: the `vulkan` build's library tests
#   (every output and gradient against the CPU; its integration tests would take the pack to
#   62 MiB, too near the limit);
# - the Vulkan loader as Debian packages (libvulkan1, libglvnd0), for a machine without it;
# - torch_seq_ae.py, the PyTorch peer, when ../shared/bench has it.
# Release builds with the GPU stack: on 2 cores, about 15 minutes for the `vulkan` one when
# the `gpu` one is built (burn's GPU crates again), about 20 for the first of the two. It ends
# by printing the command to run there.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.gl}
lists=$(mktemp -d)
trap 'rm -rf "$lists" "$dir/.strip" "$dir/.messages"' EXIT
mkdir -p "$dir/tests"
# Nothing of an earlier pack may travel with this one.
rm -f "$dir"/*.xz "$dir"/*.gz "$dir"/*.deb "$dir"/tests/* "$dir/torch_seq_ae.py"
# A stripped, compressed copy of binary $1 as $2.
pack() {
    strip -o "$dir/.strip" "$1"
    xz -9 -T0 -c "$dir/.strip" > "$2"
    rm -f "$dir/.strip"
    echo "$2: $(du -h "$2" | cut -f1)"
}
# The test binaries of the build with feature $1 (seqae's) whose targets are named after $2
# (seqae_model: the library's, gpu: tests/gpu.rs), found in cargo's JSON messages and packed as
# tests/$2-NAME.xz.
pack_tests() {
    local feature=$1 tag=$2
    shift 2
    local targets=() target
    for target in "$@"; do
        [ "$target" = seqae_model ] && targets+=(--lib) || targets+=(--test "$target")
    done
    cargo test --release --workspace --features "seqae/$feature" "${targets[@]}" --no-run \
        --message-format=json-render-diagnostics > "$dir/.messages"
    local found
    found=$(python3 - "$dir/.messages" "$@" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        if m["target"]["name"] in sys.argv[2:]:
            print(m["executable"])
PY
    )
    if [ "$(wc -l <<< "$found")" -ne $# ]; then
        echo "error: expected the test binaries $* of the $feature build, found: $found" >&2
        exit 1
    fi
    while read -r t; do
        pack "$t" "$dir/tests/$tag-$(basename "$t").xz"
    done <<< "$found"
}
cargo build --release --features vulkan
pack target/release/seqae "$dir/seqae-vulkan.xz"
pack_tests vulkan spirv seqae_model
pack_tests gpu wgsl seqae_model gpu
# Last, so that the `gpu` build is the one left in target/release.
cargo build --release --features gpu
pack target/release/seqae "$dir/seqae-gpu.xz"
# The Vulkan loader, for amd64, with package lists of its own (the system's are left alone).
mkdir -p "$lists/partial"
apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt[@]}" update > /dev/null
# (apt warns that it downloads as root, unsandboxed: that line is dropped, errors are not.)
(cd "$dir" && apt-get "${apt[@]}" download libvulkan1 libglvnd0 2>&1 | { grep -v "unsandboxed" || true; })
ls "$dir"/libvulkan1_*.deb "$dir"/libglvnd0_*.deb > /dev/null
peer=""
if [ -f ../shared/bench/torch_seq_ae.py ]; then
    cp -f ../shared/bench/torch_seq_ae.py "$dir/"
    peer=" python3 $dir/torch_seq_ae.py"
else
    echo "../shared/bench/torch_seq_ae.py is not here: the check will run without PyTorch" >&2
fi
du -sh "$dir"
cat <<EOF
Run on the GPU machine, from the repository root, with $dir carried:
SEQAE_VULKAN=system SEQAE_VULKAN_DEBS=$dir SEQAE_BIN=$dir/seqae-gpu.xz SEQAE_BIN_SPIRV=$dir/seqae-vulkan.xz SEQAE_GPU_TESTS=$dir/tests bash examples/gpu_env.sh bash examples/gpu_check.sh$peer
EOF
