"""Pictures of a fitted model with matplotlib (optional dependency): latent space, cluster
prototypes, reconstructions, loss. Each function draws on ``ax`` (a new figure with one Axes
when None) and returns the Axes; no pyplot, so no display is needed."""

from typing import Any, Optional, Sequence, Union

import numpy.typing as npt
from matplotlib.axes import Axes

from . import SeqAE, SeqAEClusterer

__all__ = ["latent", "prototypes", "reconstructions", "loss"]

_ArrayLike = Union[npt.ArrayLike, Sequence[npt.ArrayLike], Any]
"""Sequences in any layout the estimators accept (arrays, lists of arrays, pandas frames)."""

PALETTE: tuple[str, ...]
"""The Okabe-Ito palette (the command line's colours)."""

def latent(
    Z: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None, *, ax: Optional[Axes] = None
) -> Axes:
    """Scatter of the latent vectors' first two principal components, coloured by label."""

def prototypes(
    X: _ArrayLike, labels: npt.ArrayLike, *, channel: int = 0, ax: Optional[Axes] = None
) -> Axes:
    """Per cluster the mean sequence of its members with a ±1 standard deviation band."""

def reconstructions(
    estimator: Union[SeqAE, SeqAEClusterer],
    X: _ArrayLike,
    *,
    n: int = 4,
    channel: int = 0,
    ax: Optional[Axes] = None,
) -> Axes:
    """n evenly spaced input sequences (solid) and their reconstructions (dashed)."""

def loss(estimator: Union[SeqAE, SeqAEClusterer], *, ax: Optional[Axes] = None) -> Axes:
    """Training and validation loss per epoch (log scale when every loss is positive)."""
