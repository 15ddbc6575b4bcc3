"""Input layouts, bad inputs, outputs, pickling, pipelines, batch independence, reading."""

import pickle
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline

import seqae

from conftest import ROOT, TINY


def test_2d_and_3d_univariate_equal(tiny_model, chinatown):
    X, _ = chinatown
    z3 = tiny_model.transform(X)
    np.testing.assert_array_equal(tiny_model.transform(X[:, 0, :]), z3)
    np.testing.assert_array_equal(tiny_model.transform(list(X)), z3)
    np.testing.assert_array_equal(tiny_model.transform([x[0] for x in X]), z3)
    # any real dtype, cast to float32; a DataFrame through np.asarray
    np.testing.assert_array_equal(tiny_model.transform(X.astype(np.float64)), z3)
    assert tiny_model.transform(np.round(X[:, 0, :]).astype(np.int64)).shape == (42, 2)
    # 2-D and 3-D fits train the same model
    z2 = seqae.SeqAE(**TINY).fit(X[:, 0, :]).transform(X)
    np.testing.assert_array_equal(z2, z3)


def test_dataframe_input(tiny_model, chinatown):
    pd = pytest.importorskip("pandas")
    X, _ = chinatown
    frame = pd.DataFrame(X[:, 0, :], columns=[f"t{i}" for i in range(24)])
    np.testing.assert_array_equal(tiny_model.transform(frame), tiny_model.transform(X))
    est = seqae.SeqAE(**TINY).fit(frame)
    assert list(est.feature_names_in_) == list(frame.columns)
    assert est.n_features_in_ == 24


def test_unequal_lengths(basicmotions):
    X, _ = basicmotions
    rng = np.random.default_rng(1)
    ragged = [x[:, : int(n)] for x, n in zip(X, rng.integers(20, 100, len(X)))]
    est = seqae.SeqAE(**TINY).fit(ragged)
    z = est.transform(ragged)
    assert z.shape == (80, 2)
    # each sequence alone embeds the same as in the batch
    for i in (0, 17, 79):
        np.testing.assert_array_equal(est.transform([ragged[i]])[0], z[i])
    # trailing NaN padding ends a sequence: a padded 3-D array embeds as the list
    padded = np.full((80, 6, 100), np.nan, dtype=np.float32)
    for i, x in enumerate(ragged):
        padded[i, :, : x.shape[1]] = x
    np.testing.assert_array_equal(est.transform(padded), z)
    # reconstructions keep the layout
    rec = est.reconstruct(ragged)
    assert isinstance(rec, list) and [r.shape for r in rec] == [x.shape for x in ragged]
    rec3 = est.reconstruct(padded)
    assert rec3.shape == padded.shape
    np.testing.assert_array_equal(np.isnan(rec3), np.isnan(padded))
    np.testing.assert_array_equal(rec3[5][:, : rec[5].shape[1]], rec[5])


def test_outputs(tiny_model, chinatown):
    X, _ = chinatown
    err = tiny_model.reconstruction_error(X)
    assert err.shape == (42,) and err.dtype == np.float32 and (err > 0).all()
    np.testing.assert_array_equal(tiny_model.score_samples(X), -err)
    assert tiny_model.reconstruct(X[:, 0, :]).shape == (42, 24)
    rec = tiny_model.reconstruct(X)
    assert rec.shape == X.shape and rec.dtype == np.float32 and np.isfinite(rec).all()
    assert list(tiny_model.get_feature_names_out()) == ["seqae0", "seqae1"]


def test_missing_values(chinatown):
    X, _ = chinatown
    holes = X.copy()
    holes[3, 0, 5] = np.nan
    with pytest.raises(
        ValueError,
        match=r"X\[3, 0, 5\]: missing value \(NaN\); pass allow_missing=True to accept it",
    ):
        seqae.SeqAE(**TINY).fit(holes)
    est = seqae.SeqAE(**TINY, allow_missing=True).fit(holes)
    assert np.isfinite(est.transform(holes)).all()
    assert np.isfinite(est.reconstruct(holes)).all()  # missing values are reconstructed
    with pytest.raises(ValueError, match="all values are NaN"):
        est.transform(np.full((2, 1, 24), np.nan, dtype=np.float32))


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (np.zeros((0, 1, 24), np.float32), ValueError, "0 sample"),
        (np.zeros((0, 24), np.float32), ValueError, "0 sample"),
        ([], ValueError, "0 sample"),
        (np.zeros((5, 1, 0), np.float32), ValueError, "0 time steps"),
        (np.zeros((5, 0), np.float32), ValueError, "0 feature"),
        ([np.zeros((1, 24)), np.zeros((1, 0))], ValueError, "sequence 1 has no time steps"),
        (np.zeros(24), ValueError, "Reshape your data"),
        (np.zeros((2, 1, 3, 4)), ValueError, "4 dimensions"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "could not convert"),
        (np.array([[{"a": 1}, 2.0]], dtype=object), TypeError, "argument must be a string"),
        (np.ones((3, 1, 24)) * 1j, ValueError, "Complex data not supported"),
        (np.full((3, 1, 24), np.inf), ValueError, "infinity"),
        ([np.zeros((1, 5)), np.zeros((2, 5))], ValueError, "sequence 1 has 2 channels"),
        ([np.zeros((1, 5)), np.zeros((1, 5, 2))], ValueError, "sequence 1 has shape"),
        ([np.zeros((1, 5)), np.array(["x", "y"])], ValueError, "sequence 1"),
    ],
)
def test_bad_inputs(tiny_model, bad, error, message):
    with pytest.raises(error, match=message):
        tiny_model.transform(bad)
    with pytest.raises(error, match=message):
        seqae.SeqAE(**TINY).fit(bad)


