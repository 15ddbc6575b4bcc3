"""The Python package and the `seqae` binary agree: same seed, same model, same embeddings;
model directories go both ways."""

import json

import numpy as np

import seqae

from conftest import ROOT, TINY

DATA = ROOT / "datasets" / "Chinatown20"
FLAGS = ["--epochs", "2", "--hidden", "4", "--latent", "2", "--seed", "0", "-q"]


def test_fit_equals_cli_train_and_embed(cli, chinatown, tmp_path):
    X, _ = chinatown
    cli("train", DATA, "--out", tmp_path / "m", *FLAGS)
    cli("embed", tmp_path / "m", DATA, "--out", tmp_path / "z.npy")
    z_cli = np.load(tmp_path / "z.npy")
    z_py = seqae.SeqAE(**TINY).fit(X).transform(X)
    assert z_py.dtype == np.float32 and z_py.shape == (42, 2)
    np.testing.assert_array_equal(z_py, z_cli)


def test_cli_model_loads_in_python(cli, chinatown, tmp_path):
    X, _ = chinatown
    cli("train", DATA, "--out", tmp_path / "m", *FLAGS, "--cell", "lstm", "--patch", "3")
    cli("embed", tmp_path / "m", DATA, "--out", tmp_path / "z.npy")
    est = seqae.load(tmp_path / "m")
    assert est.cell == "lstm" and est.patch == 3 and est.hidden == 4
    assert est.n_channels_ == 1 and est.n_epochs_ == 2
    np.testing.assert_array_equal(est.transform(X), np.load(tmp_path / "z.npy"))


def test_python_model_embeds_in_cli(cli, chinatown, tmp_path):
    X, _ = chinatown
    est = seqae.SeqAE(**TINY, pooling="max").fit(X)
    est.save(tmp_path / "py.model")
    cli("embed", tmp_path / "py.model", DATA, "--out", tmp_path / "z.npy")
    np.testing.assert_array_equal(est.transform(X), np.load(tmp_path / "z.npy"))
    cli("reconstruct", tmp_path / "py.model", DATA, "--out", tmp_path / "r.json")
    # save replaces a model directory
    est.save(tmp_path / "py.model")


def test_read_matches_cli_info(cli, basicmotions):
    X, y = basicmotions
    info = json.loads(cli("info", ROOT / "datasets" / "BasicMotions", "--json").stdout)
    assert X.shape == (info["n"], info["channels"], info["max_len"])
    assert X.dtype == np.float32
    assert len(set(y)) == info["labels"]
