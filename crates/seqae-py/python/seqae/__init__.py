"""seqae: sequence autoencoders (RNN, LSTM, GRU) for unsupervised learning on time series.

A recurrent encoder compresses each sequence into a latent vector; a recurrent decoder
rebuilds the sequence from it. The estimators follow scikit-learn's conventions:

- :class:`SeqAE`, a transformer: ``fit``, ``transform`` (the latent vectors),
  ``reconstruct``, ``score_samples`` (higher is more normal), ``save``;
- :class:`SeqAEClusterer`, the autoencoder then spectral clustering or k-means on the
  latent vectors, with the number of clusters given or chosen by silhouette;
- :func:`read`, every data format the ``seqae`` command line reads;
- :func:`load`, a model directory written by ``seqae train`` or :meth:`SeqAE.save`;
- :func:`device_name`, what ``backend="gpu"`` (or another backend) runs on here.

Data are in aeon's layout: an array ``(n_cases, n_channels, n_timepoints)``, a 2-D array
``(n_cases, n_timepoints)`` of univariate sequences, or a list of ``(n_channels, length_i)``
arrays for sequences of unequal length; pandas frames: wide (one row per case), aeon's
pd-multiindex (case, time) and nested_univ. Values are cast to float32. Trailing all-NaN time
steps are padding that ends a sequence early; other NaNs are missing values, accepted with
``allow_missing=True``.

The defaults of every hyperparameter are the library's (those of ``seqae train`` with no
flags), read from the Rust library when this module is imported.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    clone,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _layouts, _seqae
from ._seqae import __version__

__all__ = [
    "SeqAE",
    "SeqAEClusterer",
    "KShape",
    "read",
    "load",
    "device_name",
    "__version__",
]


def __dir__():
    """The public names (the module's imports and helpers stay out of ``dir(seqae)``)."""
    return sorted(__all__)

#: The library's defaults under the estimators' parameter names (see :func:`_seqae.defaults`).
_DEFAULTS = _seqae.defaults()

#: The autoencoder's parameters, in the order of ``SeqAE.__init__``.
_AE_PARAMS = (
    "cell",
    "hidden",
    "latent",
    "layers",
    "bidirectional",
    "dropout",
    "patch",
    "pooling",
    "decoder_input",
    "teacher_ratio",
    "same_order",
    "epochs",
    "min_updates",
    "batch",
    "lr",
    "clip",
    "seed",
    "normalize",
    "val_fraction",
    "patience",
    "plateau",
    "objective",
    "contrast_weight",
    "min_crop",
    "backend",
    "n_threads",
    "verbose",
    "allow_missing",
    "random_state",
    "n_jobs",
)

#: Parameters that are not the model's or its training's (not passed to the Rust mapping).
_RUN_PARAMS = ("n_threads", "verbose", "allow_missing", "random_state", "n_jobs")


def _seed_of(est):
    """The seed of a fit: ``random_state`` when given (an int, or a draw from a numpy
    ``RandomState``, as scikit-learn reads it), else ``seed``."""
    rs = getattr(est, "random_state", None)
    if rs is None:
        return est.seed
    if isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and rs >= 0:
        return int(rs)
    if isinstance(rs, np.random.RandomState):
        return int(rs.randint(np.iinfo(np.int32).max))
    raise ValueError(
        f"random_state = {rs!r}: must be None, a whole number >= 0 or a numpy RandomState"
    )


def _threads_of(est):
    """The threads of a call: ``n_jobs`` when given (-1: every CPU, -2: all but one, as
    joblib counts), else ``n_threads``."""
    jobs = getattr(est, "n_jobs", None)
    if jobs is None:
        return est.n_threads
    if not isinstance(jobs, numbers.Integral) or isinstance(jobs, bool) or jobs == 0:
        raise ValueError(f"n_jobs = {jobs!r}: must be None, -1, or a whole number other than 0")
    if jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + int(jobs))
    return int(jobs)


def _real_dtype(a, what):
    """Refuses complex, string, bytes and other non-numeric dtypes with a ValueError."""
    if np.iscomplexobj(a):
        raise ValueError(f"Complex data not supported: {what} has dtype {a.dtype}")


class _Sequences:
    """Input sequences, converted for the Rust side, and how to give outputs the same layout.

    ``data`` is a C-contiguous float32 array ``(n, channels, length)`` or a list of
    C-contiguous float32 arrays ``(channels, length_i)``.
    """

    def __init__(self, data, kind, shapes, n_channels):
        self.data = data
        self.kind = kind  # "2d", "3d" or "list"
        self.shapes = shapes  # the input's shape, or each list element's shape
        self.n_channels = n_channels

    def __len__(self):
        return len(self.data) if self.kind == "list" else self.data.shape[0]


