"""seqae: sequence autoencoders (RNN, LSTM, GRU) for unsupervised learning on time series.

Data are in aeon's layout: an array ``(n_cases, n_channels, n_timepoints)``, a 2-D array
``(n_cases, n_timepoints)`` of univariate sequences, or a list of ``(n_channels, length_i)``
arrays for sequences of unequal length; any real dtype (cast to float32); pandas frames: wide
(one row per case), aeon's pd-multiindex (case, time) and nested_univ. Trailing all-NaN time steps are padding that ends a sequence early;
other NaNs are missing values, accepted only with ``allow_missing=True``. Bad input raises
ValueError or TypeError with the message the ``seqae`` command line prints.

Every default is the Rust library's (``seqae train`` with no flags), read at import.
"""

from os import PathLike
from typing import Any, Literal, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)

from . import _seqae

__version__: str
"""The package version (that of the Rust crates)."""

__all__ = ["SeqAE", "SeqAEClusterer", "KShape", "read", "load", "device_name", "__version__"]

_ArrayLike = Union[npt.ArrayLike, Sequence[npt.ArrayLike]]
"""Sequences: (n_cases, n_channels, n_timepoints), (n_cases, n_timepoints), a list of
(n_channels, length_i) (or (length_i,)) arrays, or a pandas frame (wide, pd-multiindex or
nested)."""

_Path = Union[str, PathLike[str]]
_Cell = Literal["rnn", "lstm", "gru"]
_Pooling = Literal["mean", "last", "max", "last-mean"]
_DecoderInput = Literal["unconditioned", "latent", "teacher-forcing", "free-running"]
_Normalize = Literal["global", "zscore", "minmax", "none"]
_Objective = Literal["reconstruction", "contrastive"]
_Backend = Literal["flex", "ndarray", "gpu"]
_SequencesOut = Union[npt.NDArray[np.float32], list[npt.NDArray[np.float32]]]

class SeqAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """A recurrent sequence autoencoder as a scikit-learn transformer (``help(SeqAE)``
    lists every parameter, from the library's descriptions)."""

    cell: _Cell
    hidden: int
    latent: int
    layers: int
    bidirectional: bool
    dropout: float
    patch: Union[Literal["auto"], int]
    pooling: _Pooling
    decoder_input: _DecoderInput
    teacher_ratio: Optional[float]
    same_order: bool
    epochs: Optional[int]
    min_updates: Optional[int]
    batch: int
    lr: float
    clip: float
    seed: int
    normalize: _Normalize
    val_fraction: float
    patience: Optional[int]
    plateau: Optional[int]
    objective: _Objective
    contrast_weight: Optional[float]
    min_crop: Optional[float]
    backend: _Backend
    n_threads: Optional[int]
    verbose: int
    allow_missing: bool
    random_state: Union[int, np.random.RandomState, None]
    n_jobs: Optional[int]
    model_: _seqae.Model
    """The fitted Rust model."""
    n_channels_: int
    """Channels of the training data."""
    n_features_in_: int
    """Columns of a 2-D training input, else its channels."""
    n_timepoints_: int
    """The longest training sequence: ``decode``'s default length."""
    patch_: int
    """Time steps per recurrent step of the fitted model."""
    history_: dict[str, Any]
    """train_loss, val_loss, lr (per epoch), best_epoch, stopped_early, train_size, val_size."""
    n_epochs_: int
    """Epochs trained."""

    def __init__(
        self,
        *,
        cell: _Cell = ...,
        hidden: int = ...,
        latent: int = ...,
        layers: int = ...,
        bidirectional: bool = ...,
        dropout: float = ...,
        patch: Union[Literal["auto"], int] = ...,
        pooling: _Pooling = ...,
        decoder_input: _DecoderInput = ...,
        teacher_ratio: Optional[float] = None,
        same_order: bool = ...,
        epochs: Optional[int] = None,
        min_updates: Optional[int] = None,
        batch: int = ...,
        lr: float = ...,
        clip: float = ...,
        seed: int = ...,
        normalize: _Normalize = ...,
        val_fraction: float = ...,
        patience: Optional[int] = ...,
        plateau: Optional[int] = ...,
        objective: _Objective = ...,
        contrast_weight: Optional[float] = None,
        min_crop: Optional[float] = None,
        backend: _Backend = ...,
        n_threads: Optional[int] = None,
        verbose: int = 0,
        allow_missing: bool = False,
        random_state: Union[int, np.random.RandomState, None] = None,
        n_jobs: Optional[int] = None,
    ) -> None:
        """Stores the parameters; nothing is checked until ``fit``."""
    def __sklearn_tags__(self) -> Any: ...
    def fit(self, X: _ArrayLike, y: Any = None) -> "SeqAE":
        """Trains the autoencoder on X (y is ignored) without the GIL; returns self.
        Ctrl-C stops training after the current batch and raises KeyboardInterrupt. A
        divergence warns (ConvergenceWarning) and keeps the last good epoch's weights."""
    def transform(self, X: _ArrayLike) -> npt.NDArray[np.float32]:
        """The latent vector of each sequence: float32 (n_cases, latent)."""
    def fit_transform(self, X: _ArrayLike, y: Any = None) -> npt.NDArray[np.float32]:
        """``fit(X).transform(X)``."""
    def reconstruct(self, X: _ArrayLike) -> _SequencesOut:
        """Reconstructions in the original units, in X's layout (NaN past a sequence's
        end)."""
    def decode(self, Z: npt.ArrayLike, length: Optional[int] = None) -> npt.NDArray[np.float32]:
        """The sequences the decoder writes from latent vectors Z, in the training input's
        layout; length defaults to ``n_timepoints_``."""
    def reconstruction_error(self, X: _ArrayLike) -> npt.NDArray[np.float32]:
        """Mean squared reconstruction error per sequence (normalised units), (n_cases,)."""
    def score_samples(self, X: _ArrayLike) -> npt.NDArray[np.float32]:
        """Negative reconstruction error: higher is more normal, (n_cases,)."""
    def save(self, path: _Path) -> None:
        """Writes the CLI's model directory (``seqae embed`` reads it)."""
    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Names of the latent dimensions: seqae0, seqae1, ..."""
    def __getstate__(self) -> dict[str, Any]:
        """Pickle state: the parameters and the model directory as {file name: bytes}."""
    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuilds the fitted model from its files."""

