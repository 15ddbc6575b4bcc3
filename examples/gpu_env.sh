#!/usr/bin/env bash
# Runs a command with a Vulkan driver at hand: the machine's own when it has one (set
# SEQAE_VULKAN=system), otherwise lavapipe, Mesa's Vulkan driver on the CPU (Debian's
# mesa-vulkan-drivers, installed with apt when missing). Used by CI to test the GPU backend
# without a GPU:
#   bash examples/gpu_env.sh cargo test --release --workspace --features seqae/gpu --lib --test gpu -- gpu
set -euo pipefail
if [ "${SEQAE_VULKAN:-lavapipe}" != system ]; then
    icd=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n 1 || true)
    if [ -z "$icd" ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        # A fresh machine may have no package lists yet: update them, then try again.
        $sudo apt-get install -y --no-install-recommends mesa-vulkan-drivers libvulkan1 >/dev/null ||
            { $sudo apt-get update >/dev/null &&
                $sudo apt-get install -y --no-install-recommends mesa-vulkan-drivers libvulkan1 >/dev/null; }
        icd=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json | head -n 1)
    fi
    export VK_ICD_FILENAMES="$icd"
fi
# The Vulkan loader wants a runtime directory.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR=$(mktemp -d)
    export XDG_RUNTIME_DIR
fi
exec "$@"
