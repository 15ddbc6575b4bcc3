"""seqae: sequence autoencoders (RNN, LSTM, GRU) for unsupervised learning on time series.

A recurrent encoder compresses each sequence into a latent vector; a recurrent decoder
rebuilds the sequence from it. The estimators follow scikit-learn's conventions:

- :class:`SeqAE`, a transformer: ``fit``, ``transform`` (the latent vectors),
  ``reconstruct``, ``score_samples`` (higher is more normal), ``save``;
- :class:`SeqAEClusterer`, the autoencoder then spectral clustering or k-means on the
  latent vectors, with the number of clusters given or chosen by silhouette;
- :func:`read`, every data format the ``seqae`` command line reads;
- :func:`load`, a model directory written by ``seqae train`` or :meth:`SeqAE.save`.

Data are in aeon's layout: an array ``(n_cases, n_channels, n_timepoints)``, a 2-D array
``(n_cases, n_timepoints)`` of univariate sequences, or a list of ``(n_channels, length_i)``
arrays for sequences of unequal length. Values are cast to float32. Trailing all-NaN time
steps are padding that ends a sequence early; other NaNs are missing values, accepted with
``allow_missing=True``.

The defaults of every hyperparameter are the library's (those of ``seqae train`` with no
flags), read from the Rust library when this module is imported.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _seqae
from ._seqae import __version__

__all__ = ["SeqAE", "SeqAEClusterer", "KShape", "read", "load", "__version__"]

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
)

#: Parameters that are not the model's or its training's (not passed to the Rust mapping).
_RUN_PARAMS = ("n_threads", "verbose", "allow_missing")


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
    """A recurrent sequence autoencoder as a scikit-learn transformer.

    Every parameter is named as the ``seqae train`` flag (in snake_case) and defaults to the
    library's default, so ``SeqAE().fit(X)`` trains the model ``seqae train`` trains with no
    flags. See ``help(seqae)`` for the input layout and the stub ``seqae/__init__.pyi`` for
    each parameter.

    Fitted attributes: ``model_`` (the Rust model), ``n_channels_``, ``n_features_in_``,
    ``patch_`` (time steps per recurrent step), ``history_`` (per-epoch losses), ``n_epochs_``.
    """

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _model_params(self):
        params = self.get_params(deep=False)
        for name in _RUN_PARAMS:
            params.pop(name)
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
            n_threads=self.n_threads,
        )
        if diverged is not None:
            warnings.warn(
                f"{diverged} (the model keeps the weights of the last good epoch)",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._set_fitted(model)
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
            seqs.data, allow_missing=bool(self.allow_missing), n_threads=self.n_threads
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
            n_threads=self.n_threads,
        )
        return _with_layout(seqs, out)

    def reconstruction_error(self, X):
        """The mean squared reconstruction error of each sequence (normalised units)."""
        seqs = self._checked(X)
        return self.model_.errors(
            seqs.data, allow_missing=bool(self.allow_missing), n_threads=self.n_threads
        )

    def score_samples(self, X):
        """The anomaly score as scikit-learn orients it: the negative reconstruction error
        (higher is more normal). A float32 array (n_cases,)."""
        return -self.reconstruction_error(X)

    def save(self, path):
        """Writes the model directory ``path`` (the CLI's format: ``seqae embed`` reads it).

        A directory that holds a model is replaced; one that holds other files is refused.
        """
        check_is_fitted(self, "model_")
        self.model_.save(str(path))

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
    return est


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


class SeqAEClusterer(_SequenceInput, ClusterMixin, BaseEstimator):
    """The sequence autoencoder, then clustering of the latent vectors.

    ``n_clusters`` is a number or ``"auto"`` (the best mean k-means silhouette over
    ``2..=k_max``, as ``seqae cluster --k auto``); ``clusterer`` is ``"auto"`` (the
    default, as ``seqae evaluate``: the best of the latent, raw-value, shape and warping
    views of the sequences by stability), ``"spectral"``, ``"kmeans"`` or ``"kshape"`` (on
    the raw sequences). The other parameters are :class:`SeqAE`'s; ``seed`` also seeds the
    clustering.

    Fitted attributes: ``autoencoder_`` (the fitted :class:`SeqAE`), ``labels_``,
    ``cluster_centers_`` (the k-means centres, or each cluster's mean latent vector),
    ``n_clusters_``, ``silhouette_scores_`` ({k: score}, with ``"auto"``), ``inertia_``,
    ``method_`` (what ran), ``view_`` (the view ``"auto"`` kept, or None),
    ``n_features_in_``.
    """

    def __init__(
        self,
        n_clusters="auto",
        *,
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
    ):
        self.n_clusters = n_clusters
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

    def _k(self):
        k = self.n_clusters
        if isinstance(k, str) and k.lower() == "auto":
            return None
        if isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1:
            return int(k)
        raise ValueError(
            f"n_clusters = {k!r}: must be a whole number of at least 1 or 'auto'"
        )

    def fit(self, X, y=None):
        """Trains the autoencoder on X (y is ignored), embeds X and clusters the latent
        vectors; returns self."""
        k = self._k()
        ae = SeqAE(**{name: getattr(self, name) for name in _AE_PARAMS})
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
            seed=int(self.seed),
            allow_missing=bool(self.allow_missing),
            n_threads=self.n_threads,
        )
        for note in found["notes"]:
            warnings.warn(note, stacklevel=2)
        self.autoencoder_ = ae
        self.n_features_in_ = ae.n_features_in_
        if hasattr(ae, "feature_names_in_"):
            self.feature_names_in_ = ae.feature_names_in_
        self.labels_ = found["labels"]
        self.cluster_centers_ = found["centres"]
        self.n_clusters_ = found["k"]
        self.silhouette_scores_ = dict(found["scores"])
        self.inertia_ = found["inertia"]
        self.method_ = found["method"]
        self.view_ = found["view"]
        # predict() reads the nearest training vector's cluster unless the clusters are
        # k-means' (whose centres decide): so predict(X) equals labels_ on the training data.
        self._train_latent_ = None if self.method_ == "kmeans" else z
        return self

    def predict(self, X):
        """The cluster of each sequence (int64, n_cases): that of the nearest training
        latent vector (so ``predict`` on the training data gives ``labels_``), or of the
        nearest k-means centre when the clusters are k-means'.

        The latent vectors themselves are ``autoencoder_.transform(X)``.
        """
        check_is_fitted(self, "autoencoder_")
        z = self.autoencoder_.transform(X).astype(np.float64)
        ref = getattr(self, "_train_latent_", None)
        if ref is None:
            c = np.asarray(self.cluster_centers_, dtype=np.float64)
            d = (z * z).sum(1)[:, None] - 2.0 * z @ c.T + (c * c).sum(1)[None, :]
            return d.argmin(axis=1).astype(np.int64)
        ref = np.asarray(ref, dtype=np.float64)
        out = np.empty(len(z), dtype=np.int64)
        sq = (ref * ref).sum(1)
        for start in range(0, len(z), 1024):
            block = z[start : start + 1024]
            d = (block * block).sum(1)[:, None] - 2.0 * block @ ref.T + sq[None, :]
            out[start : start + 1024] = np.asarray(self.labels_)[d.argmin(axis=1)]
        return out

    def save(self, path):
        """Writes the autoencoder's model directory (the clustering is not saved)."""
        check_is_fitted(self, "autoencoder_")
        self.autoencoder_.save(path)


class KShape(_SequenceInput, ClusterMixin, BaseEstimator):
    """k-Shape (Paparrizos and Gravano, SIGMOD 2015) on the raw sequences, as
    ``seqae cluster DATA --method kshape``: k-means under the shape-based distance (one minus
    the largest normalised cross-correlation over every shift), centroids extracted as the
    leading eigenvector of the aligned members. Multivariate sequences share one shift per
    sequence; unequal lengths are zero-padded after z-normalisation.

    Parameters: ``n_clusters``, ``n_init`` (restarts from random assignments; the lowest
    summed distance wins), ``max_iter`` (rounds per restart), ``seed``, ``n_threads``,
    ``allow_missing``.

    Fitted attributes: ``labels_``, ``cluster_centers_`` (float32, n_clusters x n_channels x
    length, z-normalised), ``inertia_`` (summed shape-based distance), ``n_iter_``,
    ``n_features_in_``.
    """

    def __init__(
        self, n_clusters=3, *, n_init=3, max_iter=100, seed=0, n_threads=None, allow_missing=False
    ):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.seed = seed
        self.n_threads = n_threads
        self.allow_missing = allow_missing

    def fit(self, X, y=None):
        """Clusters the sequences X (y is ignored); returns self."""
        seqs = _sequences(self, X, fit=True)
        found = _seqae.kshape(
            seqs.data,
            int(self.n_clusters),
            n_init=int(self.n_init),
            max_iter=int(self.max_iter),
            seed=int(self.seed),
            allow_missing=bool(self.allow_missing),
            n_threads=self.n_threads,
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
            n_threads=self.n_threads,
        )