class SeqAEClusterer(
    ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator
):
    """The sequence autoencoder, then clustering of its latent vectors (``help`` lists every
    parameter)."""

    n_clusters: Union[int, Literal["auto"]]
    autoencoder: Optional[SeqAE]
    clusterer: Literal["auto", "spectral", "kmeans", "kshape"]
    k_max: int
    cell: _Cell
    hidden: int
    latent: int
    layers: int
    bidirectional: bool
    dropout: float
    patch: Union[Literal["auto"], int]
    pooling: _Pooling
    decoder_input: _DecoderInput
    teacher_ratio: Optional[float]
    same_order: bool
    epochs: Optional[int]
    min_updates: Optional[int]
    batch: int
    lr: float
    clip: float
    seed: int
    normalize: _Normalize
    val_fraction: float
    patience: Optional[int]
    plateau: Optional[int]
    objective: _Objective
    contrast_weight: Optional[float]
    min_crop: Optional[float]
    backend: _Backend
    n_threads: Optional[int]
    verbose: int
    allow_missing: bool
    random_state: Union[int, np.random.RandomState, None]
    n_jobs: Optional[int]
    method_: str
    """The method that produced the clusters."""
    view_: Optional[str]
    """The view ``"auto"`` kept, or None."""
    autoencoder_: SeqAE
    """The fitted autoencoder."""
    labels_: npt.NDArray[np.int64]
    """Cluster of each training sequence."""
    cluster_centers_: npt.NDArray[np.float32]
    """k x latent: the k-means centres, or each cluster's mean latent vector."""
    prototypes_: Optional[npt.NDArray[np.float32]]
    """The centres decoded as sequences in the input's layout."""
    n_clusters_: int
    """The number of clusters used (the chosen one with "auto")."""
    silhouette_scores_: dict[int, float]
    """{k: mean silhouette} of every k tried by "auto" (empty otherwise)."""
    inertia_: float
    """Sum of squared distances of the latents to their cluster's centre."""
    n_features_in_: int

    def __init__(
        self,
        n_clusters: Union[int, Literal["auto"]] = "auto",
        *,
        autoencoder: Optional[SeqAE] = None,
        clusterer: Literal["auto", "spectral", "kmeans", "kshape"] = "auto",
        k_max: int = 10,
        cell: _Cell = ...,
        hidden: int = ...,
        latent: int = ...,
        layers: int = ...,
        bidirectional: bool = ...,
        dropout: float = ...,
        patch: Union[Literal["auto"], int] = ...,
        pooling: _Pooling = ...,
        decoder_input: _DecoderInput = ...,
        teacher_ratio: Optional[float] = None,
        same_order: bool = ...,
        epochs: Optional[int] = None,
        min_updates: Optional[int] = None,
        batch: int = ...,
        lr: float = ...,
        clip: float = ...,
        seed: int = ...,
        normalize: _Normalize = ...,
        val_fraction: float = ...,
        patience: Optional[int] = ...,
        plateau: Optional[int] = ...,
        objective: _Objective = ...,
        contrast_weight: Optional[float] = None,
        min_crop: Optional[float] = None,
        backend: _Backend = ...,
        n_threads: Optional[int] = None,
        verbose: int = 0,
        allow_missing: bool = False,
        random_state: Union[int, np.random.RandomState, None] = None,
        n_jobs: Optional[int] = None,
    ) -> None:
        """Stores the parameters; nothing is checked until ``fit``."""
    def fit(self, X: _ArrayLike, y: Any = None) -> "SeqAEClusterer":
        """Trains the autoencoder on X, embeds X and clusters the latent vectors."""
    def fit_predict(self, X: _ArrayLike, y: Any = None) -> npt.NDArray[np.int64]:
        """``fit(X).labels_``."""
    def predict(self, X: _ArrayLike) -> npt.NDArray[np.int64]:
        """The cluster of each sequence (on the training data: ``labels_``)."""
    def transform(self, X: _ArrayLike) -> npt.NDArray[np.float64]:
        """Distances of the latent vectors to the cluster centres, (n_cases, n_clusters_)."""
    def fit_transform(self, X: _ArrayLike, y: Any = None, **fit_params: Any) -> npt.NDArray[np.float64]:
        """``fit(X).transform(X)``."""
    def predict_proba(self, X: _ArrayLike) -> npt.NDArray[np.float64]:
        """The clusters of ``predict`` as one-hot rows, (n_cases, n_clusters_)."""
    def score(self, X: _ArrayLike, y: Any = None) -> float:
        """Mean silhouette of the clusters of X in the latent space (higher is better)."""
    def save(self, path: _Path) -> None:
        """Writes the model directory with the clustering (``seqae.load`` gives it back)."""

