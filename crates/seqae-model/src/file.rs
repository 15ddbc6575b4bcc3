//! Model files: a directory `MODEL/` holding `config.json` (format, version, architecture,
//! channels, normalisation), `weights.bpk` (burnpack) and `history.json` (how it was fitted).
//! Written into a temporary sibling directory and renamed into place
//! ([`seqae_data::atomic::StagedDir`]), so a reader never sees a half-written model.
use std::fs;
use std::path::Path;

use crate::params::Hyperparameters;
use burn::module::Module;
use burn::store::ModuleRecord;
use seqae_data::Normalizer;
use seqae_data::atomic::{Publish, StagedDir};
use serde::{Deserialize, Serialize};

use crate::autoencoder::AutoEncoder;
use crate::backend::Backend;
use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::history::History;
use crate::model::SeqAe;

/// The `format` field of every model's `config.json`.
pub const FORMAT: &str = "seqae-model";
/// The model file format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the configuration file inside a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// Name of the weights file inside a model directory.
pub const WEIGHTS_FILE: &str = "weights.bpk";
/// Name of the training history inside a model directory (absent for untrained models).
pub const HISTORY_FILE: &str = "history.json";

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
    /// SHA-256 of the weights file, hex; checked on load (a model without it is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<String>,
    /// SHA-256 of this file's other fields (the JSON serde writes for them, this field left
    /// out), hex; checked on load, so an edited `config.json` is refused before anything is
    /// built from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_sha256: Option<String>,
    /// The settings the model was fitted with, as the user gave them (absent in models fitted
    /// without them and in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperparameters: Option<Hyperparameters>,
}

/// The most bytes a `config.json` may have (a real one has a few kilobytes).
const CONFIG_MAX_BYTES: u64 = 1 << 20;

impl ModelFile {
    /// The checksum of every field but `config_sha256`.
    fn digest(&self) -> String {
        let unsigned = ModelFile {
            config_sha256: None,
            ..self.clone()
        };
        sha256_hex(&serde_json::to_vec(&unsigned).expect("model metadata serialises"))
    }

    /// The most bytes the weights of this architecture can take in `weights.bpk`: four per
    /// parameter of the largest network [`crate::memory::training_bytes`] allows for, and a
    /// megabyte of metadata.
    fn weights_max_bytes(&self) -> u64 {
        let params = crate::memory::training_bytes(&self.model, self.channels) / 16.0;
        (params * 4.0 + f64::from(1 << 20)).min(u64::MAX as f64) as u64
    }
}

/// Just the fields needed to check the format before reading the rest.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    format_version: Option<u32>,
}

