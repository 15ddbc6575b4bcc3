"""backend="gpu" from Python: what a package without a GPU says, and, where the package was
built with the ``gpu`` feature and a Vulkan device is present (a GPU, or lavapipe on the CPU in
CI), a fit on the GPU against the CPU.

CI builds the extension with the ``gpu`` feature after the CPU tests and runs this file with
``SEQAE_TEST_GPU=1``, under which a missing GPU fails the tests instead of skipping them; a
skipped test says "not run" and why.
"""

import os

import numpy as np
import pytest

import seqae

#: A small model that trains in seconds on lavapipe.
SMALL = dict(cell="lstm", hidden=8, latent=3, epochs=3, batch=16, seed=4, patch=1)


def _gpu():
    """The GPU's name, or the test ends: skipped, or failed under SEQAE_TEST_GPU=1."""
    try:
        return seqae.device_name("gpu")
    except RuntimeError as e:
        if os.environ.get("SEQAE_TEST_GPU") == "1":
            pytest.fail(f"not run: {e}")
        pytest.skip(f"not run: {e}")


def test_device_name_names_the_cpu_backends_and_rejects_unknown_ones():
    assert seqae.device_name("flex") == "flex (CPU)"
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        seqae.device_name("cuda")


def test_a_missing_gpu_is_a_runtime_error_saying_what_is_missing(chinatown):
    try:
        seqae.device_name("gpu")
    except RuntimeError as e:
        missing = str(e)
    else:
        pytest.skip("not run: this package has a usable GPU")
    assert "backend gpu" in missing
    X, _ = chinatown
    with pytest.raises(RuntimeError) as e:
        seqae.SeqAE(**SMALL, backend="gpu").fit(X)
    assert missing in str(e.value)


def test_a_fit_on_the_gpu_matches_the_cpu_and_loads_on_either(basicmotions, tmp_path):
    print("GPU:", _gpu())
    X, _ = basicmotions
    X = X[:48, :, :40]
    cpu = seqae.SeqAE(**SMALL, backend="flex").fit(X)
    gpu = seqae.SeqAE(**SMALL, backend="gpu").fit(X)
    # The same updates: the losses agree to rounding.
    np.testing.assert_allclose(
        gpu.history_["train_loss"], cpu.history_["train_loss"], rtol=1e-3
    )
    # The GPU's model embeds alike on the GPU and, loaded, on the CPU.
    z_gpu = gpu.transform(X)
    gpu.save(tmp_path / "model")
    on_cpu = seqae.load(tmp_path / "model", backend="flex")
    np.testing.assert_allclose(on_cpu.transform(X), z_gpu, rtol=1e-4, atol=1e-4)
    # A CPU model loaded on the GPU.
    cpu.save(tmp_path / "cpu-model")
    on_gpu = seqae.load(tmp_path / "cpu-model", backend="gpu")
    np.testing.assert_allclose(on_gpu.transform(X), cpu.transform(X), rtol=1e-4, atol=1e-4)
