"""scikit-learn conventions: check_estimator, parameters, defaults, clone."""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

import seqae
from seqae import _seqae

from conftest import TINY

# Checks that cannot pass, with the reason. A sequence model embeds sequences of any length:
# a 2-D input's columns are time steps, and transforming sequences of another length than the
# training ones is normal use, not an error (the channel count is checked: a wrong one is a
# ValueError). check_transformer_general fails only on its last step, that same feature-count
# check; its comparisons of fit_transform with fit().transform pass before it.
LENGTH_FREE = (
    "sequence model: transform/predict take sequences of any length, so a different number "
    "of time steps (columns of a 2-D input) than in fit is not an error"
)
EXPECTED_SEQAE = {
    "check_n_features_in_after_fitting": LENGTH_FREE,
    "check_transformer_general": LENGTH_FREE,
}
EXPECTED_CLUSTERER = {
    "check_n_features_in_after_fitting": LENGTH_FREE,
    "check_transformer_general": LENGTH_FREE,
}


def _checked(estimator, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            estimator, expected_failed_checks=expected, on_fail=None
        )
    failed = [
        (r["check_name"], repr(r["exception"])[:300])
        for r in results
        if r["status"] == "failed" and r["check_name"] not in expected
    ]
    assert not failed, failed
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    return passed, results


def test_check_estimator_seqae():
    passed, results = _checked(seqae.SeqAE(**TINY), EXPECTED_SEQAE)
    for name in (
        "check_estimators_pickle",
        "check_methods_subset_invariance",
        "check_methods_sample_order_invariance",
        "check_fit_idempotent",
        "check_estimators_nan_inf",
        "check_transformer_preserve_dtypes",
    ):
        assert name in passed, name
    # The expected failures do fail (if one starts passing, the list above is stale).
    xfails = {r["check_name"] for r in results if r["status"] == "xfail"}
    assert set(EXPECTED_SEQAE) <= xfails, xfails


def test_check_estimator_clusterer():
    passed, _ = _checked(seqae.SeqAEClusterer(**TINY), EXPECTED_CLUSTERER)
    assert "check_clustering" in passed
    assert "check_clusterer_compute_labels_predict" in passed


def test_defaults_are_the_librarys():
    lib = _seqae.defaults()
    for cls in (seqae.SeqAE, seqae.SeqAEClusterer):
        params = cls().get_params()
        shared = set(params) & set(lib)
        assert len(shared) >= 25
        for name in shared:
            assert params[name] == lib[name], (cls.__name__, name)
    # As the CLI: epochs None means the library's epochs with a floor of updates.
    assert lib["epochs"] is None and lib["min_updates"] is None
    assert lib["library_min_updates"] == 2000
    sig = inspect.signature(seqae.SeqAE)
    assert all(p.kind == p.KEYWORD_ONLY for p in sig.parameters.values())


def test_clone_get_set_params(chinatown):
    X, _ = chinatown
    est = seqae.SeqAE(**TINY).fit(X)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "model_")
    twin.set_params(hidden=5, cell="lstm").fit(X)
    assert twin.model_.params["hidden"] == 5 and twin.model_.params["cell"] == "lstm"
    assert est.get_params()["hidden"] == 4
    c = seqae.SeqAEClusterer(n_clusters=3, **TINY)
    assert clone(c).get_params() == c.get_params()


def test_a_loaded_model_reports_the_parameters_it_was_fitted_with(chinatown, tmp_path):
    X, _ = chinatown
    params = {**TINY, "cell": "lstm", "patch": "auto", "min_updates": 3, "lr": 0.002}
    est = seqae.SeqAE(**params).fit(X)
    est.save(tmp_path / "m")
    loaded = seqae.load(tmp_path / "m")
    assert loaded.get_params() == est.get_params()
    # A clone of the loaded estimator trains the same model again.
    again = clone(loaded).fit(X)
    np.testing.assert_array_equal(again.transform(X), est.transform(X))


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(cell="x"), "unknown cell 'x': expected rnn, lstm or gru"),
        (dict(hidden=0), "invalid configuration: hidden size must be at least 1"),
        (dict(hidden=-3), "hidden = -3: must be at least 0"),
        (dict(dropout=1.5, layers=2), "dropout must be in [0, 1), not 1.5"),
        (dict(dropout=0.2), "dropout = 0.2: does nothing without layers = 2 or more"),
        (
            dict(teacher_ratio=0.3),
            "teacher_ratio = 0.3: does nothing without decoder_input = teacher-forcing",
        ),
        (
            dict(contrast_weight=2.0),
            "contrast_weight = 2: does nothing without objective = contrastive",
        ),
        (dict(patch="big"), "patch must be auto or a whole number"),
        (dict(pooling="sum"), "unknown pooling 'sum'"),
        (dict(normalize="l2"), "unknown normalisation 'l2'"),
        (dict(clip=-1.0), "clip = -1: must be 0 (off) or positive"),
        (dict(lr=0.0), "learning rate must be > 0"),
        (dict(n_threads=0), "n_threads = 0"),
        (dict(backend="cuda"), "unknown backend 'cuda'"),
    ],
)
def test_bad_parameters_raise_value_error(chinatown, params, message):
    X, _ = chinatown
    with pytest.raises(ValueError) as e:
        seqae.SeqAE(**{**TINY, **params}).fit(X)
    assert message in str(e.value)