impl SeqAe {
    /// Writes the model to the directory `dir` (created, or replaced if it holds a model; other
    /// files there are kept).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        self.save_with(dir, Publish::Replace, |_| Ok::<(), ModelError>(()))
    }

    /// [`save`](SeqAe::save), published as `publish` says ([`Publish::New`] fails if `dir`
    /// appeared meanwhile), with `extras` writing more files (a chart, say) into the staged
    /// directory first, so that they appear with the model or not at all.
    pub fn save_with<E: From<ModelError>>(
        &self,
        dir: impl AsRef<Path>,
        publish: Publish,
        extras: impl FnOnce(&Path) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let dir = dir.as_ref();
        if dir.exists() && !is_replaceable(dir) {
            return Err(ModelError::NotAModel {
                path: dir.to_path_buf(),
                reason: "it exists and holds other files; refusing to overwrite it".into(),
            }
            .into());
        }
        let staged = StagedDir::new(dir).map_err(|e| ModelError::write(dir, e))?;
        self.write_into(staged.path())
            .map_err(|e| e.unstaged(staged.path(), dir))?;
        extras(staged.path())?;
        staged.publish(publish).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                ModelError::io(dir, e)
            } else {
                ModelError::write(dir, e)
            }
        })?;
        Ok(())
    }

    fn write_into(&self, tmp: &Path) -> Result<()> {
        let weights = tmp.join(WEIGHTS_FILE);
        save_record(self.net.clone().into_record().into_bytes(), &weights)?;
        let file = ModelFile {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            writer: env!("CARGO_PKG_VERSION").into(),
            channels: self.channels,
            model: self.config.clone(),
            normalizer: self.normalizer.clone(),
            parameters: self.num_params(),
            weights: WEIGHTS_FILE.into(),
            weights_sha256: Some(sha256_of(&weights)?),
            config_sha256: None,
            hyperparameters: self.hyperparameters.clone(),
        };
        let file = ModelFile {
            config_sha256: Some(file.digest()),
            ..file
        };
        write_json(&tmp.join(CONFIG_FILE), &file)?;
        if self.history != History::default() {
            write_json(&tmp.join(HISTORY_FILE), &self.history)?;
        }
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
        file.normalizer
            .validate()
            .map_err(|reason| ModelError::NotAModel {
                path: dir.into(),
                reason: format!("{CONFIG_FILE}: {reason}"),
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
        crate::memory::check_fits(&file.model, file.channels).map_err(|e| {
            ModelError::NotAModel {
                path: dir.into(),
                reason: format!("{CONFIG_FILE}: {e}"),
            }
        })?;
        let mut model = SeqAe::new(
            &file.model,
            file.channels,
            file.normalizer.clone(),
            backend,
            0,
        )?;
        model.net = load_weights(model.net, dir, &file)?;
        model.history = read_history(dir)?;
        model.hyperparameters = file.hyperparameters.clone();
        Ok(model)
    }
}

/// Loads the weights file of the model directory `dir` (described by `file`, its
/// `config.json`) into `net`, after checking the file's checksum. The parameters keep the
/// ids stored with the weights, so that optimiser state saved beside them applies.
pub(crate) fn load_weights(net: AutoEncoder, dir: &Path, file: &ModelFile) -> Result<AutoEncoder> {
    let weights = dir.join(&file.weights);
    let Some(want) = &file.weights_sha256 else {
        return Err(ModelError::Weights {
            path: weights,
            message: format!(
                "{CONFIG_FILE} has no weights_sha256, so the weights cannot be checked; retrain the model, or, if you trust this weights file, add \"weights_sha256\": \"<the output of sha256sum {}>\" to {CONFIG_FILE}",
                file.weights
            ),
        });
    };
    // Read whole into memory (a record loaded from the path reads its tensors lazily, so a
    // file replaced or removed after loading would fail later, inside inference), and no more
    // than the architecture can need.
    let bytes = read_regular(&weights, file.weights_max_bytes())?;
    let found = sha256_hex(&bytes);
    if &found != want {
        return Err(ModelError::Weights {
            path: weights,
            message: format!(
                "checksum mismatch (SHA-256 {found}, {CONFIG_FILE} says {want}): the file is corrupt or was replaced"
            ),
        });
    }
    let record =
        ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes)).map_err(|e| {
            ModelError::Weights {
                path: weights.clone(),
                message: e.to_string(),
            }
        })?;
    net.try_load_record(record)
        .map_err(|e| ModelError::Weights {
            path: weights.clone(),
            message: format!(
                "they do not fit the architecture in {CONFIG_FILE} ({})",
                first_words(&e.to_string(), 160)
            ),
        })
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
    if !path.exists() {
        return Err(ModelError::NotAModel {
            path: dir.into(),
            reason: format!("no {CONFIG_FILE}"),
        });
    }
    let bad = |reason: String| ModelError::NotAModel {
        path: dir.into(),
        reason,
    };
    let text = String::from_utf8(read_regular(&path, CONFIG_MAX_BYTES)?)
        .map_err(|_| bad(format!("{CONFIG_FILE} is not UTF-8 text")))?;
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
    let file: ModelFile =
        serde_json::from_str(&text).map_err(|e| bad(format!("{CONFIG_FILE}: {e}")))?;
    match &file.config_sha256 {
        Some(want) if *want == file.digest() => Ok(file),
        Some(_) => Err(bad(format!(
            "{CONFIG_FILE} was edited after the model was saved (its config_sha256 does not match its contents); restore it or retrain"
        ))),
        None => Err(bad(format!(
            "{CONFIG_FILE} has no config_sha256 (written by an older seqae, or edited); retrain the model"
        ))),
    }
}

/// The bytes of the regular file `path` (links followed), refusing anything else (a FIFO, a
/// device) and files of more than `limit` bytes, without reading past the limit.
fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let meta = fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
    let refuse = |reason: String| ModelError::NotAModel {
        path: path.into(),
        reason,
    };
    if !meta.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    if meta.len() > limit {
        return Err(refuse(format!(
            "{} bytes, more than this model can have ({limit})",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| ModelError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(refuse(format!("more than {limit} bytes")));
    }
    Ok(bytes)
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

/// The first line of `text`, cut to at most `max` characters (burn's load errors list every
/// tensor shape on one line).
fn first_words(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_string(),
    }
}

/// The SHA-256 of a file, as lowercase hex.
fn sha256_of(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| ModelError::io(path, e))?;
    Ok(sha256_hex(&bytes))
}

/// The SHA-256 of `bytes`, as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the bytes of a burnpack record (weights or optimiser state) to `path`, synced: the
/// record is encoded in memory so that a failed write reports the I/O error itself.
pub(crate) fn save_record(
    bytes: std::result::Result<burn::tensor::Bytes, burn::store::RecordError>,
    path: &Path,
) -> Result<()> {
    let bytes = bytes.map_err(|e| ModelError::Weights {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    seqae_data::atomic::write_bytes(path, &bytes).map_err(|e| ModelError::write(path, e))
}

/// Writes `value` as pretty JSON with a final newline (synced to disk).
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut json = serde_json::to_string_pretty(value).expect("model metadata serialises");
    json.push('\n');
    seqae_data::atomic::write_bytes(path, json.as_bytes()).map_err(|e| ModelError::write(path, e))
}

/// The training history of a model directory (empty when it has none).
pub fn read_history(dir: &Path) -> Result<History> {
    let path = dir.join(HISTORY_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| ModelError::NotAModel {
            path: dir.into(),
            reason: format!("{HISTORY_FILE}: {e}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(History::default()),
        Err(e) => Err(ModelError::io(&path, e)),
    }
}
