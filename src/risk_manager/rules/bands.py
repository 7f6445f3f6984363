"""Price bands: per held contract, the marks its quotes may reach before a rule could act.

A rule that reacts to quotes of one position at a time (RULE-004, RULE-005, RULE-012)
gives, per held contract, a band ``(low, high)`` of marks: while a quote of that contract
stays strictly inside, the rule cannot act on it. The engine skips such quotes for the
account (``engine/quotes.py``), so the band must never be too wide; it may be too narrow
(a quote evaluated for nothing). Edges are floats: the engine compares quotes in float,
and every band keeps a margin far above float rounding. Most bands are one-sided (a
position's loss limit lies below a long's mark, its profit target above).
"""

from __future__ import annotations

from collections.abc import Mapping

#: (low, high): marks strictly between the two cannot make the rule act; -inf/inf = no edge
Band = tuple[float, float]
Bands = Mapping[str, Band]
INF = float("inf")


def every_quote(mark: float) -> Band:
    """An empty band: the next quote is evaluated whatever its mark."""
    return (mark, mark)


def one_sided(mark: float, distance: float, *, up: bool) -> Band:
    """The marks up to ``distance`` above ``mark`` (``up``) or below it; none when ``distance <= 0``."""
    if distance <= 0:
        return every_quote(mark)
    return (-INF, mark + distance) if up else (mark - distance, INF)


__all__ = ["INF", "Band", "Bands", "every_quote", "one_sided"]
