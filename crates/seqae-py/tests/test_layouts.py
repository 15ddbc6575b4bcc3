"""pandas frames in aeon's layouts, refused ambiguous frames, and the channels-last warning."""

import warnings

import numpy as np
import pytest

import seqae
from seqae import _layouts

from conftest import TINY

pd = pytest.importorskip("pandas")


def _embed(X):
    """The tiny model fitted on X, then X's latent vectors."""
    return seqae.SeqAE(**TINY).fit(X).transform(X)


def _multiindex(cases, channels=("a", "b"), shuffle=None):
    """aeon's pd-multiindex frame of a list of (channels, length_i) arrays."""
    rows = []
    for i, c in enumerate(cases):
        for t in range(c.shape[1]):
            rows.append(((f"case{i}", t), c[:, t]))
    if shuffle is not None:
        rows = [rows[j] for j in shuffle.permutation(len(rows))]
    index = pd.MultiIndex.from_tuples([r[0] for r in rows], names=["case", "time"])
    return pd.DataFrame(np.array([r[1] for r in rows]), index=index, columns=list(channels))


def _nested(cases, channels=("a", "b")):
    """aeon's nested_univ frame: one pd.Series per cell."""
    return pd.DataFrame(
        {
            name: [pd.Series(c[k]) for c in cases]
            for k, name in enumerate(channels)
        }
    )


def test_not_pandas_unchanged(rng):
    X = rng.normal(size=(3, 2, 5))
    assert _layouts.from_frame(X) is X
    items = [X[0], X[1]]
    assert _layouts.from_frame(items) is items


def test_multiindex_equal_lengths(basicmotions):
    X, _ = basicmotions
    X = X[:12, :2, :40].astype(np.float64)
    frame = _multiindex(list(X))
    converted = _layouts.from_frame(frame)
    assert isinstance(converted, np.ndarray) and converted.shape == (12, 2, 40)
    np.testing.assert_array_equal(converted, X)
    np.testing.assert_array_equal(_embed(frame), _embed(X))
    assert _embed(frame).shape == (12, TINY["latent"])


def test_multiindex_rows_in_any_order(basicmotions):
    # Cases in the order they first appear, time points sorted by the time level.
    X, _ = basicmotions
    X = X[:5, :2, :10].astype(np.float64)
    frame = _multiindex(list(X)).sort_index(level=1, sort_remaining=False)
    first = frame.index.get_level_values(0).unique()
    order = [int(c.removeprefix("case")) for c in first]
    np.testing.assert_array_equal(_layouts.from_frame(frame), X[order])
    shuffled = _multiindex(list(X), shuffle=np.random.default_rng(1))
    first = shuffled.index.get_level_values(0).unique()
    order = [int(c.removeprefix("case")) for c in first]
    np.testing.assert_array_equal(_layouts.from_frame(shuffled), X[order])


def test_multiindex_unequal_lengths(basicmotions):
    X, _ = basicmotions
    cases = [X[i, :2, : 20 + 3 * i].astype(np.float64) for i in range(8)]
    frame = _multiindex(cases)
    converted = _layouts.from_frame(frame)
    assert isinstance(converted, list) and len(converted) == 8
    for got, want in zip(converted, cases):
        np.testing.assert_array_equal(got, want)
    est = seqae.SeqAE(**TINY).fit(frame)
    assert est.n_features_in_ == 2
    assert not hasattr(est, "feature_names_in_")
    Z = est.transform(frame)
    assert Z.shape == (8, TINY["latent"])
    np.testing.assert_array_equal(Z, _embed(cases))
    rec = est.reconstruct(frame)
    assert [r.shape for r in rec] == [c.shape for c in cases]


def test_multiindex_refused():
    three = pd.DataFrame(
        {"a": [1.0, 2.0]},
        index=pd.MultiIndex.from_tuples([(0, 0, 0), (0, 0, 1)], names=["x", "case", "time"]),
    )
    with pytest.raises(TypeError, match="MultiIndex of 3 levels"):
        seqae.SeqAE(**TINY).fit(three)
    text = pd.DataFrame(
        {"a": [1.0, 2.0], "label": ["x", "y"]},
        index=pd.MultiIndex.from_tuples([(0, 0), (0, 1)], names=["case", "time"]),
    )
    with pytest.raises(TypeError, match="not numbers: 'label'"):
        seqae.SeqAE(**TINY).fit(text)
    dup = pd.DataFrame(
        {"a": [1.0, 2.0]},
        index=pd.MultiIndex.from_tuples([(0, 0), (0, 0)], names=["case", "time"]),
    )
    with pytest.raises(ValueError, match=r"more than one row for \(case, time\) = \(0, 0\)"):
        seqae.SeqAE(**TINY).fit(dup)


def test_nested_equal_lengths(basicmotions):
    X, _ = basicmotions
    X = X[:10, :3, :30].astype(np.float64)
    frame = _nested(list(X), channels=("x", "y", "z"))
    converted = _layouts.from_frame(frame)
    assert isinstance(converted, np.ndarray) and converted.shape == (10, 3, 30)
    np.testing.assert_array_equal(converted, X)
    np.testing.assert_array_equal(_embed(frame), _embed(X))


