"""The statistics of the population audit: a proportion's confidence interval and where a unit
lies on a funnel plot. Pure functions of counts.

- Wilson score interval (Wilson 1927; method 3 of Newcombe, Stat Med 1998;17:857-72): right
  at 0% and 100% and with small denominators, where the normal ("Wald") interval is not.
- Funnel plot control limits around the network's proportion p0 for a unit of n:
  p0 ± z·√(p0(1-p0)/n) at z = 1.96 (95%) and 3.09 (99.8%), the normal approximation to
  the binomial of Spiegelhalter, Stat Med 2005;24:1185-202, as NHS funnel plots draw them;
  clipped to 0-1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["Z95", "Z998", "FunnelPosition", "funnel_limits", "funnel_position", "wilson"]

#: Two-sided 95% and 99.8% standard normal quantiles.
Z95: Final = 1.959963984540054
Z998: Final = 3.090232306167813

FunnelPosition = Literal["within", "alert-high", "alert-low", "alarm-high", "alarm-low"]


def wilson(met: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of met/n; None when n is 0 (no proportion to bound)."""
    if n <= 0:
        return None
    if not 0 <= met <= n:
        raise ValueError(f"met {met} outside 0..{n}")
    p = met / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Limits:
    low: float
    high: float


def funnel_limits(p0: float, n: int, z: float) -> Limits:
    """The control limits for a unit of `n` around the network's proportion `p0`."""
    if n <= 0:
        return Limits(0.0, 1.0)
    half = z * math.sqrt(p0 * (1 - p0) / n)
    return Limits(max(0.0, p0 - half), min(1.0, p0 + half))


def funnel_position(met: int, n: int, p0: float) -> FunnelPosition:
    """Where a unit's met/n lies against the limits around `p0`: within the 95% limits, between
    the 95% and 99.8% (an alert), or beyond the 99.8% (an alarm), above or below."""
    if n <= 0:
        return "within"
    p = met / n
    outer = funnel_limits(p0, n, Z998)
    inner = funnel_limits(p0, n, Z95)
    if p > outer.high:
        return "alarm-high"
    if p < outer.low:
        return "alarm-low"
    if p > inner.high:
        return "alert-high"
    if p < inner.low:
        return "alert-low"
    return "within"
