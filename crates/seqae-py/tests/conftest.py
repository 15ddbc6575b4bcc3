"""Shared fixtures: the repository's datasets and the `seqae` binary."""

import os
import pathlib
import subprocess

import numpy as np
import pytest

import seqae

#: The repository root (crates/seqae-py/tests/../../..).
ROOT = pathlib.Path(__file__).resolve().parents[3]

#: Tiny settings that train in well under a second on Chinatown20.
TINY = dict(epochs=2, hidden=4, latent=2, seed=0)


def _cli():
    exe = ROOT / "target" / "release" / ("seqae.exe" if os.name == "nt" else "seqae")
    if not exe.exists():
        # Normally built by `cargo test --release --workspace`; build it only when missing.
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    return exe


@pytest.fixture(scope="session")
def cli():
    """Runs the release `seqae` binary with arguments; returns the completed process."""
    exe = _cli()

    def run(*args):
        p = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
        assert p.returncode == 0, f"seqae {' '.join(map(str, args))}: {p.stderr}"
        return p

    return run


@pytest.fixture(scope="session")
def chinatown():
    """Chinatown20: 42 univariate sequences of length 24, as (X, y)."""
    X, y = seqae.read(ROOT / "datasets" / "Chinatown20")
    assert X.shape == (42, 1, 24)
    return X, y


@pytest.fixture(scope="session")
def basicmotions():
    """BasicMotions: 80 sequences of 6 channels, length 100."""
    X, y = seqae.read(ROOT / "datasets" / "BasicMotions")
    assert X.shape[1] == 6
    return X, y


@pytest.fixture(scope="session")
def tiny_model(chinatown):
    """A tiny SeqAE fitted on Chinatown20."""
    X, _ = chinatown
    return seqae.SeqAE(**TINY).fit(X)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