def test_nested_unequal_lengths_and_arrays(basicmotions):
    X, _ = basicmotions
    cases = [X[i, :2, : 15 + i].astype(np.float64) for i in range(6)]
    # Cells may be 1-D arrays as well as Series.
    frame = pd.DataFrame({"a": [c[0] for c in cases], "b": [pd.Series(c[1]) for c in cases]})
    converted = _layouts.from_frame(frame)
    assert isinstance(converted, list)
    for got, want in zip(converted, cases):
        np.testing.assert_array_equal(got, want)
    Z = seqae.SeqAE(**TINY).fit(frame).transform(frame)
    assert Z.shape == (6, TINY["latent"])
    np.testing.assert_array_equal(Z, _embed(cases))


def test_nested_channels_of_unequal_length():
    frame = pd.DataFrame({"a": [pd.Series([1.0, 2.0, 3.0])], "b": [pd.Series([1.0, 2.0])]})
    with pytest.raises(ValueError, match=r"lengths \[3, 2\]"):
        seqae.SeqAE(**TINY).fit(frame)


def test_wide_frame_unchanged(chinatown):
    X, _ = chinatown
    frame = pd.DataFrame(X[:, 0, :], columns=[f"t{i}" for i in range(24)])
    assert _layouts.from_frame(frame) is frame
    est = seqae.SeqAE(**TINY).fit(frame)
    assert list(est.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(est.transform(frame), _embed(X[:, 0, :]))


def _long(X):
    """A long table: one row per (case, time), columns case, time and one per channel."""
    n, c, t = X.shape
    return pd.DataFrame(
        {
            "case": np.repeat(np.arange(n), t),
            "time": np.tile(np.arange(t), n),
            **{f"ch{k}": X[:, k, :].reshape(-1) for k in range(c)},
        }
    )


def test_long_frame_refused(basicmotions):
    X, _ = basicmotions
    frame = _long(X[:4, :2, :10])
    with pytest.raises(TypeError) as e:
        seqae.SeqAE(**TINY).fit(frame)
    message = str(e.value)
    assert "long table" in message
    assert _layouts.LAYOUTS in message
    assert "X.set_index(['case', 'time'])" in message
    # The suggestion works: it gives the multi-index layout.
    np.testing.assert_array_equal(
        _layouts.from_frame(frame.set_index(["case", "time"])), X[:4, :2, :10]
    )


@pytest.mark.parametrize(
    "columns",
    [
        # A datetime time column and a string case column.
        {
            "series_id": ["a", "a", "b", "b"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2),
            "value": [1.0, 2.0, 3.0, 4.0],
        },
        # An integer id column beside the time points of a wide frame.
        {"id": [0, 1], "t0": [1.0, 2.0], "t1": [3.0, 4.0]},
    ],
)
def test_frames_with_id_or_time_columns_refused(columns):
    with pytest.raises(TypeError, match="long table .*set_index"):
        seqae.SeqAE(**TINY).fit(pd.DataFrame(columns))


def test_text_columns_refused():
    frame = pd.DataFrame({"t0": [1.0, 2.0], "t1": [3.0, 4.0], "label": ["x", "y"]})
    with pytest.raises(TypeError, match="not numbers: 'label'") as e:
        seqae.SeqAE(**TINY).fit(frame)
    assert _layouts.LAYOUTS in str(e.value)
    frame = pd.DataFrame({"t0": [1.0, 2.0], "t1": [[3.0], [4.0]]})
    with pytest.raises(TypeError, match="not numbers: 't1' \\(object\\)"):
        seqae.SeqAE(**TINY).fit(frame)


def test_float_time_points_named_like_times_accepted(chinatown):
    # A wide frame's columns are checked for ids and times only when they hold whole numbers.
    X, _ = chinatown
    frame = pd.DataFrame({"time": X[:, 0, 0] + 0.5, "t1": X[:, 0, 1]})
    assert _layouts.from_frame(frame) is frame


def test_series_refused(chinatown):
    X, _ = chinatown
    with pytest.raises(TypeError, match="pandas Series .*pass a DataFrame or an array"):
        seqae.SeqAE(**TINY).fit(pd.Series(X[0, 0]))


def test_channels_last_warns(basicmotions):
    X, _ = basicmotions
    channels_last = X[:10].transpose(0, 2, 1).copy()  # (10, 100, 6): 100 "channels", 6 steps
    with pytest.warns(UserWarning, match="more channels") as record:
        seqae.SeqAE(**TINY).fit(channels_last)
    message = str(record[0].message)
    assert "(10, 100, 6)" in message and "X.transpose(0, 2, 1)" in message
    # The warning points at the caller of fit.
    assert record[0].filename == __file__


def test_no_warning_for_channels_first(basicmotions, chinatown):
    X, _ = basicmotions
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = seqae.SeqAE(**TINY).fit(X[:10])
        est.transform(X[:10])
        # As many channels as time steps is not a warning.
        seqae.SeqAE(**TINY).fit(X[:10, :6, :6])
