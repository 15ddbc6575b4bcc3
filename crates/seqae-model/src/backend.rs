//! [`Backend`]: which burn backend runs the model, chosen at run time.
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// A CPU backend of burn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

    /// Parses `flex` or `ndarray`.
    pub fn parse(name: &str) -> Result<Backend> {
        match name.to_ascii_lowercase().as_str() {
            "flex" => Ok(Backend::Flex),
            "ndarray" => Ok(Backend::Ndarray),
            other => Err(ModelError::UnknownName {
                what: "backend",
                name: other.to_string(),
                expected: "flex or ndarray",
            }),
        }
    }

    /// The name `parse` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
        }
    }

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

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
