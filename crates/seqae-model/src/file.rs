//! Model files: a directory `MODEL/` holding `config.json` (format, version, architecture,
//! channels, normalisation) and `weights.bpk` (burnpack). Written into a temporary sibling
//! directory and renamed into place, so a reader never sees a half-written model.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleRecord;
use seqae_data::Normalizer;
use serde::{Deserialize, Serialize};

use crate::autoencoder::AutoEncoder;
use crate::backend::Backend;
use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::model::SeqAe;

/// The `format` field of every model's `config.json`.
pub const FORMAT: &str = "seqae-model";
/// The model file format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the configuration file inside a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// Name of the weights file inside a model directory.
pub const WEIGHTS_FILE: &str = "weights.bpk";

/// The contents of `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// Version of the seqae-model crate that wrote it.
    pub writer: String,
    /// Channels of the training data.
    pub channels: usize,
    /// The architecture.
    pub model: ModelConfig,
    /// The normalisation and its statistics.
    pub normalizer: Normalizer,
    /// Number of trainable values.
    pub parameters: usize,
    /// The weights file, relative to the directory.
    pub weights: String,
}

/// Just the fields needed to check the format before reading the rest.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    format_version: Option<u32>,
}

impl SeqAe {
    /// Writes the model to the directory `dir` (created, or replaced if it holds a model).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        if dir.exists() && !is_replaceable(dir) {
            return Err(ModelError::NotAModel {
                path: dir.to_path_buf(),
                reason: "it exists and holds other files; refusing to overwrite it".into(),
            });
        }
        let tmp = sibling(dir, "tmp");
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
        let result = self.write_into(&tmp).and_then(|()| replace_dir(&tmp, dir));
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }

    fn write_into(&self, tmp: &Path) -> Result<()> {
        let weights = tmp.join(WEIGHTS_FILE);
        self.net
            .clone()
            .save_file(&weights)
            .map_err(|e| ModelError::Weights {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        let file = ModelFile {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            writer: env!("CARGO_PKG_VERSION").into(),
            channels: self.channels,
            model: self.config.clone(),
            normalizer: self.normalizer.clone(),
            parameters: self.num_params(),
            weights: WEIGHTS_FILE.into(),
        };
        let path = tmp.join(CONFIG_FILE);
        let json = serde_json::to_string_pretty(&file).expect("a model config serialises");
        let mut f = fs::File::create(&path).map_err(|e| ModelError::io(&path, e))?;
        f.write_all(json.as_bytes())
            .and_then(|()| f.write_all(b"\n"))
            .and_then(|()| f.sync_all())
            .map_err(|e| ModelError::io(&path, e))?;
        Ok(())
    }

    /// Reads a model directory written by [`save`](SeqAe::save), for inference on `backend`.
    pub fn load(dir: impl AsRef<Path>, backend: Backend) -> Result<SeqAe> {
        let dir = dir.as_ref();
        let file = read_config(dir)?;
        file.model.validate().map_err(|e| ModelError::NotAModel {
            path: dir.into(),
            reason: e.to_string(),
        })?;
        if file.normalizer.channels != file.channels {
            return Err(ModelError::NotAModel {
                path: dir.into(),
                reason: format!(
                    "the normalisation is for {} channels but the model has {}",
                    file.normalizer.channels, file.channels
                ),
            });
        }
        let mut model = SeqAe::new(&file.model, file.channels, file.normalizer, backend, 0)?;
        let weights = dir.join(&file.weights);
        let record = ModuleRecord::load(&weights).map_err(|e| ModelError::Weights {
            path: weights.clone(),
            message: e.to_string(),
        })?;
        model.net = model
            .net
            .try_load_record(record)
            .map_err(|e| ModelError::Weights {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        Ok(model)
    }
}

/// Reads and checks `config.json` of a model directory.
pub fn read_config(dir: &Path) -> Result<ModelFile> {
    let path = dir.join(CONFIG_FILE);
    if !dir.is_dir() {
        return Err(ModelError::NotAModel {
            path: dir.into(),
            reason: "not a directory".into(),
        });
    }
    let text = fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ModelError::NotAModel {
            path: dir.into(),
            reason: format!("no {CONFIG_FILE}"),
        },
        _ => ModelError::io(&path, e),
    })?;
    let bad = |reason: String| ModelError::NotAModel {
        path: dir.into(),
        reason,
    };
    let header: Header = serde_json::from_str(&text)
        .map_err(|e| bad(format!("{CONFIG_FILE} is not valid JSON: {e}")))?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(bad(format!(
            "{CONFIG_FILE} does not say \"format\": \"{FORMAT}\""
        )));
    }
    match header.format_version {
        Some(FORMAT_VERSION) => {}
        Some(found) => {
            return Err(ModelError::FormatVersion {
                path: dir.into(),
                found,
                supported: FORMAT_VERSION,
            });
        }
        None => return Err(bad(format!("{CONFIG_FILE} has no format_version"))),
    }
    serde_json::from_str(&text).map_err(|e| bad(format!("{CONFIG_FILE}: {e}")))
}

/// A directory that `save` may replace: absent, empty, or a model directory.
fn is_replaceable(dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    match fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none() || dir.join(CONFIG_FILE).is_file(),
        Err(_) => false,
    }
}

/// `.NAME.KIND-PID` next to `dir`.
fn sibling(dir: &Path, kind: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.join(format!(".{name}.{kind}-{}", std::process::id()))
}

/// Moves the finished `tmp` directory to `dir`, replacing an existing one.
fn replace_dir(tmp: &Path, dir: &Path) -> Result<()> {
    if dir.exists() {
        let old = sibling(dir, "old");
        let _ = fs::remove_dir_all(&old);
        fs::rename(dir, &old).map_err(|e| ModelError::io(dir, e))?;
        if let Err(e) = fs::rename(tmp, dir) {
            let _ = fs::rename(&old, dir);
            return Err(ModelError::io(dir, e));
        }
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(tmp, dir).map_err(|e| ModelError::io(dir, e))?;
    }
    Ok(())
}

/// Rebuilds the network of `file` with fresh weights, for tools that inspect parameter names.
pub fn network_for(file: &ModelFile, backend: Backend) -> AutoEncoder {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
    AutoEncoder::init(&file.model, file.channels, &mut rng, &backend.device())
}