def _ragged(X):
    """True when X is a list (or tuple, or 1-D object array) of per-sequence arrays."""
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    if isinstance(X, (list, tuple)) and len(X) > 0:
        first = X[0]
        if isinstance(first, np.ndarray) and first.ndim == 2:
            return True
        shapes = {np.shape(x) for x in X}
        return len(shapes) > 1
    return False


def _sequences(estimator, X, *, fit):
    """Checks and converts X (see the module documentation).

    In ``fit`` sets ``n_features_in_`` (a 2-D input's columns, otherwise the channels) and,
    for a DataFrame, ``feature_names_in_``.
    """
    X = _layouts.from_frame(X)
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError(
            "Found array with 0 sample(s) (X is an empty list) while a minimum of 1 is required."
        )
    if _ragged(X):
        items = []
        shapes = []
        for i, x in enumerate(X):
            a = np.asarray(x)
            if a.dtype == object:
                try:
                    a = a.astype(np.float64)
                except (TypeError, ValueError) as e:
                    raise type(e)(f"sequence {i}: {e}") from None
            _real_dtype(a, f"sequence {i}")
            if a.ndim == 1:
                a = a[np.newaxis, :]
            elif a.ndim != 2:
                raise ValueError(
                    f"sequence {i} has shape {a.shape}: expected (n_channels, length) "
                    "or (length,)"
                )
            shapes.append(np.shape(x))
            try:
                items.append(np.ascontiguousarray(a, dtype=np.float32))
            except (TypeError, ValueError) as e:
                raise type(e)(f"sequence {i}: {e}") from None
        channels = items[0].shape[0]
        if fit:
            estimator.n_features_in_ = channels
            if hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
        return _Sequences(items, "list", shapes, channels)
    options = dict(
        dtype=np.float32,
        ensure_all_finite="allow-nan",
        allow_nd=True,
        ensure_min_samples=1,
        ensure_min_features=1,
    )
    if fit:
        a = validate_data(estimator, X, reset=True, **options)
    else:
        a = check_array(X, **options, input_name="X")
    if a.ndim == 2:
        kind = "2d"
        a3 = a[:, np.newaxis, :]
    elif a.ndim == 3:
        kind = "3d"
        a3 = a
        if a.shape[2] == 0:
            raise ValueError(
                f"X has shape {a.shape}: 0 time steps; every sequence needs at least one"
            )
        if a.shape[1] > a.shape[2]:
            warnings.warn(
                f"X has shape (n, C, T) = {a.shape}: more channels (C) than time steps (T); "
                "seqae reads (n_cases, n_channels, n_timepoints) as aeon does. If your array "
                "is channels-last (n, T, C) as tslearn's, pass X.transpose(0, 2, 1)",
                UserWarning,
                stacklevel=3,
            )
    else:
        raise ValueError(
            f"X has {a.ndim} dimensions (shape {a.shape}): expected "
            "(n_cases, n_channels, n_timepoints) or (n_cases, n_timepoints)"
        )
    return _Sequences(
        np.ascontiguousarray(a3, dtype=np.float32), kind, a.shape, a3.shape[1]
    )


def _with_layout(seqs, out):
    """Puts reconstructions (a 3-D array or a list, from Rust) into the input's layout."""
    if seqs.kind == "2d":
        return out[:, 0, :]
    if seqs.kind == "3d":
        return out
    result = []
    for shape, r in zip(seqs.shapes, out):
        full = np.full((r.shape[0], shape[-1]), np.nan, dtype=np.float32)
        full[:, : r.shape[1]] = r
        result.append(full[0] if len(shape) == 1 else full)
    return result