def device_name(backend: _Backend = "gpu") -> str:
    """What ``backend`` runs on (for "gpu" the adapter's name and graphics API); ValueError
    for an unknown backend, RuntimeError saying what is missing when it cannot run here."""

def load(
    path: _Path, *, backend: _Backend = "flex", n_threads: Optional[int] = None
) -> Union[SeqAE, SeqAEClusterer]:
    """The fitted estimator of a model directory: a SeqAEClusterer when it holds a
    clustering (``SeqAEClusterer.save``), else a SeqAE with the parameters it was fitted
    with."""

def read(
    path: _Path,
    *,
    format: Optional[str] = None,
    allow_missing: bool = False,
    label_column: Union[str, int, None] = None,
    id_column: Union[str, int, None] = None,
    time_column: Union[str, int, None] = None,
    header: Optional[bool] = None,
    delimiter: Optional[str] = None,
) -> tuple[Union[npt.NDArray[np.float32], list[npt.NDArray[np.float32]]], Optional[npt.NDArray[np.str_]]]:
    """Reads .ts, .tsv, .csv (wide, or format="csv-long") or .npy data, or a folder of them
    (NAME_TRAIN before NAME_TEST), as ``seqae`` does. Returns (X, y): X float32
    (n, channels, length) when lengths are equal, else a list of (channels, length_i);
    y the labels as str, or None."""


class KShape(ClusterMixin, BaseEstimator):
    """k-Shape on the raw sequences, as ``seqae cluster DATA --method kshape``."""

    n_clusters: int
    n_init: int
    max_iter: int
    seed: int
    n_threads: Optional[int]
    allow_missing: bool
    random_state: Union[int, np.random.RandomState, None]
    n_jobs: Optional[int]
    labels_: npt.NDArray[np.int64]
    cluster_centers_: npt.NDArray[np.float32]
    inertia_: float
    n_iter_: int
    n_features_in_: int
    def __init__(
        self,
        n_clusters: int = 3,
        *,
        n_init: int = 3,
        max_iter: int = 100,
        seed: int = 0,
        n_threads: Optional[int] = None,
        allow_missing: bool = False,
        random_state: Union[int, np.random.RandomState, None] = None,
        n_jobs: Optional[int] = None,
    ) -> None: ...
    def fit(self, X: _ArrayLike, y: Any = None) -> "KShape": ...
    def fit_predict(self, X: _ArrayLike, y: Any = None) -> npt.NDArray[np.int64]: ...
    def predict(self, X: _ArrayLike) -> npt.NDArray[np.int64]: ...
