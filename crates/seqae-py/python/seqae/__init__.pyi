"""seqae: sequence autoencoders (RNN, LSTM, GRU) for unsupervised learning on time series.

Data are in aeon's layout: an array ``(n_cases, n_channels, n_timepoints)``, a 2-D array
``(n_cases, n_timepoints)`` of univariate sequences, or a list of ``(n_channels, length_i)``
arrays for sequences of unequal length; any real dtype (cast to float32), pandas DataFrames
through ``np.asarray``. Trailing all-NaN time steps are padding that ends a sequence early;
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

__all__ = ["SeqAE", "SeqAEClusterer", "read", "load", "__version__"]

ArrayLike = Union[npt.ArrayLike, Sequence[npt.ArrayLike]]
"""Sequences: (n_cases, n_channels, n_timepoints), (n_cases, n_timepoints), or a list of
(n_channels, length_i) (or (length_i,)) arrays."""

Path = Union[str, PathLike[str]]

class SeqAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """A recurrent sequence autoencoder as a scikit-learn transformer.

    Parameters (named as the ``seqae train`` flags; defaults are the library's):

    cell : "gru", "lstm" or "rnn"
        Recurrent cell of the encoder and decoder (default "gru").
    hidden : int
        Hidden units per layer and direction (default 64).
    latent : int
        Size of the latent vector, the embedding (default 32).
    layers : int
        Stacked recurrent layers in encoder and decoder (default 1).
    bidirectional : bool
        Read each sequence in both directions in the encoder (default True).
    dropout : float
        Dropout between stacked layers while training, in [0, 1) (default 0).
    patch : "auto" or int
        Time steps read as one recurrent step; "auto" leaves at most 32 recurrent steps.
    pooling : "mean", "last", "max" or "last-mean"
        How the encoder's states become the latent vector (default "mean").
    decoder_input : "unconditioned", "latent", "teacher-forcing" or "free-running"
        What the decoder receives at each step (default "unconditioned").
    teacher_ratio : float
        With teacher forcing, the probability of feeding the true previous value (0.5).
    same_order : bool
        Reconstruct in the same order instead of reversed (default False).
    epochs : int or None
        None: the library's 100 epochs, and more on small data so that training makes at
        least ``min_updates`` (default 2000) updates. An int: exactly that many epochs (the
        floor is off unless ``min_updates`` is also given).
    min_updates : int or None
        Train at least this many batches (0: off); None: the library's 2000 unless
        ``epochs`` is given.
    batch : int
        Sequences per batch (default 32).
    lr : float
        Adam learning rate (default 1e-3).
    clip : float
        Clip the global gradient norm to this (0: off; default 1.0).
    seed : int
        Seed of weights, shuffling and every random draw (default 0): the same seed gives
        the same model and embeddings as ``seqae train --seed``.
    normalize : "global", "zscore", "minmax" or "none"
        Normalisation, stored in the model (default "global": per channel over the
        training set).
    val_fraction : float
        Fraction held out for validation (default 0).
    patience : int or None
        Stop after this many epochs without improvement, keeping the best weights.
    plateau : int or None
        Halve the learning rate after this many epochs without improvement.
    objective : "reconstruction" or "contrastive"
        What training minimises (default "reconstruction").
    contrast_weight : float
        Weight of the contrastive term (with objective="contrastive").
    min_crop : float
        Shortest crop of a contrastive view, as a fraction of the sequence.
    backend : "flex" or "ndarray"
        burn backend (default "flex").
    n_threads : int or None
        Threads for training and inference; None: one per CPU (or RAYON_NUM_THREADS).
    verbose : int
        0: silent; 1: about ten progress lines on stderr; 2: one per epoch.
    allow_missing : bool
        Accept NaN inside sequences as missing values (default False).

    Fitted attributes: ``model_``, ``n_channels_``, ``n_features_in_`` (a 2-D input's
    columns, else the channels), ``patch_``, ``history_``, ``n_epochs_``.
    """

    cell: str
    hidden: int
    latent: int
    layers: int
    bidirectional: bool
    dropout: float
    patch: Union[str, int]
    pooling: str
    decoder_input: str
    teacher_ratio: float | None
    same_order: bool
    epochs: Optional[int]
    min_updates: Optional[int]
    batch: int
    lr: float
    clip: float
    seed: int
    normalize: str
    val_fraction: float
    patience: Optional[int]
    plateau: Optional[int]
    objective: str
    contrast_weight: float | None
    min_crop: float | None
    backend: str
    n_threads: Optional[int]
    verbose: int
    allow_missing: bool
    model_: _seqae.Model
    """The fitted Rust model."""
    n_channels_: int
    """Channels of the training data."""
    n_features_in_: int
    """Columns of a 2-D training input, else its channels."""
    patch_: int
    """Time steps per recurrent step of the fitted model."""
    history_: dict[str, Any]
    """train_loss, val_loss, lr (per epoch), best_epoch, stopped_early, train_size, val_size."""
    n_epochs_: int
    """Epochs trained."""

    def __init__(
        self,
        *,
        cell: str = ...,
        hidden: int = ...,
        latent: int = ...,
        layers: int = ...,
        bidirectional: bool = ...,
        dropout: float = ...,
        patch: Union[str, int] = ...,
        pooling: str = ...,
        decoder_input: str = ...,
        teacher_ratio: float | None = ...,
        same_order: bool = ...,
        epochs: Optional[int] = None,
        min_updates: Optional[int] = None,
        batch: int = ...,
        lr: float = ...,
        clip: float = ...,
        seed: int = ...,
        normalize: str = ...,
        val_fraction: float = ...,
        patience: Optional[int] = None,
        plateau: Optional[int] = None,
        objective: str = ...,
        contrast_weight: float | None = ...,
        min_crop: float | None = ...,
        backend: str = ...,
        n_threads: Optional[int] = None,
        verbose: int = 0,
        allow_missing: bool = False,
    ) -> None:
        """Stores the parameters (see the class documentation); nothing is checked until
        ``fit``."""
    def fit(self, X: ArrayLike, y: Any = None) -> "SeqAE":
        """Trains the autoencoder on X (y is ignored) without the GIL; returns self.
        Ctrl-C stops training after the current batch and raises KeyboardInterrupt. A
        divergence warns (ConvergenceWarning) and keeps the last good epoch's weights."""
    def transform(self, X: ArrayLike) -> npt.NDArray[np.float32]:
        """The latent vector of each sequence: float32 (n_cases, latent). A sequence's
        embedding does not depend on the other sequences in X."""
    def fit_transform(self, X: ArrayLike, y: Any = None) -> npt.NDArray[np.float32]:
        """``fit(X).transform(X)``."""
    def reconstruct(self, X: ArrayLike) -> Union[npt.NDArray[np.float32], list[npt.NDArray[np.float32]]]:
        """Reconstructions in the original units, in X's layout (NaN past a sequence's
        end)."""
    def reconstruction_error(self, X: ArrayLike) -> npt.NDArray[np.float32]:
        """Mean squared reconstruction error per sequence (normalised units), (n_cases,)."""
    def score_samples(self, X: ArrayLike) -> npt.NDArray[np.float32]:
        """Negative reconstruction error: higher is more normal, (n_cases,)."""
    def save(self, path: Path) -> None:
        """Writes the CLI's model directory (``seqae embed`` reads it); replaces a model
        directory, refuses one holding other files."""
    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Names of the latent dimensions: seqae0, seqae1, ..."""
    def __getstate__(self) -> dict[str, Any]:
        """Pickle state: the parameters and the model directory as {file name: bytes}."""
    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuilds the fitted model from its files."""

class SeqAEClusterer(ClusterMixin, BaseEstimator):
    """The sequence autoencoder, then clustering of the latent vectors.

    n_clusters : int or "auto"
        Clusters, or "auto": the best mean k-means silhouette over 2..=k_max (as
        ``seqae cluster --k auto``).
    clusterer : "auto", "spectral", "kmeans" or "kshape"
        "auto" (default, as ``seqae evaluate``): the best of the latent, raw-value, shape and
        warping views by stability; spectral clustering on the latents' nearest-neighbour
        graph; k-means (10 restarts); or k-Shape on the raw sequences.
    k_max : int
        Largest k tried by "auto" (default 10).

    Every other parameter is :class:`SeqAE`'s; ``seed`` also seeds the clustering.
    Fitted attributes: ``autoencoder_`` (the fitted SeqAE), ``labels_``,
    ``cluster_centers_``, ``n_clusters_``, ``silhouette_scores_``, ``inertia_``, ``method_``,
    ``view_``, ``n_features_in_``.
    """

    n_clusters: Union[int, Literal["auto"]]
    clusterer: str
    k_max: int
    method_: str
    """The method that produced the clusters."""
    view_: Optional[str]
    """The view ``"auto"`` kept, or None."""
    autoencoder_: SeqAE
    """The fitted autoencoder."""
    labels_: npt.NDArray[np.int64]
    """Cluster of each training sequence."""
    cluster_centers_: npt.NDArray[np.float32]
    """k x latent: the k-means centres, or each spectral cluster's mean latent vector."""
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
        clusterer: Literal["auto", "spectral", "kmeans", "kshape"] = "auto",
        k_max: int = 10,
        **autoencoder_params: Any,
    ) -> None:
        """Stores the parameters; the autoencoder's are SeqAE's (same names and defaults)."""
    def fit(self, X: ArrayLike, y: Any = None) -> "SeqAEClusterer":
        """Trains the autoencoder on X, embeds X and clusters the latent vectors."""
    def fit_predict(self, X: ArrayLike, y: Any = None) -> npt.NDArray[np.int64]:
        """``fit(X).labels_``."""
    def predict(self, X: ArrayLike) -> npt.NDArray[np.int64]:
        """The nearest cluster centre of each sequence's latent vector."""
    def save(self, path: Path) -> None:
        """Writes the autoencoder's model directory (the clustering is not saved)."""

def load(path: Path, *, backend: str = "flex", n_threads: Optional[int] = None) -> SeqAE:
    """The fitted SeqAE of a model directory written by ``seqae train`` or ``SeqAE.save``
    (architecture from the model, training parameters at their defaults)."""

def read(
    path: Path,
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


class KShape:
    """k-Shape on the raw sequences, as ``seqae cluster DATA --method kshape``.

    n_clusters : int
        Clusters.
    n_init : int
        Restarts from random assignments (default 3); the lowest summed distance wins.
    max_iter : int
        Rounds per restart (default 100).
    seed : int
        Seed of the initial assignments.
    """

    n_clusters: int
    n_init: int
    max_iter: int
    seed: int
    n_threads: Optional[int]
    allow_missing: bool
    labels_: Any
    cluster_centers_: Any
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
    ) -> None: ...
    def fit(self, X: Any, y: Any = None) -> "KShape": ...
    def fit_predict(self, X: Any, y: Any = None) -> Any: ...
    def predict(self, X: Any) -> Any: ...
