"""pandas inputs: aeon's collection layouts converted to the estimators' arrays.

:func:`from_frame` is the first step of every estimator's input check. It leaves anything
that is not a pandas object alone (pandas is imported only when X is one, so it stays an
optional dependency) and converts, as aeon's ``convert_collection`` does:

- ``pd-multiindex``: a DataFrame with a 2-level row MultiIndex (case, time) and one column
  per channel;
- ``nested_univ``: a DataFrame with one column per channel whose cells are each a
  ``pd.Series`` (or a 1-D array) holding one channel of one case;

into a float64 array ``(n_cases, n_channels, n_timepoints)`` when every case has the same
length, else a list of ``(n_channels, length_i)`` arrays. A wide frame of numbers (one row per
case, one column per time point) is returned unchanged: scikit-learn reads it as a 2-D array
and keeps its column names in ``feature_names_in_``. Frames that are neither (a long table
with case and time columns, text or date columns) and Series are refused with a TypeError
that names the layouts accepted.
"""

from __future__ import annotations

import numpy as np

#: The layouts accepted, as the error messages name them.
LAYOUTS = (
    "a wide frame (one row per case, one column per time point), aeon's pd-multiindex "
    "(MultiIndex (case, time), one column per channel) or nested_univ (one pd.Series per cell)"
)

#: Column names (lower case) that mark a case identifier in a long table.
_CASE_NAMES = frozenset(
    {
        "id",
        "case",
        "case_id",
        "caseid",
        "instance",
        "instance_id",
        "series",
        "series_id",
        "unique_id",
        "sample",
        "sample_id",
        "sequence",
        "sequence_id",
    }
)

#: Column names (lower case) that mark the time of a row in a long table.
_TIME_NAMES = frozenset(
    {
        "time",
        "timestamp",
        "timepoint",
        "timepoints",
        "time_point",
        "time_index",
        "timeindex",
        "date",
        "datetime",
        "ds",
    }
)


def from_frame(X):
    """X as the estimators read it: a pandas frame in aeon's pd-multiindex or nested_univ
    layout converted to an array (or a list, for unequal lengths), any other X unchanged.

    Raises TypeError for a pandas Series and for a frame in none of the layouts accepted.
    """
    module = type(X).__module__ or ""
    if not module.startswith("pandas"):
        return X
    import pandas as pd

    if isinstance(X, pd.Series):
        raise TypeError(
            "X is a pandas Series (a single sequence?): pass a DataFrame or an array of "
            f"sequences, {LAYOUTS}; for one univariate sequence s, "
            "s.to_numpy()[np.newaxis, :]"
        )
    if not isinstance(X, pd.DataFrame):
        return X
    if isinstance(X.index, pd.MultiIndex):
        return _from_multiindex(X, pd)
    if _is_nested(X, pd):
        return _from_nested(X, pd)
    _check_wide(X, pd)
    return X


def _is_numeric(dtype, pd):
    return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def _integer_like(column, pd):
    """True for an integer (or boolean) column, or a float one holding only whole numbers."""
    dtype = column.dtype
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return True
    if pd.api.types.is_float_dtype(dtype):
        v = column.to_numpy(dtype=np.float64, na_value=np.nan)
        v = v[np.isfinite(v)]
        return v.size > 0 and bool(np.all(v == np.round(v)))
    return False


