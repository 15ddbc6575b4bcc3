"""Beyond one process: a fitted model pickled to Dask workers embeds partitioned data exactly
as one process does."""

import numpy as np
import pytest

import seqae

from conftest import TINY

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


def _embed(block, model):
    return model.transform(block)


def test_dask_map_blocks_equals_one_process(chinatown):
    X, _ = chinatown
    model = seqae.SeqAE(**TINY).fit(X)
    rng = np.random.default_rng(0)
    data = rng.normal(size=(600, 1, 24)).astype(np.float32)
    expected = model.transform(data)
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=40,
    ) as cluster, distributed.Client(cluster) as client:
        shipped = client.scatter(model, broadcast=True)  # pickled: the model's files as bytes
        blocks = da.from_array(data, chunks=(97, 1, 24))  # 7 uneven partitions
        z = da.map_blocks(
            _embed,
            blocks,
            model=shipped,
            drop_axis=2,
            chunks=(blocks.chunks[0], (model.latent,)),
            dtype=np.float32,
        )
        got = z.compute()
        workers = client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
