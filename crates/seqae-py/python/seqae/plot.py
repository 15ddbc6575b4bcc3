"""Pictures of a fitted model with matplotlib: the charts ``seqae`` draws, for a notebook.

matplotlib is an optional dependency (``pip install matplotlib``), imported when a function
is called, not by ``import seqae`` or ``import seqae.plot``. The functions draw on
:class:`matplotlib.figure.Figure` objects, never through pyplot, so they need no display and
leave matplotlib's backend alone. Each takes an optional ``ax`` to draw on (a new figure with
one Axes when None) and returns the Axes: ``ax.figure`` is the figure, to show in a notebook
or write with ``ax.figure.savefig("latent.png")``.

- :func:`latent`: the latent vectors' first two principal components, coloured by cluster;
- :func:`prototypes`: per cluster, the mean sequence with a band of one standard deviation;
- :func:`reconstructions`: input sequences and their reconstructions;
- :func:`loss`: training (and validation) loss per epoch.

Colours follow the colour-blind-safe Okabe-Ito palette, as the command line's charts do.
"""

from __future__ import annotations

import numpy as np

from . import _layouts

__all__ = ["latent", "prototypes", "reconstructions", "loss"]

#: The Okabe-Ito palette (the command line's colours), in its order.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#F0E442",  # yellow
)


def _color(i):
    return PALETTE[i % len(PALETTE)]


def _axes(ax):
    """ax, or the one Axes of a new Figure (no pyplot, so no display is needed)."""
    if ax is not None:
        return ax
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("seqae.plot needs matplotlib: pip install matplotlib") from e
    return Figure(figsize=(6.4, 4.8), layout="constrained").add_subplot()


def _autoencoder(estimator):
    """The fitted SeqAE of a SeqAE or of a fitted SeqAEClusterer."""
    from sklearn.utils.validation import check_is_fitted

    if hasattr(estimator, "autoencoder_"):
        return estimator.autoencoder_
    if hasattr(estimator, "history_") or hasattr(estimator, "model_"):
        return estimator
    check_is_fitted(estimator, ("model_", "autoencoder_"))
    raise TypeError(
        f"{type(estimator).__name__} is not a seqae autoencoder: expected a fitted "
        "SeqAE or SeqAEClusterer"
    )


def _rows(X, channel):
    """One channel of each sequence of X as a float64 array (n, max length), NaN-padded.

    X is any input the estimators accept: (n, T) or (n, C, T) arrays, a list of (T,) or
    (C, T_i) arrays, or a pandas frame in one of the layouts of ``help(seqae)``.
    """
    X = _layouts.from_frame(X)
    if _ragged(X):
        items = []
        for i, x in enumerate(X):
            a = np.asarray(x, dtype=np.float64)
            if a.ndim == 1:
                a = a[np.newaxis, :]
            if a.ndim != 2:
                raise ValueError(
                    f"sequence {i} has shape {a.shape}: expected (n_channels, length) or (length,)"
                )
            items.append(_channel(a, channel, f"sequence {i}"))
        if not items:
            raise ValueError("X holds no sequences")
        out = np.full((len(items), max(len(v) for v in items)), np.nan)
        for i, v in enumerate(items):
            out[i, : len(v)] = v
        return out
    a = np.asarray(X, dtype=np.float64)
    if a.ndim == 2:
        a = a[:, np.newaxis, :]
    if a.ndim != 3:
        raise ValueError(
            f"X has shape {a.shape}: expected (n_cases, n_channels, n_timepoints) or "
            "(n_cases, n_timepoints)"
        )
    if a.shape[0] == 0:
        raise ValueError("X holds no sequences")
    return _channel(a.transpose(1, 0, 2), channel, "X")


def _ragged(X):
    """True for a list (or tuple, or 1-D object array) of sequences."""
    return isinstance(X, (list, tuple)) or (
        isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1
    )


def _channel(a, channel, what):
    """Row ``channel`` of a (channels, ...) array."""
    if not -a.shape[0] <= channel < a.shape[0]:
        raise ValueError(f"channel {channel}: {what} has {a.shape[0]} channel(s)")
    return a[channel]


