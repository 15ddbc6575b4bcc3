"""The clusterer as scikit-learn and aeon users expect it: an autoencoder as a parameter,
transform/predict_proba/score, save and load with the clustering, decoded prototypes, and
the names random_state and n_jobs."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import seqae
from seqae import _seqae

from conftest import TINY


def test_transform_predict_proba_and_score(chinatown):
    X, _ = chinatown
    c = seqae.SeqAEClusterer(n_clusters=2, **TINY).fit(X)
    d = c.transform(X)
    assert d.shape == (len(X), 2) and (d >= 0).all()
    z = c.autoencoder_.transform(X).astype(np.float64)
    np.testing.assert_allclose(
        d[:, 0], np.linalg.norm(z - c.cluster_centers_[0], axis=1), rtol=1e-5
    )
    p = c.predict_proba(X)
    assert p.shape == (len(X), 2)
    np.testing.assert_array_equal(p.argmax(1), c.predict(X))
    np.testing.assert_array_equal(p.sum(1), 1.0)
    s = c.score(X)
    assert -1.0 <= s <= 1.0
    # GridSearchCV works without scoring=: score() ranks the candidates.
    grid = GridSearchCV(
        seqae.SeqAEClusterer(n_clusters=2, **TINY), {"n_clusters": [2, 3]}, cv=2
    ).fit(X)
    assert grid.best_params_["n_clusters"] in (2, 3)


def test_an_autoencoder_as_a_parameter(chinatown):
    X, _ = chinatown
    ae = seqae.SeqAE(**{**TINY, "cell": "lstm"})
    c = seqae.SeqAEClusterer(n_clusters=2, autoencoder=ae).fit(X)
    assert c.autoencoder_ is not ae and not hasattr(ae, "model_")  # a clone was fitted
    assert c.autoencoder_.model_.params["cell"] == "lstm"
    assert c.get_params(deep=True)["autoencoder__cell"] == "lstm"
    # The same clusters as the flat parameters give.
    flat = seqae.SeqAEClusterer(n_clusters=2, **{**TINY, "cell": "lstm"}).fit(X)
    np.testing.assert_array_equal(c.labels_, flat.labels_)
    with pytest.raises(ValueError, match="set hidden on it, not on the clusterer"):
        seqae.SeqAEClusterer(n_clusters=2, autoencoder=ae, hidden=7).fit(X)
    with pytest.raises(TypeError, match="must be a seqae.SeqAE"):
        seqae.SeqAEClusterer(n_clusters=2, autoencoder="lstm").fit(X)


def test_save_and_load_keep_the_clustering_and_the_parameters(chinatown, tmp_path):
    X, _ = chinatown
    c = seqae.SeqAEClusterer(n_clusters=3, clusterer="spectral", **TINY).fit(X)
    c.save(tmp_path / "m")
    back = seqae.load(tmp_path / "m")
    assert isinstance(back, seqae.SeqAEClusterer)
    assert back.get_params() == c.get_params()
    np.testing.assert_array_equal(back.labels_, c.labels_)
    np.testing.assert_array_equal(back.predict(X), c.labels_)
    np.testing.assert_array_equal(back.cluster_centers_, c.cluster_centers_)
    assert (back.method_, back.view_, back.n_clusters_) == (c.method_, c.view_, 3)
    np.testing.assert_array_equal(back.prototypes_, c.prototypes_)
    # The CLI reads the same directory as a model.
    assert (tmp_path / "m" / "clustering.json").is_file()
    # A plain autoencoder comes back as one, its parameters those it was fitted with.
    ae = seqae.SeqAE(**TINY).fit(X)
    ae.save(tmp_path / "ae")
    assert type(seqae.load(tmp_path / "ae")) is seqae.SeqAE


def test_decode_and_prototypes_in_the_input_layout(chinatown, basicmotions):
    X, _ = chinatown
    X = X[:, 0, :]  # (n, T): univariate sequences as a 2-D array
    c = seqae.SeqAEClusterer(n_clusters=2, **TINY).fit(X)
    assert c.prototypes_.shape == (2, X.shape[1])
    assert c.autoencoder_.decode(c.cluster_centers_, length=7).shape == (2, 7)
    # Decoding a sequence's latent vector is its reconstruction (an unconditioned decoder).
    ae = c.autoencoder_
    np.testing.assert_allclose(
        ae.decode(ae.transform(X[:3])), ae.reconstruct(X[:3]), rtol=1e-4, atol=1e-3
    )
    Xm, _ = basicmotions  # (n, C, T)
    m = seqae.SeqAE(**TINY).fit(Xm)
    assert m.decode(m.transform(Xm[:2])).shape == (2,) + Xm.shape[1:]
    with pytest.raises(ValueError, match="length = 0"):
        m.decode(m.transform(Xm[:2]), length=0)


def test_random_state_and_n_jobs_as_scikit_learn_spells_them(chinatown):
    X, _ = chinatown
    a = seqae.SeqAE(**{**TINY, "seed": 0, "random_state": 5}).fit(X).transform(X)
    b = seqae.SeqAE(**{**TINY, "seed": 5}).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    rs = np.random.RandomState(1)
    seqae.SeqAE(**{**TINY, "random_state": rs}).fit(X)
    for jobs, threads in ((1, 1), (-1, None)):
        c = seqae.SeqAE(**{**TINY, "n_jobs": jobs}).fit(X).transform(X)
        d = seqae.SeqAE(**{**TINY, "n_threads": threads}).fit(X).transform(X)
        np.testing.assert_array_equal(c, d)
    k = seqae.KShape(n_clusters=2, random_state=3, n_jobs=1).fit(X)
    assert len(k.labels_) == len(X)
    for bad in (dict(random_state="x"), dict(n_jobs=0)):
        with pytest.raises(ValueError):
            seqae.SeqAE(**{**TINY, **bad}).fit(X)
    assert clone(seqae.SeqAE(random_state=3)).get_params()["random_state"] == 3


def test_the_docstrings_list_every_parameter():
    for cls in (seqae.SeqAE, seqae.SeqAEClusterer):
        doc = cls.__doc__
        assert "Parameters\n----------" in doc and "Attributes\n----------" in doc
        for name in cls().get_params():
            assert f"\n{name} : " in doc, (cls.__name__, name)
    assert [d[0] for d in _seqae.descriptions()][:3] == ["cell", "hidden", "latent"]


def test_dir_lists_the_public_names():
    assert dir(seqae) == sorted(seqae.__all__)
    assert "np" not in dir(seqae) and "KShape" in dir(seqae)
