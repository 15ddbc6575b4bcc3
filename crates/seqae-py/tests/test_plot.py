"""seqae.plot: the pictures render to PNG without a display (no pyplot, no backend set)."""

import os
import subprocess
import sys

import numpy as np
import pytest

import seqae

from conftest import TINY

pytest.importorskip("matplotlib")
from seqae import plot  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_display(monkeypatch):
    # Neither a display nor a backend: the functions draw on Figure objects.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)


@pytest.fixture(scope="module")
def clustered(chinatown):
    X, _ = chinatown
    return seqae.SeqAEClusterer(n_clusters=2, clusterer="kmeans", **TINY).fit(X)


def _png(ax, tmp_path):
    path = tmp_path / "x.png"
    ax.figure.savefig(path)
    assert path.exists()
    assert path.read_bytes()[:8] == PNG
    return path


def test_latent(clustered, chinatown, tmp_path):
    X, _ = chinatown
    Z = clustered.autoencoder_.transform(X)
    ax = plot.latent(Z, clustered.labels_)
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == len(X)
    assert len(ax.collections) == len(np.unique(clustered.labels_))
    assert ax.get_xlabel().startswith("PC1 (") and ax.get_xlabel().endswith("%)")
    assert ax.get_ylabel().startswith("PC2 (")
    _png(ax, tmp_path)
    # Without labels: one collection of every point.
    ax = plot.latent(Z)
    assert [len(c.get_offsets()) for c in ax.collections] == [len(X)]
    _png(ax, tmp_path)


def test_latent_explained_variance():
    # All the variance along the first axis: "PC1 (100%)", "PC2 (0%)".
    Z = np.zeros((5, 3))
    Z[:, 0] = np.arange(5)
    ax = plot.latent(Z)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("PC1 (100%)", "PC2 (0%)")
    ax = plot.latent(np.arange(4.0)[:, None])  # one latent dimension
    assert ax.get_xlabel() == "PC1 (100%)"


def test_prototypes(clustered, chinatown, tmp_path):
    X, y = chinatown
    ax = plot.prototypes(X, clustered.labels_)
    assert len(ax.lines) == clustered.n_clusters_
    # The mean of each cluster's members.
    for line, k in zip(ax.lines, np.unique(clustered.labels_)):
        np.testing.assert_allclose(
            line.get_ydata(), X[clustered.labels_ == k, 0].mean(axis=0, dtype=np.float64)
        )
    _png(ax, tmp_path)
    # The classes of a 2-D array, drawn on a given Axes.
    ax2 = plot.prototypes(X[:, 0, :], y, ax=ax.figure.add_subplot(2, 1, 2))
    assert len(ax2.lines) == len(np.unique(y))


def test_prototypes_unequal_lengths(basicmotions, tmp_path):
    X, y = basicmotions
    items = [X[i, :, : 50 + i] for i in range(10)]
    labels = np.arange(10) % 2
    ax = plot.prototypes(items, labels, channel=2)
    assert len(ax.lines) == 2
    mean = ax.lines[0].get_ydata()
    assert len(mean) == 59
    # NaN padding: each step averages only the members that reach it (cluster 0: sequences
    # 0, 2, .., 8 of lengths 50, 52, .., 58), and nothing is drawn past the longest.
    np.testing.assert_allclose(mean[57], X[8, 2, 57], rtol=1e-6)
    np.testing.assert_allclose(mean[55], X[[6, 8], 2, 55].mean(dtype=np.float64))
    assert np.isnan(mean[58])
    np.testing.assert_allclose(
        mean[:50], np.mean([X[i, 2, :50] for i in range(0, 10, 2)], axis=0, dtype=np.float64)
    )
    _png(ax, tmp_path)


def test_reconstructions(clustered, chinatown, tmp_path):
    X, _ = chinatown
    ae = clustered.autoencoder_
    for est in (ae, clustered):  # a clusterer reconstructs with its autoencoder
        ax = plot.reconstructions(est, X, n=3)
        assert len(ax.lines) == 6
        solid = [line for line in ax.lines if line.get_linestyle() == "-"]
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert len(solid) == len(dashed) == 3
        # Evenly spaced: the first, middle and last sequence.
        np.testing.assert_array_equal(solid[0].get_ydata(), X[0, 0])
        np.testing.assert_array_equal(solid[2].get_ydata(), X[-1, 0])
        np.testing.assert_allclose(dashed[1].get_ydata(), ae.reconstruct(X)[20, 0], rtol=1e-6)
        _png(ax, tmp_path)
    # More than there are: all of them.
    assert len(plot.reconstructions(ae, X[:2], n=10).lines) == 4


def test_reconstructions_of_other_layouts(tiny_model, chinatown, tmp_path):
    X, _ = chinatown
    items = [X[i, 0, : 12 + i] for i in range(5)]  # unequal lengths, 1-D each
    ax = plot.reconstructions(tiny_model, items, n=2)
    solid, dashed = ax.lines[0::2], ax.lines[1::2]
    np.testing.assert_array_equal(solid[1].get_ydata()[:16], items[4])
    np.testing.assert_allclose(
        dashed[1].get_ydata()[:16], tiny_model.reconstruct([items[4]])[0], rtol=1e-6
    )
    _png(ax, tmp_path)
    pd = pytest.importorskip("pandas")
    wide = pd.DataFrame(X[:, 0, :], columns=[f"t{i}" for i in range(24)])
    est = seqae.SeqAE(**TINY).fit(wide)
    ax = plot.reconstructions(est, wide, n=2)
    np.testing.assert_allclose(
        ax.lines[3].get_ydata(), est.reconstruct(wide.iloc[[41]])[0], rtol=1e-6
    )


def test_loss(clustered, chinatown, tmp_path):
    ax = plot.loss(clustered)
    history = clustered.autoencoder_.history_
    assert len(ax.lines) == 1  # no validation split
    assert len(ax.lines[0].get_xdata()) == len(history["train_loss"]) == TINY["epochs"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2])
    assert ax.get_yscale() == "log"
    _png(ax, tmp_path)
    X, _ = chinatown
    est = seqae.SeqAE(**{**TINY, "epochs": 3}, val_fraction=0.2).fit(X)
    ax = plot.loss(est)
    assert [len(line.get_ydata()) for line in ax.lines] == [3, 3]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), est.history_["val_loss"])
    _png(ax, tmp_path)


def test_unfitted_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        plot.loss(seqae.SeqAE())


def test_no_matplotlib_at_import():
    # `import seqae` and `import seqae.plot` import neither matplotlib nor pyplot; drawing
    # does not import pyplot either.
    code = (
        "import io, sys, numpy as np, seqae\n"
        "assert 'matplotlib' not in sys.modules\n"
        "import seqae.plot\n"
        "assert 'matplotlib' not in sys.modules\n"
        "ax = seqae.plot.latent(np.arange(12.0).reshape(4, 3))\n"
        "ax.figure.savefig(io.BytesIO(), format='png')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY")}
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_without_matplotlib():
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"
        "sys.modules['matplotlib.figure'] = None\n"
        "import seqae.plot\n"
        "try:\n"
        "    seqae.plot.latent([[0.0, 1.0], [1.0, 0.0]])\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "seqae.plot needs matplotlib: pip install matplotlib"