class _SequenceInput:
    """The scikit-learn tags of an estimator of sequences: 3-D input, NaN accepted as missing
    values when ``allow_missing`` is set."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = bool(self.allow_missing)
        tags.input_tags.three_d_array = True
        return tags


class SeqAE(_SequenceInput, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    # The docstring (summary, Parameters, Attributes) is built below the class, from the
    # library's descriptions of its hyperparameters.

    def __init__(
        self,
        *,
        cell=_DEFAULTS["cell"],
        hidden=_DEFAULTS["hidden"],
        latent=_DEFAULTS["latent"],
        layers=_DEFAULTS["layers"],
        bidirectional=_DEFAULTS["bidirectional"],
        dropout=_DEFAULTS["dropout"],
        patch=_DEFAULTS["patch"],
        pooling=_DEFAULTS["pooling"],
        decoder_input=_DEFAULTS["decoder_input"],
        teacher_ratio=_DEFAULTS["teacher_ratio"],
        same_order=_DEFAULTS["same_order"],
        epochs=_DEFAULTS["epochs"],
        min_updates=_DEFAULTS["min_updates"],
        batch=_DEFAULTS["batch"],
        lr=_DEFAULTS["lr"],
        clip=_DEFAULTS["clip"],
        seed=_DEFAULTS["seed"],
        normalize=_DEFAULTS["normalize"],
        val_fraction=_DEFAULTS["val_fraction"],
        patience=_DEFAULTS["patience"],
        plateau=_DEFAULTS["plateau"],
        objective=_DEFAULTS["objective"],
        contrast_weight=_DEFAULTS["contrast_weight"],
        min_crop=_DEFAULTS["min_crop"],
        backend=_DEFAULTS["backend"],
        n_threads=None,
        verbose=0,
        allow_missing=False,
        random_state=None,
        n_jobs=None,
    ):
        self.cell = cell
        self.hidden = hidden
        self.latent = latent
        self.layers = layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.patch = patch
        self.pooling = pooling
        self.decoder_input = decoder_input
        self.teacher_ratio = teacher_ratio
        self.same_order = same_order
        self.epochs = epochs
        self.min_updates = min_updates
        self.batch = batch
        self.lr = lr
        self.clip = clip
        self.seed = seed
        self.normalize = normalize
        self.val_fraction = val_fraction
        self.patience = patience
        self.plateau = plateau
        self.objective = objective
        self.contrast_weight = contrast_weight
        self.min_crop = min_crop
        self.backend = backend
        self.n_threads = n_threads
        self.verbose = verbose
        self.allow_missing = allow_missing
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _model_params(self):
        params = self.get_params(deep=False)
        for name in _RUN_PARAMS:
            params.pop(name)
        params["seed"] = _seed_of(self)
        return params

    def _set_fitted(self, model):
        self.model_ = model
        self.n_channels_ = model.channels
        self.patch_ = model.params["patch"]
        self.history_ = model.history
        self.n_epochs_ = len(self.history_["train_loss"])
        self._n_features_out = model.latent

    def fit(self, X, y=None):
        """Trains the autoencoder on the sequences X (y is ignored); returns self.

        Releases the GIL while training. Ctrl-C stops training after the current batch and
        raises KeyboardInterrupt; the estimator then keeps the model of the last finished epoch
        (it is left unfitted when none had finished).
        """
        seqs = _sequences(self, X, fit=True)
        model, diverged, stopped = _seqae.Model.fit(
            seqs.data,
            self._model_params(),
            allow_missing=bool(self.allow_missing),
            verbose=int(self.verbose),
            n_threads=_threads_of(self),
        )
        if diverged is not None:
            warnings.warn(
                f"{diverged} (the model keeps the weights of the last good epoch)",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._set_fitted(model)
        self._input_kind_ = seqs.kind
        self.n_timepoints_ = (
            max(shape[-1] for shape in seqs.shapes) if seqs.kind == "list" else seqs.data.shape[2]
        )
        if stopped is not None:
            raise KeyboardInterrupt(
                f"training stopped after epoch {stopped}; the estimator keeps that epoch's model"
            )
        return self

    def _checked(self, X):
        check_is_fitted(self, "model_")
        return _sequences(self, X, fit=False)

    def transform(self, X):
        """The latent vector of each sequence: a float32 array (n_cases, latent)."""
        seqs = self._checked(X)
        return self.model_.embed(
            seqs.data, allow_missing=bool(self.allow_missing), n_threads=_threads_of(self)
        )

    def reconstruct(self, X):
        """The reconstruction of each sequence in the original units, in X's layout.

        Time steps past a sequence's end (trailing NaN padding) are NaN; missing values are
        reconstructed.
        """
        seqs = self._checked(X)
        pad_to = seqs.data.shape[2] if seqs.kind != "list" else None
        out = self.model_.reconstruct(
            seqs.data,
            allow_missing=bool(self.allow_missing),
            pad_to=pad_to,
            n_threads=_threads_of(self),
        )
        return _with_layout(seqs, out)

    def reconstruction_error(self, X):
        """The mean squared reconstruction error of each sequence (normalised units)."""
        seqs = self._checked(X)
        return self.model_.errors(
            seqs.data, allow_missing=bool(self.allow_missing), n_threads=_threads_of(self)
        )

    def decode(self, Z, length=None):
        """The sequences the decoder writes from latent vectors ``Z`` (n, latent), in the
        layout of the training input: (n, length) for a 2-D input, else
        (n, n_channels, length). ``length`` defaults to the longest training sequence
        (``n_timepoints_``). Values are in the original units for the "global" and "minmax"
        normalisations, in normalised units for "zscore" and "none".
        """
        check_is_fitted(self, "model_")
        if length is None:
            length = getattr(self, "n_timepoints_", None)
            if length is None:
                raise ValueError(
                    "the training length of a loaded model is not known: pass length="
                )
        if not isinstance(length, numbers.Integral) or isinstance(length, bool) or length < 1:
            raise ValueError(f"length = {length!r}: must be a whole number of at least 1")
        Z = check_array(Z, dtype=np.float32, input_name="Z")
        out = self.model_.decode(
            np.ascontiguousarray(Z), int(length), n_threads=_threads_of(self)
        )
        if getattr(self, "_input_kind_", None) == "2d" and out.shape[1] == 1:
            return out[:, 0, :]
        return out

    def score_samples(self, X):
        """The anomaly score as scikit-learn orients it: the negative reconstruction error
        (higher is more normal). A float32 array (n_cases,)."""
        return -self.reconstruction_error(X)

    def save(self, path):
        """Writes the model directory ``path`` (the CLI's format: ``seqae embed`` reads it).

        A directory that holds a model is replaced; one that holds other files is refused.
        """
        check_is_fitted(self, "model_")
        self.model_.save(str(path), extras=self._extras())

    def _extras(self):
        """What the model directory keeps of the estimator besides the model: the input's
        layout and length (for :meth:`decode` after :func:`load`)."""
        meta = {
            "input_kind": getattr(self, "_input_kind_", None),
            "n_timepoints": getattr(self, "n_timepoints_", None),
        }
        return [("estimator.json", json.dumps(meta).encode())]

    def __getstate__(self):
        # A copy: object.__getstate__ may return the instance's own __dict__.
        state = dict(super().__getstate__())
        model = state.pop("model_", None)
        if model is not None:
            state["_model_files"] = model.files()
        return state

    def __setstate__(self, state):
        state = dict(state)
        files = state.pop("_model_files", None)
        super().__setstate__(state)
        if files is not None:
            self.model_ = _seqae.Model.from_files(files)


def device_name(backend="gpu"):
    """What ``backend`` runs on: for ``"gpu"`` the adapter's name as its driver reports it,
    with the graphics API and the shaders' language, e.g. ``"NVIDIA H100 80GB HBM3 (Vulkan,
    WGSL)"`` (``SPIR-V`` in a package built with the ``vulkan`` feature).

    Raises ValueError for an unknown backend, and RuntimeError saying what is missing when
    the backend cannot run here: a package built without the ``gpu`` feature, or no usable
    GPU (on Linux the GPU's Vulkan driver and libvulkan1).
    """
    return _seqae.device_name(backend)


def load(path, *, backend="flex", n_threads=None):
    """The fitted :class:`SeqAE` of a model directory (from ``seqae train`` or ``save``).

    Its parameters are those the model was fitted with (stored in the model file), so
    ``get_params()`` equals the fitted estimator's and a clone refits the same model; a model
    file written before they were stored gives its architecture, and defaults for the rest.
    ``backend`` is where the loaded model runs.
    """
    model = _seqae.Model.load(str(path), backend=backend)
    params = {k: v for k, v in model.params.items() if k in _AE_PARAMS}
    params["backend"] = backend
    est = SeqAE(**params, n_threads=n_threads)
    est._set_fitted(model)
    est.n_features_in_ = model.channels
    meta = _read_json(path, "estimator.json")
    if meta is not None:
        if meta.get("input_kind") is not None:
            est._input_kind_ = meta["input_kind"]
        if meta.get("n_timepoints") is not None:
            est.n_timepoints_ = int(meta["n_timepoints"])
    clustering = _read_json(path, "clustering.json")
    if clustering is None:
        return est
    return SeqAEClusterer._restored(est, clustering)


def _read_json(path, name):
    """The JSON file ``name`` of the model directory ``path``, or None when absent."""
    import pathlib

    file = pathlib.Path(path) / name
    if not file.is_file():
        return None
    try:
        return json.loads(file.read_text())
    except ValueError as e:
        raise ValueError(f"{file}: not a seqae file: {e}") from None


def read(
    path,
    *,
    format=None,
    allow_missing=False,
    label_column=None,
    id_column=None,
    time_column=None,
    header=None,
    delimiter=None,
):
    """Reads a data file (.ts, .tsv, .csv, .npy) or a folder of them, as ``seqae`` does.

    Returns ``(X, y)``: X a float32 array (n, channels, length) when every sequence has the
    same length, else a list of (channels, length_i) arrays; y a NumPy array of str labels,
    or None for unlabelled data.
    """
    X, y = _seqae.read(
        str(path),
        format=format,
        allow_missing=allow_missing,
        label_column=label_column,
        id_column=id_column,
        time_column=time_column,
        header=header,
        delimiter=delimiter,
    )
    return X, (None if y is None else np.asarray(y, dtype=str))


class SeqAEClusterer(
    _SequenceInput, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator
):
    # The docstring is built below the class, as SeqAE's.

    def __init__(
        self,
        n_clusters="auto",
        *,
        autoencoder=None,
        clusterer="auto",
        k_max=10,
        cell=_DEFAULTS["cell"],
        hidden=_DEFAULTS["hidden"],
        latent=_DEFAULTS["latent"],
        layers=_DEFAULTS["layers"],
        bidirectional=_DEFAULTS["bidirectional"],
        dropout=_DEFAULTS["dropout"],
        patch=_DEFAULTS["patch"],
        pooling=_DEFAULTS["pooling"],
        decoder_input=_DEFAULTS["decoder_input"],
        teacher_ratio=_DEFAULTS["teacher_ratio"],
        same_order=_DEFAULTS["same_order"],
        epochs=_DEFAULTS["epochs"],
        min_updates=_DEFAULTS["min_updates"],
        batch=_DEFAULTS["batch"],
        lr=_DEFAULTS["lr"],
        clip=_DEFAULTS["clip"],
        seed=_DEFAULTS["seed"],
        normalize=_DEFAULTS["normalize"],
        val_fraction=_DEFAULTS["val_fraction"],
        patience=_DEFAULTS["patience"],
        plateau=_DEFAULTS["plateau"],
        objective=_DEFAULTS["objective"],
        contrast_weight=_DEFAULTS["contrast_weight"],
        min_crop=_DEFAULTS["min_crop"],
        backend=_DEFAULTS["backend"],
        n_threads=None,
        verbose=0,
        allow_missing=False,
        random_state=None,
        n_jobs=None,
    ):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.clusterer = clusterer
        self.k_max = k_max
        self.cell = cell
        self.hidden = hidden
        self.latent = latent
        self.layers = layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.patch = patch
        self.pooling = pooling
        self.decoder_input = decoder_input
        self.teacher_ratio = teacher_ratio
        self.same_order = same_order
        self.epochs = epochs
        self.min_updates = min_updates
        self.batch = batch
        self.lr = lr
        self.clip = clip
        self.seed = seed
        self.normalize = normalize
        self.val_fraction = val_fraction
        self.patience = patience
        self.plateau = plateau
        self.objective = objective
        self.contrast_weight = contrast_weight
        self.min_crop = min_crop
        self.backend = backend
        self.n_threads = n_threads
        self.verbose = verbose
        self.allow_missing = allow_missing
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _k(self):
        k = self.n_clusters
        if isinstance(k, str) and k.lower() == "auto":
            return None
        if isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1:
            return int(k)
        raise ValueError(
            f"n_clusters = {k!r}: must be a whole number of at least 1 or 'auto'"
        )

    def _autoencoder(self):
        """The unfitted autoencoder: a clone of ``autoencoder`` when given (its parameters
        are then its own: the clusterer's must stay at their defaults), else one built from
        the clusterer's parameters."""
        if self.autoencoder is None:
            return SeqAE(**{name: getattr(self, name) for name in _AE_PARAMS})
        if not isinstance(self.autoencoder, SeqAE):
            raise TypeError(
                f"autoencoder = {type(self.autoencoder).__name__}: must be a seqae.SeqAE"
            )
        defaults = SeqAE().get_params()
        own = ("seed", "random_state", "n_threads", "n_jobs", "verbose", "allow_missing")
        changed = [
            name
            for name in _AE_PARAMS
            if name not in own and getattr(self, name) != defaults[name]
        ]
        if changed:
            raise ValueError(
                f"autoencoder= is given, so the autoencoder's parameters are its own; "
                f"set {', '.join(changed)} on it, not on the clusterer"
            )
        return clone(self.autoencoder)

    def fit(self, X, y=None):
        """Trains the autoencoder on X (y is ignored), embeds X and clusters the latent
        vectors; returns self."""
        k = self._k()
        seed = _seed_of(self)
        ae = self._autoencoder()
        if self.autoencoder is None:
            ae.set_params(seed=seed, random_state=None)
        z = ae.fit_transform(X)
        if k is None and z.shape[0] < 3:
            raise ValueError(
                "n_clusters='auto' needs at least 3 sequences to compare k = 2.. "
                f"(n_samples = {z.shape[0]})"
            )
        found = _seqae.cluster(
            z,
            x=_sequences(ae, X, fit=False).data,
            n_clusters=k,
            k_max=int(self.k_max),
            method=str(self.clusterer),
            seed=int(seed),
            allow_missing=bool(self.allow_missing),
            n_threads=_threads_of(self),
        )
        for note in found["notes"]:
            warnings.warn(note, stacklevel=2)
        self.autoencoder_ = ae
        self.n_features_in_ = ae.n_features_in_
        if hasattr(ae, "feature_names_in_"):
            self.feature_names_in_ = ae.feature_names_in_
        self._set_clustering(found, latent=z)
        return self

    def _set_clustering(self, found, latent):
        """The fitted attributes of a clustering ``found`` (the keys of ``_seqae.cluster``'s
        result, as ``clustering.json`` stores them) of the latent vectors ``latent``."""
        self.labels_ = np.asarray(found["labels"], dtype=np.int64)
        self.cluster_centers_ = np.asarray(found["centres"], dtype=np.float32)
        self.n_clusters_ = int(found["k"])
        self._n_features_out = self.n_clusters_
        self.silhouette_scores_ = {int(k): float(v) for k, v in found["scores"]}
        self.inertia_ = float(found["inertia"])
        self.method_ = method = found["method"]
        self.view_ = found["view"]
        # predict() reads the nearest training vector's cluster unless the clusters are
        # k-means' (whose centres decide): so predict(X) equals labels_ on the training data.
        self._train_latent_ = (
            None
            if method == "kmeans" or latent is None
            else np.asarray(latent, dtype=np.float32)
        )
        length = getattr(self.autoencoder_, "n_timepoints_", None)
        self.prototypes_ = (
            None if length is None else self.autoencoder_.decode(self.cluster_centers_)
        )

    def predict(self, X):
        """The cluster of each sequence (int64, n_cases): that of the nearest training
        latent vector (so ``predict`` on the training data gives ``labels_``), or of the
        nearest k-means centre when the clusters are k-means'.

        The latent vectors themselves are ``autoencoder_.transform(X)``.
        """
        check_is_fitted(self, "autoencoder_")
        return self._predict_latent(self.autoencoder_.transform(X))

    def _predict_latent(self, z):
        """:meth:`predict` of the latent vectors ``z``."""
        z = np.asarray(z, dtype=np.float64)
        ref = getattr(self, "_train_latent_", None)
        if ref is None:
            return _squared_distances(z, self.cluster_centers_).argmin(axis=1).astype(np.int64)
        out = np.empty(len(z), dtype=np.int64)
        for start in range(0, len(z), 1024):
            d = _squared_distances(z[start : start + 1024], ref)
            out[start : start + 1024] = self.labels_[d.argmin(axis=1)]
        return out

    def transform(self, X):
        """The Euclidean distance of each sequence's latent vector to each cluster centre
        (``cluster_centers_``): float64 (n_cases, n_clusters_), as k-means' ``transform``."""
        check_is_fitted(self, "autoencoder_")
        z = self.autoencoder_.transform(X).astype(np.float64)
        return np.sqrt(np.maximum(_squared_distances(z, self.cluster_centers_), 0.0))

    def predict_proba(self, X):
        """The clusters of :meth:`predict` as probabilities (one 1 a row: the clusters are
        hard assignments, as aeon reports them for hard clusterers); float64
        (n_cases, n_clusters_)."""
        labels = self.predict(X)
        proba = np.zeros((len(labels), self.n_clusters_), dtype=np.float64)
        proba[np.arange(len(labels)), labels] = 1.0
        return proba

    def score(self, X, y=None):
        """The mean silhouette of :meth:`predict`'s clusters of X in the latent space (on at
        most 5,000 sequences; 0 when they fall in one cluster): higher is better, so
        ``GridSearchCV`` works without ``scoring=``. y is ignored."""
        from sklearn.metrics import silhouette_score

        check_is_fitted(self, "autoencoder_")
        z = self.autoencoder_.transform(X)
        labels = self._predict_latent(z)
        distinct = len(np.unique(labels))
        if distinct < 2 or distinct >= len(labels):
            return 0.0
        n = min(len(labels), 5000)
        return float(silhouette_score(z, labels, sample_size=n, random_state=0))

    def save(self, path):
        """Writes the autoencoder's model directory (the CLI's format) with the clustering
        beside it (``clustering.json``): :func:`seqae.load` gives back this clusterer."""
        check_is_fitted(self, "autoencoder_")
        clustering = {
            "format": "seqae-clustering",
            "version": 1,
            "params": {
                "n_clusters": self.n_clusters,
                "clusterer": self.clusterer,
                "k_max": self.k_max,
                "seed": int(self.seed),
            },
            "labels": self.labels_.tolist(),
            "centres": self.cluster_centers_.tolist(),
            "k": self.n_clusters_,
            "scores": sorted(self.silhouette_scores_.items()),
            "inertia": self.inertia_,
            "method": self.method_,
            "view": self.view_,
            "train_latent": None
            if self._train_latent_ is None
            else self._train_latent_.tolist(),
        }
        extras = self.autoencoder_._extras()
        extras.append(("clustering.json", json.dumps(clustering).encode()))
        self.autoencoder_.model_.save(str(path), extras=extras)

    @classmethod
    def _restored(cls, ae, clustering):
        """The fitted clusterer of a loaded autoencoder ``ae`` and its ``clustering.json``."""
        if clustering.get("format") != "seqae-clustering":
            raise ValueError("clustering.json: not a seqae clustering")
        params = {k: v for k, v in ae.get_params().items() if k in _AE_PARAMS}
        params.update(clustering["params"])
        est = cls(**params)
        est.autoencoder_ = ae
        est.n_features_in_ = ae.n_features_in_
        est._set_clustering(clustering, latent=clustering.get("train_latent"))
        return est


def _squared_distances(a, b):
    """Squared Euclidean distances between the rows of ``a`` and of ``b`` (float64)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None, :]


class KShape(_SequenceInput, ClusterMixin, BaseEstimator):
    """k-Shape (Paparrizos and Gravano, SIGMOD 2015) on the raw sequences."""

    def __init__(
        self,
        n_clusters=3,
        *,
        n_init=3,
        max_iter=100,
        seed=0,
        n_threads=None,
        allow_missing=False,
        random_state=None,
        n_jobs=None,
    ):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.seed = seed
        self.n_threads = n_threads
        self.allow_missing = allow_missing
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Clusters the sequences X (y is ignored); returns self."""
        seqs = _sequences(self, X, fit=True)
        found = _seqae.kshape(
            seqs.data,
            int(self.n_clusters),
            n_init=int(self.n_init),
            max_iter=int(self.max_iter),
            seed=int(_seed_of(self)),
            allow_missing=bool(self.allow_missing),
            n_threads=_threads_of(self),
        )
        self.labels_ = found["labels"]
        self.cluster_centers_ = found["centroids"]
        self.inertia_ = found["inertia"]
        self.n_iter_ = found["n_iter"]
        return self

    def predict(self, X):
        """The nearest centroid of each sequence by the shape-based distance (int64)."""
        check_is_fitted(self, "cluster_centers_")
        seqs = _sequences(self, X, fit=False)
        return _seqae.kshape_predict(
            self.cluster_centers_,
            seqs.data,
            allow_missing=bool(self.allow_missing),
            n_threads=_threads_of(self),
        )


#: The parameters of the estimators that are not the library's hyperparameters:
#: (name, values, default, description).
_RUN_DOCS = [
    (
        "n_threads",
        "int or None",
        "None",
        "Threads of every call; None: one per CPU (or RAYON_NUM_THREADS).",
    ),
    ("verbose", "int", "0", "1: one line of progress per epoch on standard output."),
    (
        "allow_missing",
        "bool",
        "False",
        "Accept NaN before the end of a sequence as a missing value (trailing NaN steps "
        "are always padding).",
    ),
    (
        "random_state",
        "int, numpy.random.RandomState or None",
        "None",
        "As scikit-learn spells the seed: when given it replaces ``seed`` (a RandomState "
        "gives a seed drawn from it at fit time).",
    ),
    (
        "n_jobs",
        "int or None",
        "None",
        "As scikit-learn spells the threads: when given it replaces ``n_threads`` "
        "(-1: every CPU, -2: all but one).",
    ),
]


def _parameter(name, values, default, text):
    """One numpydoc parameter entry."""
    import textwrap

    body = textwrap.fill(text, width=84, initial_indent="    ", subsequent_indent="    ")
    return f"{name} : {values}, default={default}\n{body}"


def _docstring(summary, before, attributes, estimator, hyperparameters=True):
    """A numpydoc docstring: ``summary``, then the Parameters (``before``, the library's
    hyperparameters with their defaults unless ``hyperparameters`` is false, the run parameters
    ``estimator.__init__`` takes) and ``attributes``."""
    import inspect

    takes = inspect.signature(estimator.__init__).parameters
    entries = [_parameter(*e) for e in before]
    if hyperparameters:
        for name, values, text in _seqae.descriptions():
            entries.append(_parameter(name, values, repr(_DEFAULTS[name]), text))
    entries += [_parameter(*e) for e in _RUN_DOCS if e[0] in takes]
    return (
        summary.strip()
        + "\n\nParameters\n----------\n"
        + "\n".join(entries)
        + "\n\nAttributes\n----------\n"
        + attributes.strip()
        + "\n"
    )


SeqAE.__doc__ = _docstring(
    """A recurrent sequence autoencoder as a scikit-learn transformer.

Every parameter is named as the ``seqae train`` flag (in snake_case) and defaults to the
library's default, so ``SeqAE().fit(X)`` trains the model ``seqae train`` trains with no
flags. ``transform`` gives the latent vectors, ``reconstruct`` the reconstructions,
``decode`` the sequences of given latent vectors, ``score_samples`` the anomaly score.""",
    [],
    """model_ : seqae._seqae.Model
    The fitted Rust model.
n_channels_ : int
    Channels of the training sequences.
n_features_in_ : int
    The input's columns (2-D) or channels.
n_timepoints_ : int
    The longest training sequence: the default length of ``decode``.
patch_ : int
    Time steps per recurrent step.
history_ : dict
    Per-epoch ``train_loss``, ``val_loss`` and ``lr``, with ``best_epoch``,
    ``stopped_early``, ``train_size`` and ``val_size``.
n_epochs_ : int
    Epochs trained.""",
    SeqAE,
)

SeqAEClusterer.__doc__ = _docstring(
    """The sequence autoencoder, then clustering of its latent vectors.

The clusters come from the library's one clustering entry point (as ``seqae cluster`` and
``seqae evaluate``). ``predict`` on the training data gives ``labels_``; ``transform`` gives
the distances to the cluster centres, ``predict_proba`` the clusters as one-hot rows,
``score`` the mean silhouette (so ``GridSearchCV`` needs no ``scoring=``); ``save`` keeps the
clustering and :func:`seqae.load` gives the clusterer back.""",
    [
        (
            "n_clusters",
            'int or "auto"',
            "'auto'",
            "Clusters, or the k of 2..k_max with the best mean k-means silhouette "
            "(as ``seqae cluster --k auto``).",
        ),
        (
            "autoencoder",
            "SeqAE or None",
            "None",
            "The autoencoder to fit (cloned), as aeon's ``estimator=``; its parameters are "
            "then its own and the clusterer's autoencoder parameters stay at their defaults. "
            "None: one built from the parameters below.",
        ),
        (
            "clusterer",
            '{"auto", "spectral", "kmeans", "kshape"}',
            "'auto'",
            'How the clusters are found: "auto" keeps the best of the latent, raw-value, '
            "shape and warping views of the sequences by stability; kshape clusters the raw "
            "sequences.",
        ),
        ("k_max", "int", "10", 'The largest k tried with n_clusters="auto".'),
    ],
    """autoencoder_ : SeqAE
    The fitted autoencoder.
labels_ : ndarray of int64, shape (n_cases,)
    The cluster of each training sequence.
cluster_centers_ : ndarray of float32, shape (n_clusters_, latent)
    k-means' centres, or each cluster's mean latent vector.
prototypes_ : ndarray
    The cluster centres decoded as sequences in the input's layout
    (``autoencoder_.decode(cluster_centers_)``).
n_clusters_ : int
    The number of clusters.
silhouette_scores_ : dict
    {k: mean silhouette} of the k compared with n_clusters="auto".
inertia_ : float
    Summed squared distance of the latent vectors to their cluster's centre.
method_ : str
    The method that ran.
view_ : str or None
    The view "auto" kept.
n_features_in_ : int
    The input's columns (2-D) or channels.""",
    SeqAEClusterer,
)

KShape.__doc__ = _docstring(
    KShape.__doc__
    + """

As ``seqae cluster DATA --method kshape``: k-means under the shape-based distance (one minus
the largest normalised cross-correlation over every shift), each centroid the leading
eigenvector of its aligned members. Multivariate sequences share one shift per sequence;
unequal lengths are zero-padded after z-normalisation.""",
    [
        ("n_clusters", "int", "3", "Clusters."),
        (
            "n_init",
            "int",
            "3",
            "Restarts from random assignments; the lowest summed distance wins.",
        ),
        ("max_iter", "int", "100", "Rounds of assignment and centroid extraction per restart."),
        ("seed", "int", "0", "Seed of the random initial assignments."),
    ],
    """labels_ : numpy.ndarray of int64
    The cluster of each training sequence.
cluster_centers_ : numpy.ndarray of float32, shape (n_clusters, n_channels, length)
    The centroids, z-normalised.
inertia_ : float
    Summed shape-based distance of the sequences to their centroids.
n_iter_ : int
    Rounds run by the kept restart.
n_features_in_ : int
    The input's columns (2-D) or channels.""",
    KShape,
    hyperparameters=False,
)