def test_wrong_channel_count(tiny_model, basicmotions):
    X, _ = basicmotions
    with pytest.raises(ValueError, match="model expects 1 channels but the data has 6"):
        tiny_model.transform(X)
    with pytest.raises(ValueError, match="model expects 1 channels but the data has 6"):
        tiny_model.reconstruct(list(X))


def test_a_model_too_large_for_memory_is_refused(chinatown):
    # 10^7 hidden units need petabytes: refused before allocating (an allocation failure
    # would abort the interpreter), with the CLI's message.
    X, _ = chinatown
    with pytest.raises(ValueError, match="GiB of memory is available; choose a smaller model"):
        seqae.SeqAE(hidden=10**7, epochs=1).fit(X)


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        seqae.SeqAE().transform(np.zeros((2, 5)))


def test_same_seed_same_model(chinatown):
    X, _ = chinatown
    a = seqae.SeqAE(**TINY).fit(X).transform(X)
    b = seqae.SeqAE(**TINY).fit(X).transform(X)
    c = seqae.SeqAE(**{**TINY, "seed": 1}).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    d = seqae.SeqAE(**TINY, n_threads=2).fit(X).transform(X)
    e = seqae.SeqAE(**TINY, n_threads=2).fit(X).transform(X)
    np.testing.assert_array_equal(d, e)


def test_pickle_round_trip(chinatown, tmp_path):
    X, _ = chinatown
    est = seqae.SeqAE(**TINY).fit(X)
    z = est.transform(X)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.transform(X), z)
    np.testing.assert_array_equal(back.reconstruct(X), est.reconstruct(X))
    assert back.get_params() == est.get_params()
    assert hasattr(est, "model_")  # pickling leaves the original fitted
    state = est.__getstate__()
    assert {"config.json", "weights.bpk"} <= set(state["_model_files"])
    joblib = pytest.importorskip("joblib")
    joblib.dump(est, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").transform(X), z)
    c = seqae.SeqAEClusterer(**TINY).fit(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(c)).predict(X), c.predict(X))


def test_loaded_model_survives_its_directory(chinatown, tmp_path):
    import shutil

    X, _ = chinatown
    est = seqae.SeqAE(**TINY).fit(X)
    est.save(tmp_path / "m")
    loaded = seqae.load(tmp_path / "m")
    shutil.rmtree(tmp_path / "m")
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    with pytest.raises(ValueError, match="m: not a seqae model \\(not a directory\\)"):
        seqae.load(tmp_path / "m")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="refusing to overwrite"):
        est.save(tmp_path / "other")


def test_pipeline_with_kmeans(chinatown):
    X, y = chinatown
    pipe = make_pipeline(seqae.SeqAE(**TINY), KMeans(n_clusters=2, n_init=3, random_state=0))
    labels = pipe.fit_predict(X)
    assert labels.shape == (42,) and set(labels) <= {0, 1}
    np.testing.assert_array_equal(pipe.predict(X), labels)


def test_embedding_does_not_depend_on_the_batch(chinatown):
    """A sequence's embedding is the same whatever else is embedded with it (exactly)."""
    X, _ = chinatown
    est = seqae.SeqAE(epochs=2, seed=0).fit(X)  # default sizes
    rng = np.random.default_rng(0)
    big = rng.normal(size=(700, 1, 24)).astype(np.float32)  # 3 inference batches of 256
    z = est.transform(big)
    np.testing.assert_array_equal(est.transform(big[::-1])[::-1], z)
    p = rng.permutation(700)
    np.testing.assert_array_equal(est.transform(big[p]), z[p])
    for s in (rng.choice(700, 37, replace=False), np.arange(255, 300)):
        np.testing.assert_array_equal(est.transform(big[s]), z[s])
    for i in (0, 256, 699):
        np.testing.assert_array_equal(est.transform(big[i : i + 1])[0], z[i])
    ragged = [rng.normal(size=(1, int(n))).astype(np.float32) for n in rng.integers(5, 40, 400)]
    zr = est.transform(ragged)
    np.testing.assert_array_equal(est.transform(ragged[::-1])[::-1], zr)
    for i in (3, 200):
        np.testing.assert_array_equal(est.transform([ragged[i]])[0], zr[i])
    err = est.reconstruction_error(big)
    np.testing.assert_array_equal(est.reconstruction_error(big[::-1])[::-1], err)


