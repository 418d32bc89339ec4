"""Silence third-party warnings and chatty loggers around model fits."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_CHATTY_LOGGERS = ("cmdstanpy", "prophet", "prophet.plot", "prophet.models")


def silence_loggers() -> None:
    """Prophet and cmdstanpy log at INFO on every fit and at import; keep only errors we raise."""
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL)
        logger.propagate = False
        # cmdstanpy adds its own console handler only when the logger has none.
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())


@contextmanager
def quiet() -> Iterator[None]:
    """Statsmodels and numpy warn on non-convergence and overflow; failures surface as errors."""
    with warnings.catch_warnings(), np_errstate():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def np_errstate() -> Iterator[None]:
    """Numpy floating-point warnings off for the block."""
    import numpy as np

    with np.errstate(all="ignore"):
        yield