def test_parameter_types_raise_type_error(chinatown):
    X, _ = chinatown
    with pytest.raises(TypeError, match="hidden = 'four': must be a whole number"):
        seqae.SeqAE(**{**TINY, "hidden": "four"}).fit(X)


def test_epochs_and_min_updates_as_the_cli(chinatown):
    X, _ = chinatown  # 42 sequences: 2 batches of 32 an epoch
    assert seqae.SeqAE(**TINY).fit(X).n_epochs_ == 2
    est = seqae.SeqAE(**{**TINY, "min_updates": 10}).fit(X)
    assert est.n_epochs_ == 5  # the floor of 10 updates, 2 a epoch
    est = seqae.SeqAE(**{**TINY, "epochs": None, "min_updates": 0})
    assert est.get_params()["min_updates"] == 0


def test_clusterer_options(chinatown):
    X, y = chinatown
    c = seqae.SeqAEClusterer(**TINY).fit(X)
    assert sorted(c.silhouette_scores_) == list(range(2, 11))
    assert c.n_clusters_ == max(c.silhouette_scores_, key=c.silhouette_scores_.get)
    assert c.cluster_centers_.shape == (c.n_clusters_, 2)
    assert c.labels_.dtype == np.int64 and c.labels_.shape == (42,)
    assert isinstance(c.autoencoder_, seqae.SeqAE)
    np.testing.assert_array_equal(c.fit_predict(X), c.labels_)
    # The default chose a view, and predict on the training data gives labels_.
    assert c.method_ == "auto" and c.view_ in ("latent", "euclidean", "shape", "warping")
    np.testing.assert_array_equal(c.predict(X), c.labels_)
    s = seqae.SeqAEClusterer(n_clusters=2, clusterer="kshape", **TINY).fit(X)
    assert s.method_ == "kshape" and s.view_ is None and len(set(s.labels_)) == 2
    np.testing.assert_array_equal(s.predict(X), s.labels_)
    k = seqae.SeqAEClusterer(n_clusters=3, clusterer="kmeans", **TINY).fit(X)
    assert k.n_clusters_ == 3 and k.silhouette_scores_ == {}
    # k-means labels are the nearest centres.
    np.testing.assert_array_equal(k.predict(X), k.labels_)
    with pytest.raises(ValueError, match="n_clusters = 'many'"):
        seqae.SeqAEClusterer(n_clusters="many", **TINY).fit(X)
    with pytest.raises(ValueError, match="unknown clustering method 'dbscan'"):
        seqae.SeqAEClusterer(clusterer="dbscan", **TINY).fit(X)
    with pytest.raises(ValueError, match="k = 50 clusters requested"):
        seqae.SeqAEClusterer(n_clusters=50, **TINY).fit(X)


def test_kshape_on_raw_sequences(basicmotions):
    X, y = basicmotions
    ks = seqae.KShape(n_clusters=4, seed=1).fit(X)
    assert ks.labels_.shape == (80,) and ks.labels_.dtype == np.int64
    assert ks.cluster_centers_.shape == (4, 6, 100) and ks.cluster_centers_.dtype == np.float32
    assert ks.n_features_in_ == 6 and ks.inertia_ > 0 and ks.n_iter_ >= 1
    # Each centroid channel is z-normalised.
    c = ks.cluster_centers_[0, 0]
    assert abs(c.mean()) < 1e-4 and abs(c.std() - 1) < 1e-3
    # The same clusters as `seqae cluster --method kshape` finds: far above chance here.
    from sklearn.metrics import normalized_mutual_info_score as nmi

    assert nmi(y, ks.labels_) > 0.4
    # predict: the nearest centroid; on the training data of a converged fit, labels_.
    if ks.n_iter_ < 100:
        np.testing.assert_array_equal(ks.predict(X), ks.labels_)
    # Unequal lengths (a list) and a shift of one sequence keep working.
    ragged = [x[:, : 60 + i % 40] for i, x in enumerate(X)]
    assert seqae.KShape(n_clusters=4).fit(ragged).labels_.shape == (80,)
    with pytest.raises(ValueError, match="k = 81 clusters requested"):
        seqae.KShape(n_clusters=81).fit(X)
    with pytest.raises(ValueError, match="fitted on 6 features but the input has 2"):
        ks.predict(X[:, :2, :])
    # Pickles, clones and refits to the same clusters.
    import pickle

    again = pickle.loads(pickle.dumps(ks))
    np.testing.assert_array_equal(again.predict(X[:5]), ks.predict(X[:5]))
    np.testing.assert_array_equal(clone(ks).fit(X).labels_, ks.labels_)
