//! [`Backend`]: which burn backend runs the model, chosen at run time.
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// A CPU backend of burn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's `flex` backend (pure Rust, the fastest on CPU).
    #[default]
    Flex,
    /// burn-ndarray.
    Ndarray,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 2] = [Backend::Flex, Backend::Ndarray];

    /// The device for inference (no autodiff).
    pub fn device(self) -> Device {
        match self {
            Backend::Flex => Device::flex(),
            #[allow(deprecated)]
            Backend::Ndarray => Device::ndarray(),
        }
    }

    /// The device for training (autodiff).
    pub fn autodiff_device(self) -> Device {
        self.device().autodiff()
    }
}

seqae_data::named_enum!(Backend, "backend", {
    Flex => "flex",
    Ndarray => "ndarray",
});
