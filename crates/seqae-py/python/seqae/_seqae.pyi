"""The Rust extension module of seqae (pyo3). Use the estimators in :mod:`seqae`; this
module is their engine and its API may change."""

from typing import Any, Optional, Union, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "Model",
    "__version__",
    "cluster",
    "defaults",
    "descriptions",
    "device_name",
    "kshape",
    "kshape_predict",
    "read",
]

__version__: str
"""Version of the Rust crates."""

_Sequences = Union[npt.NDArray[np.float32], list[npt.NDArray[np.float32]]]
"""C-contiguous float32 (n, channels, length), or a list of (channels, length_i)."""

def defaults() -> dict[str, Any]:
    """The library's defaults under the estimators' parameter names, plus
    ``library_epochs`` and ``library_min_updates`` (what ``epochs=None`` means)."""

def descriptions() -> list[tuple[str, str, str]]:
    """(name, values, description) of every hyperparameter, in the estimators' order."""

def device_name(backend: str = "gpu") -> str:
    """What ``backend`` runs on (for "gpu" the adapter's name); RuntimeError saying what is
    missing when it cannot run here."""

def read(
    path: str,
    format: Optional[str] = None,
    allow_missing: bool = False,
    label_column: Union[str, int, None] = None,
    id_column: Union[str, int, None] = None,
    time_column: Union[str, int, None] = None,
    header: Optional[bool] = None,
    delimiter: Optional[str] = None,
) -> tuple[_Sequences, Optional[list[str]]]:
    """Reads data as the CLI does: (sequences, labels or None)."""

def cluster(
    z: npt.NDArray[np.float32],
    x: Optional[_Sequences] = None,
    n_clusters: Optional[int] = None,
    k_max: int = 10,
    method: str = "auto",
    n_init: Optional[int] = None,
    seed: int = 0,
    allow_missing: bool = False,
    n_threads: Optional[int] = None,
) -> dict[str, Any]:
    """Clusters the rows of z (with the sequences x beside them) as ``seqae cluster``: keys
    labels, centres, k, method, view, scores, inertia, notes."""

def kshape(
    x: _Sequences,
    n_clusters: int,
    n_init: int = 3,
    max_iter: int = 100,
    seed: int = 0,
    allow_missing: bool = False,
    n_threads: Optional[int] = None,
) -> dict[str, Any]:
    """k-Shape on the sequences x: keys labels, centroids (k, channels, length), inertia,
    n_iter."""

def kshape_predict(
    centroids: npt.NDArray[np.float32],
    x: _Sequences,
    allow_missing: bool = False,
    n_threads: Optional[int] = None,
) -> npt.NDArray[np.int64]:
    """The nearest centroid of each sequence of x by the shape-based distance."""

@final
class Model:
    """A fitted sequence autoencoder (Rust ``seqae_model::SeqAe``). Pickles as its model
    directory's bytes."""

    channels: int
    """Channels of the training data."""
    latent: int
    """Size of the latent vectors."""
    num_params: int
    """Trainable values."""
    params: dict[str, Any]
    """The architecture under the estimator's names (patch: the fitted size)."""
    history: dict[str, Any]
    """How it was fitted (per-epoch losses, best epoch, sizes)."""

    @staticmethod
    def fit(
        x: _Sequences,
        params: dict[str, Any],
        allow_missing: bool = False,
        verbose: int = 0,
        n_threads: Optional[int] = None,
    ) -> tuple["Model", Optional[str], Optional[int]]:
        """Trains without the GIL; returns (model, divergence message or None, the epoch a
        signal stopped training after, or None)."""
    def embed(
        self, x: _Sequences, allow_missing: bool = False, n_threads: Optional[int] = None
    ) -> npt.NDArray[np.float32]:
        """Latent vectors, (n, latent)."""
    def reconstruct(
        self,
        x: _Sequences,
        allow_missing: bool = False,
        pad_to: Optional[int] = None,
        n_threads: Optional[int] = None,
    ) -> _Sequences:
        """Reconstructions: (n, channels, pad_to) NaN-padded, or a list."""
    def errors(
        self, x: _Sequences, allow_missing: bool = False, n_threads: Optional[int] = None
    ) -> npt.NDArray[np.float32]:
        """Reconstruction error per sequence, (n,)."""
    def decode(
        self, z: npt.NDArray[np.float32], length: int, n_threads: Optional[int] = None
    ) -> npt.NDArray[np.float32]:
        """The sequences the decoder writes from latent vectors: (n, channels, length)."""
    def save(self, path: str, extras: Optional[list[tuple[str, bytes]]] = None) -> None:
        """Writes the model directory, with extra files published together with it."""
    @staticmethod
    def load(path: str, backend: str = "flex") -> "Model":
        """Reads a model directory."""
    def files(self) -> dict[str, bytes]:
        """The model directory's files."""
    @staticmethod
    def from_files(files: dict[str, bytes]) -> "Model":
        """The model whose directory holds these files."""
