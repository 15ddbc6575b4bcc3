//! [`Backend`]: which burn backend runs the model, chosen at run time.
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// A backend of burn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's `flex` backend (pure Rust, the fastest on CPU).
    #[default]
    Flex,
    /// burn-ndarray.
    Ndarray,
    /// The first GPU through burn's wgpu runtime (Vulkan, Metal or DirectX 12); in a build
    /// with the `gpu` feature. The fused recurrent layers run there as CubeCL kernels.
    Gpu,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 3] = [Backend::Flex, Backend::Ndarray, Backend::Gpu];
    /// The CPU backends.
    pub const CPU: [Backend; 2] = [Backend::Flex, Backend::Ndarray];

    /// The device for inference (no autodiff); for [`Backend::Gpu`] an error saying what is
    /// missing when this build or this machine has no GPU.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[allow(deprecated)]
            Backend::Ndarray => Ok(Device::ndarray()),
            Backend::Gpu => gpu::device().map(|(device, _)| device),
        }
    }

    /// The device for training (autodiff).
    pub fn autodiff_device(self) -> Result<Device> {
        Ok(self.device()?.autodiff())
    }

    /// What runs on this backend: for [`Backend::Gpu`] the device's name (the adapter as the
    /// driver reports it, its graphics API and shader language, e.g. "NVIDIA H100 80GB HBM3
    /// (Vulkan, WGSL)"), the backend's otherwise.
    pub fn device_name(self) -> Result<String> {
        match self {
            Backend::Gpu => gpu::device().map(|(_, name)| name),
            other => Ok(format!("{other} (CPU)")),
        }
    }
}

#[cfg(feature = "gpu")]
mod gpu {
    use std::sync::OnceLock;

    use super::*;

    /// The GPU device, its name and its shared memory per workgroup in bytes.
    type Gpu = (Device, String, usize);

    /// The GPU, set up once per process (burn's runtime cannot be set up twice), or why there
    /// is none.
    fn setup() -> &'static std::result::Result<Gpu, String> {
        static DEVICE: OnceLock<std::result::Result<Gpu, String>> = OnceLock::new();
        DEVICE.get_or_init(|| {
            let (device, setup) = Device::wgpu_options().init_with_setup().map_err(|e| {
                format!(
                    "backend gpu: no usable GPU ({e}); install the GPU's Vulkan driver (on Debian: mesa-vulkan-drivers for a software one) and libvulkan1"
                )
            })?;
            let info = setup.adapter.get_info();
            let shared = setup.device.limits().max_compute_workgroup_storage_size;
            let language = shader_language(&device);
            let name = format!("{} ({:?}, {language})", info.name, info.backend);
            // cubecl's SPIR-V crashes lavapipe (Mesa 22.3 and 25.0) when it compiles a kernel.
            if language == "SPIR-V" && info.device_type == cubecl::wgpu::wgpu::DeviceType::Cpu {
                return Err(format!(
                    "backend gpu: {name} is a Vulkan driver on the CPU, which this build's SPIR-V shaders (the `vulkan` feature) crash; use a build with the `gpu` feature there"
                ));
            }
            Ok((device, name, shared as usize))
        })
    }

    /// The language the runtime compiles `device`'s kernels to: "WGSL" (translated by wgpu
    /// for the graphics API), or with the `vulkan` feature on a Vulkan device, "SPIR-V"
    /// (cubecl's own compiler); the runtime's own name for anything else.
    fn shader_language(device: &Device) -> &'static str {
        use cubecl_runtime::runtime::Runtime;
        let runtime = match device.as_dispatch() {
            burn::backend::DispatchDevice::Cube(burn_cubecl::CubeDevice::Wgpu(wgpu)) => {
                cubecl::wgpu::WgpuRuntime::<cubecl::wgpu::AutoCompiler>::client(wgpu).name()
            }
            _ => "not wgpu",
        };
        match runtime {
            "wgpu<wgsl>" => "WGSL",
            "wgpu<spirv>" => "SPIR-V",
            "wgpu<msl>" => "MSL",
            other => other,
        }
    }

    /// The GPU device and its name.
    pub(super) fn device() -> Result<(Device, String)> {
        match setup() {
            Ok((device, name, _)) => Ok((device.clone(), name.clone())),
            Err(e) => Err(ModelError::Device(e.clone())),
        }
    }

    /// The shared memory of a workgroup of the GPU in bytes, if `device` is the GPU.
    pub(super) fn shared_memory(device: &Device) -> Option<usize> {
        let on_gpu = matches!(
            device.clone().without_autodiff().as_dispatch(),
            burn::backend::DispatchDevice::Cube(_)
        );
        match setup() {
            Ok((_, _, shared)) if on_gpu => Some(*shared),
            _ => None,
        }
    }
}

#[cfg(not(feature = "gpu"))]
mod gpu {
    use super::*;

    /// No GPU in this build: no device is the GPU.
    pub(super) fn shared_memory(_: &Device) -> Option<usize> {
        None
    }

    /// No GPU in this build.
    pub(super) fn device() -> Result<(Device, String)> {
        Err(ModelError::Device(
            "backend gpu: this seqae was built without GPU support; build it with `cargo build --release --features gpu`".into(),
        ))
    }
}

/// The shared memory of a workgroup in bytes when `device` is the GPU ([`Backend::Gpu`]);
/// `None` for a CPU device.
pub fn gpu_shared_memory(device: &Device) -> Option<usize> {
    gpu::shared_memory(device)
}

seqae_data::named_enum!(Backend, "backend", {
    Flex => "flex",
    Ndarray => "ndarray",
    Gpu => "gpu",
});