def test_read_formats(tmp_path):
    X, y = seqae.read(ROOT / "datasets" / "Chinatown20" / "Chinatown20_TRAIN.ts")
    assert X.shape[1:] == (1, 24) and y is not None and y.dtype.kind == "U"
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    a[2, 3] = np.nan  # trailing NaN: a shorter sequence
    np.save(tmp_path / "a.npy", a)
    Xn, yn = seqae.read(tmp_path / "a.npy")
    assert yn is None and isinstance(Xn, list)
    assert [x.shape for x in Xn] == [(1, 4), (1, 4), (1, 3)]
    (tmp_path / "w.csv").write_text("id;label;a;b\ns1;x;1;2\ns2;y;3;4\n")
    Xc, yc = seqae.read(tmp_path / "w.csv", delimiter=";")
    assert Xc.shape == (2, 1, 2) and list(yc) == ["x", "y"]
    (tmp_path / "l.csv").write_text("id,time,c1,c2\na,0,1,2\na,1,3,4\nb,0,5,6\n")
    Xl, _ = seqae.read(tmp_path / "l.csv", format="csv-long")
    assert [x.shape for x in Xl] == [(2, 2), (2, 1)]
    with pytest.raises(FileNotFoundError, match="nothing.ts"):
        seqae.read(tmp_path / "nothing.ts")
    with pytest.raises(ValueError, match="unknown data format 'xlsx'"):
        seqae.read(tmp_path / "a.npy", format="xlsx")
    with pytest.raises(ValueError, match="delimiter ';;': must be one ASCII character"):
        seqae.read(tmp_path / "w.csv", delimiter=";;")
    holes = np.ones((2, 5))
    holes[0, 1] = np.nan
    np.save(tmp_path / "h.npy", holes)
    with pytest.raises(ValueError, match=r"element \[0, 1, 0\]: missing value"):
        seqae.read(tmp_path / "h.npy")
    assert np.isnan(seqae.read(tmp_path / "h.npy", allow_missing=True)[0][0, 0, 1])


def test_verbose_prints_progress(chinatown, capsys):
    X, _ = chinatown
    seqae.SeqAE(**{**TINY, "epochs": 20}, verbose=1).fit(X)
    err = capsys.readouterr().err
    assert "epoch 1/20 loss" in err and "epoch 20/20" in err
    assert "trained 20 epochs on 42 sequences" in err
    assert err.count("epoch ") <= 12


def test_fit_releases_the_gil(basicmotions):
    X, _ = basicmotions
    est = seqae.SeqAE(epochs=30, hidden=16)
    worker = threading.Thread(target=est.fit, args=(X,))
    ticks = 0
    worker.start()
    start = time.perf_counter()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.001)
    took = time.perf_counter() - start
    worker.join()
    assert hasattr(est, "model_")
    # with the GIL held this loop would not run while the fit does
    assert took < 0.05 or ticks > 10, (took, ticks)


def test_ctrl_c_stops_training():
    # SIGINT is sent once training runs (its first progress line is out), so that it lands in
    # the fit, not in the Python code around it.
    script = textwrap.dedent(
        f"""
        import signal, time, seqae
        # Python's own Ctrl-C handler, whatever the test runner left the child to inherit (a
        # SIGINT ignored by the parent stays ignored in the child, and Python then installs
        # no handler).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        X, _ = seqae.read({str(ROOT / "datasets" / "BasicMotions")!r})
        est = seqae.SeqAE(epochs=100000, verbose=1)
        start = time.time()
        try:
            est.fit(X)
        except KeyboardInterrupt as e:
            print("interrupted", round(time.time() - start, 1), hasattr(est, "model_"), flush=True)
            print("kept" if "keeps that epoch's model" in str(e) else "lost", est.n_epochs_, flush=True)
            est.transform(X[:2])
        seqae.SeqAE(epochs=1, hidden=4, latent=2).fit(X)
        print("alive", flush=True)
        """
    )
    p = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = p.stderr.readline()
    assert first.startswith("epoch 1/"), first
    p.send_signal(subprocess.signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, out + err
    lines = out.split()
    # The last finished epoch's model is kept (epoch 1 had finished: its line was out).
    assert lines[0] == "interrupted" and lines[2] == "True" and lines[-1] == "alive", out
    assert lines[3] == "kept" and int(lines[4]) >= 1, out
