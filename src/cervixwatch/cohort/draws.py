"""Small seeded drawing helpers shared by the demo cohort and the benchmarks' synthetic data."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def pick(rng: random.Random, options: Sequence[T], weights: Sequence[float]) -> T:
    """One of `options`, drawn with the given relative weights."""
    return rng.choices(options, weights)[0]


def pick_weighted(rng: random.Random, weights: Mapping[T, float]) -> T:
    """One key of `weights`, drawn with its value as relative weight (in the mapping's order)."""
    return pick(rng, list(weights), list(weights.values()))


def clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A day from `first` to `last` inclusive, uniformly."""
    return first + days(rng.randint(0, (last - first).days))