def _check_wide(X, pd):
    """Refuses a frame that is not a wide frame of numbers, saying which layout is expected."""
    cases = []
    times = []
    for name in X.columns:
        column = X[name]
        if isinstance(column, pd.DataFrame):  # duplicate column names: check_array's business
            continue
        key = str(name).strip().lower()
        if key not in _CASE_NAMES and key not in _TIME_NAMES:
            continue
        if _is_numeric(column.dtype, pd) and not _integer_like(column, pd):
            continue
        (cases if key in _CASE_NAMES else times).append(name)
    if cases or times:
        case = repr(cases[0]) if cases else "<case column>"
        time = repr(times[0]) if times else "<time column>"
        found = ", ".join(repr(c) for c in cases + times)
        what = "column" if len(cases + times) == 1 else "columns"
        raise TypeError(
            f"X looks like a long table ({what} {found}: case ids or times, not time "
            f"points): expected {LAYOUTS}. For a long table (one row per case and time "
            f"step, one column per channel) pass X.set_index([{case}, {time}]), aeon's "
            "pd-multiindex"
        )
    other = [
        f"{name!r} ({X[name].dtype})"
        for name in X.columns
        if not isinstance(X[name], pd.DataFrame) and not _is_numeric(X[name].dtype, pd)
    ]
    if other:
        raise TypeError(
            f"X has columns that are not numbers: {', '.join(other[:5])}"
            f"{' ...' if len(other) > 5 else ''}; expected {LAYOUTS}. Move case ids and "
            "times to the index (X.set_index([case_col, time_col]) for a long table) and "
            "drop labels and other columns"
        )


def _cases(values, n):
    """One float array (n_channels, length) per case -> a 3-D array or a list."""
    lengths = {v.shape[1] for v in values}
    if n > 0 and len(lengths) == 1:
        return np.stack(values)
    return values


def _from_multiindex(X, pd):
    """aeon's pd-multiindex: rows (case, time), one column per channel."""
    if X.index.nlevels != 2:
        raise TypeError(
            f"X has a MultiIndex of {X.index.nlevels} levels {list(X.index.names)}: expected "
            f"{LAYOUTS}"
        )
    bad = [
        f"{name!r} ({X[name].dtype})"
        for name in X.columns
        if not isinstance(X[name], pd.DataFrame) and not _is_numeric(X[name].dtype, pd)
    ]
    if bad:
        raise TypeError(
            f"X (case, time MultiIndex) has columns that are not numbers: {', '.join(bad[:5])}; "
            f"in aeon's pd-multiindex every column is a channel. Expected {LAYOUTS}"
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"X (case, time MultiIndex) has shape {X.shape}: at least one row and one channel "
            "column are required"
        )
    if X.index.has_duplicates:
        dup = ", ".join(str(v) for v in X.index[X.index.duplicated()][0])
        raise ValueError(
            f"X (case, time MultiIndex) has more than one row for (case, time) = ({dup})"
        )
    case_codes, _ = pd.factorize(X.index.get_level_values(0), use_na_sentinel=False)
    time_codes, _ = pd.factorize(
        X.index.get_level_values(1), sort=True, use_na_sentinel=False
    )
    # Cases in their order of first appearance, each one's rows in time order.
    order = np.lexsort((time_codes, case_codes))
    values = X.to_numpy(dtype=np.float64, na_value=np.nan)[order]
    counts = np.bincount(case_codes)
    bounds = np.cumsum(counts)[:-1]
    cases = [np.ascontiguousarray(v.T) for v in np.split(values, bounds)]
    return _cases(cases, len(cases))


def _is_nested(X, pd):
    """True for aeon's nested_univ: every cell a pd.Series or a 1-D array."""
    if X.shape[0] == 0 or X.shape[1] == 0:
        return False
    if not all(dtype == object for dtype in X.dtypes):
        return False
    return all(
        isinstance(cell, pd.Series) or (isinstance(cell, np.ndarray) and cell.ndim == 1)
        for cell in X.to_numpy().ravel()
    )


def _from_nested(X, pd):
    """aeon's nested_univ: one row per case, one column per channel, a series per cell."""
    cases = []
    for i, row in enumerate(X.itertuples(index=False, name=None)):
        channels = []
        for cell in row:
            v = cell.to_numpy(dtype=np.float64, na_value=np.nan) if isinstance(
                cell, pd.Series
            ) else np.asarray(cell, dtype=np.float64)
            channels.append(v)
        lengths = {len(v) for v in channels}
        if len(lengths) != 1:
            raise ValueError(
                f"X (nested_univ) case {X.index[i]!r} has channels of lengths "
                f"{[len(v) for v in channels]}: every channel of a case needs the same length"
            )
        cases.append(np.stack(channels))
    return _cases(cases, len(cases))
