#!/usr/bin/env bash
# Runs a command with a Vulkan driver at hand: the machine's own when it has one (set
# SEQAE_VULKAN=system), otherwise lavapipe, Mesa's Vulkan driver on the CPU (Debian's
# mesa-vulkan-drivers, installed with apt when missing). Used by CI to test the GPU backend
# without a GPU:
#   bash examples/gpu_env.sh cargo test --release --workspace --features seqae/gpu --lib --test gpu -- gpu
# With SEQAE_VULKAN=system, a machine without the Vulkan loader and without network can be
# given it as Debian packages: SEQAE_VULKAN_DEBS names a folder of .deb files (libvulkan1,
# libglvnd0; `apt-get download` them elsewhere), unpacked into a temporary folder and put on
# LD_LIBRARY_PATH (the system's folders are left alone). When no driver manifest is chosen
# (VK_DRIVER_FILES, VK_ICD_FILENAMES) and the system's manifest folders have no NVIDIA one,
# the manifest in /usr/local/nvidia (where containers mount the NVIDIA driver) is the driver,
# if it is there.
set -euo pipefail
if [ "${SEQAE_VULKAN:-lavapipe}" = system ]; then
    # (grep reads the whole list: `grep -q` could stop ldconfig with SIGPIPE under pipefail.)
    if ! { PATH=$PATH:/sbin:/usr/sbin ldconfig -p 2>/dev/null || true; } |
        grep 'libvulkan\.so\.1' >/dev/null && [ -n "${SEQAE_VULKAN_DEBS:-}" ]; then
        vk=$(mktemp -d)
        for deb in "$SEQAE_VULKAN_DEBS"/*.deb; do dpkg -x "$deb" "$vk"; done
        for lib in "$vk"/usr/lib/*-linux-gnu; do
            export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        done
        echo "Vulkan loader from $SEQAE_VULKAN_DEBS: LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    fi
    nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ] &&
        ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
        # Both names: loaders before 1.3.207 read only the older one.
        export VK_DRIVER_FILES=$nvidia_icd VK_ICD_FILENAMES=$nvidia_icd
        echo "Vulkan driver: $nvidia_icd"
    fi
else
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