def _mean_std(rows):
    """Per time step the mean and (population) standard deviation of the non-NaN values."""
    ok = ~np.isnan(rows)
    count = ok.sum(axis=0)
    filled = np.where(ok, rows, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / count
        var = (np.where(ok, rows - mean, 0.0) ** 2).sum(axis=0) / count
    mean[count == 0] = np.nan
    var[count == 0] = np.nan
    return mean, np.sqrt(var)


def _clusters(labels, n):
    """The distinct labels in sorted order and each point's index into them."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"labels has shape {labels.shape}: expected one label per sequence ({n})")
    return np.unique(labels, return_inverse=True)


def latent(Z, labels=None, *, ax=None):
    """Scatter of the latent vectors' first two principal components, coloured by cluster.

    The components come from the singular value decomposition of the centred vectors; each
    axis label gives its explained variance ratio, e.g. "PC1 (43%)".

    Parameters
    ----------
    Z : array-like of shape (n_cases, latent)
        The latent vectors, e.g. ``SeqAE.transform(X)``.
    labels : array-like of shape (n_cases,), optional
        A cluster (or class) per vector, e.g. ``SeqAEClusterer.labels_``: one colour per
        distinct label, with a legend. None draws every point in one colour.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; None creates a figure with one Axes.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: one scatter collection per label, of that label's points.
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[0] == 0:
        raise ValueError(f"Z has shape {Z.shape}: expected (n_cases, latent) with n_cases >= 1")
    ax = _axes(ax)
    centred = Z - Z.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    pcs = centred @ vt[:2].T
    total = float((s**2).sum())
    ratio = (s**2) / total if total > 0 else np.zeros_like(s)
    if pcs.shape[1] < 2:  # one latent dimension: the second axis is flat
        pcs = np.column_stack([pcs, np.zeros(len(pcs))])
        ratio = np.append(ratio, 0.0)
    if labels is None:
        ax.scatter(pcs[:, 0], pcs[:, 1], s=18, color=_color(0), alpha=0.8)
    else:
        names, which = _clusters(labels, len(Z))
        for k, name in enumerate(names):
            mine = which == k
            ax.scatter(
                pcs[mine, 0], pcs[mine, 1], s=18, color=_color(k), alpha=0.8, label=str(name)
            )
        ax.legend(title="cluster", fontsize="small")
    ax.set_xlabel(f"PC1 ({ratio[0]:.0%})")
    ax.set_ylabel(f"PC2 ({ratio[1]:.0%})")
    ax.set_title("Latent space")
    return ax


def prototypes(X, labels, *, channel=0, ax=None):
    """Per cluster the mean sequence of its members, with a band of ±1 standard deviation.

    Sequences of unequal length are padded with NaN: each time step's mean and standard
    deviation are over the members that reach it.

    Parameters
    ----------
    X : array-like of shape (n_cases, n_timepoints) or (n_cases, n_channels, n_timepoints), \
or list of arrays (n_channels, length_i)
        The sequences, in any layout the estimators accept (pandas frames included).
    labels : array-like of shape (n_cases,)
        The cluster of each sequence, e.g. ``SeqAEClusterer.labels_``.
    channel : int, default 0
        The channel drawn.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; None creates a figure with one Axes.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: one line per cluster (its mean) and one shaded band per cluster.
    """
    rows = _rows(X, channel)
    names, which = _clusters(labels, len(rows))
    ax = _axes(ax)
    t = np.arange(rows.shape[1])
    for k, name in enumerate(names):
        members = rows[which == k]
        mean, std = _mean_std(members)
        ax.fill_between(t, mean - std, mean + std, color=_color(k), alpha=0.2, linewidth=0)
        ax.plot(t, mean, color=_color(k), label=f"cluster {name} (n = {len(members)})")
    ax.legend(fontsize="small")
    ax.set_xlabel("time step")
    ax.set_ylabel("value" if channel == 0 else f"channel {channel}")
    ax.set_title("Cluster prototypes")
    return ax


def reconstructions(estimator, X, *, n=4, channel=0, ax=None):
    """Input sequences (solid) and the autoencoder's reconstructions of them (dashed).

    Parameters
    ----------
    estimator : SeqAE or SeqAEClusterer
        A fitted autoencoder, or a fitted clusterer (its ``autoencoder_`` reconstructs).
    X : array-like or list of arrays
        The sequences, in any layout the estimators accept.
    n : int, default 4
        How many sequences to draw, evenly spaced through X (all of them when X has fewer).
    channel : int, default 0
        The channel drawn.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; None creates a figure with one Axes.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: for each sequence drawn a solid line (the input) and a dashed one
        of the same colour (its reconstruction, ``estimator.reconstruct``).
    """
    ae = _autoencoder(estimator)
    n = int(n)
    if n < 1:
        raise ValueError(f"n = {n}: draw at least one sequence")
    X = _layouts.from_frame(X)
    original = _rows(X, channel)
    count = len(original)
    picked = np.unique(np.linspace(0, count - 1, min(n, count)).round().astype(int))
    # Only the sequences drawn are reconstructed.
    if _ragged(X):
        subset = [X[i] for i in picked]
    elif hasattr(X, "iloc"):  # a wide DataFrame
        subset = X.iloc[picked]
    else:
        subset = np.asarray(X)[picked]
    rebuilt = _rows(ae.reconstruct(subset), channel)
    ax = _axes(ax)
    for i, row in enumerate(picked):
        color = _color(i)
        ax.plot(np.arange(original.shape[1]), original[row], color=color, linewidth=1.5)
        ax.plot(
            np.arange(rebuilt.shape[1]), rebuilt[i], color=color, linewidth=1.5, linestyle="--"
        )
    from matplotlib.lines import Line2D

    ax.legend(
        handles=[
            Line2D([], [], color="0.3", label="input"),
            Line2D([], [], color="0.3", linestyle="--", label="reconstruction"),
        ],
        fontsize="small",
    )
    ax.set_xlabel("time step")
    ax.set_ylabel("value" if channel == 0 else f"channel {channel}")
    ax.set_title("Reconstructions")
    return ax


def loss(estimator, *, ax=None):
    """Training loss per epoch, and validation loss where there is one, on a log scale.

    Parameters
    ----------
    estimator : SeqAE or SeqAEClusterer
        A fitted autoencoder, or a fitted clusterer (its ``autoencoder_``'s losses); the
        losses are its ``history_["train_loss"]`` and ``history_["val_loss"]``.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; None creates a figure with one Axes.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: a line of one point per epoch for the training loss, and one for
        the validation loss when any epoch has one. The y axis is logarithmic unless a loss
        is zero or negative (then linear).
    """
    history = _autoencoder(estimator).history_
    train = np.asarray(history["train_loss"], dtype=np.float64)
    val = np.array(
        [np.nan if v is None else v for v in history.get("val_loss") or []], dtype=np.float64
    )
    ax = _axes(ax)
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, marker="o", markersize=3, color=_color(0), label="train")
    if np.isfinite(val).any():
        ax.plot(
            np.arange(1, len(val) + 1), val, marker="o", markersize=3, color=_color(1),
            label="validation",
        )
    values = np.concatenate([train, val])
    values = values[np.isfinite(values)]
    log = values.size > 0 and bool((values > 0).all())
    if log:
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (log scale)" if log else "loss")
    ax.set_title("Training loss")
    return ax
