"""Slice dimensions: one table of bins per condition, used by the manifest's ``slice`` labels, the dataset
card's histograms and ``synth target`` (through :mod:`synth.writer.slices`).

A :class:`Dimension` names a key of an item's realized ``conditions`` and how it is binned: numeric
``edges`` (in the label's unit, after ``scale``) with open ends (``<0``, ``0-5``, ..., ``>=30``), a
``flag`` (value > 0), or a category (the value itself). Add one with ``register_dimension(Dimension(...))``
in the file of the effect that records the condition (this module imports nothing of synth's, so any
module may). The built-in table below registers first, so the manifest's slice order never depends on
which module was imported first.

The slice edges are coarse on purpose: a slice is a unit of evaluation, and each needs enough items for a
confidence interval, so the card shows the realized values in the same bins (with their mean and range)
rather than a finer histogram whose bins would disagree with the slices the set is scored on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

DIMENSIONS: dict[str, "Dimension"] = {}   # by condition key, in registration order (the manifest's slice order)


def bin_label(x: float | None, edges: list[float], unit: str = "") -> str | None:
    """``10-15`` style label of the bin holding ``x`` (``<0`` / ``>=30`` at the ends); ``-6 to -3`` when a
    bound is negative. None for a value that is not a finite number."""
    if x is None or isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    if x < edges[0]:
        return f"<{edges[0]:g}{unit}"
    for lo, hi in zip(edges, edges[1:]):
        if x < hi:
            return f"{lo:g}{' to ' if min(lo, hi) < 0 else '-'}{hi:g}{unit}"
    return f">={edges[-1]:g}{unit}"


@dataclass(frozen=True)
class Dimension:
    """How one condition is binned. ``slice``: the label's name in the manifest's ``slice`` (None: a card
    histogram only). ``absent``: the label of an item without the condition (``clean``: no noise was
    added); a present value that cannot be binned (None, NaN) gets no label. ``also_in``: blocks of the
    conditions that hold the key when the top level does not (a fitted profile's recorder noise).
    ``group`` / ``tolerance``: the config group whose slices change it, and how close (in the condition's
    own unit) a training utterance's value must be to count as in a slice's condition (``synth target``)."""

    key: str
    edges: tuple[float, ...] | None = None   # None: categorical (or a flag)
    slice: str | None = None
    unit: str = ""
    scale: float = 1.0
    flag: bool = False
    absent: Any = None
    also_in: tuple[str, ...] = ()
    group: str | None = None
    tolerance: float | None = None

    @property
    def binned(self) -> bool:
        """Numeric with bins (or a flag): the card counts it per label with mean and range."""
        return self.flag or self.edges is not None

    def value(self, conditions: dict) -> tuple[bool, Any]:
        """(found, value) of the key in ``conditions``: at the top level, else in an ``also_in`` block."""
        if self.key in conditions:
            return True, conditions[self.key]
        for b in self.also_in:
            block = conditions.get(b) or {}
            if isinstance(block, dict) and self.key in block:
                return True, block[self.key]
        return False, None

    def label(self, v: Any) -> Any:
        """The bin label of one value (None: not binnable)."""
        if self.flag:
            return bool(v and v > 0)
        if self.edges is None:
            return v or None
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        return bin_label(self.scale * v if self.scale != 1.0 else v, list(self.edges), self.unit)

    def labels(self) -> list:
        """Every bin label in order (a categorical dimension has none fixed)."""
        if self.flag:
            return [False, True]
        if self.edges is None:
            return []
        e = list(self.edges)
        return [bin_label(e[0] - 1, e, self.unit)] + [bin_label(x, e, self.unit) for x in e]

    def slice_label(self, conditions: dict) -> Any:
        found, v = self.value(conditions)
        return self.label(v) if found else self.absent


def register_dimension(dim: Dimension) -> Dimension:
    if dim.key in DIMENSIONS and DIMENSIONS[dim.key] != dim:
        raise RuntimeError(f"dimension {dim.key!r} registered twice")
    if dim.edges is not None and list(dim.edges) != sorted(set(dim.edges)):
        raise RuntimeError(f"dimension {dim.key!r}: edges must increase")
    DIMENSIONS[dim.key] = dim
    return dim


# the table: slices first, in the manifest's order; then dimensions the card alone bins
register_dimension(Dimension("snr_db", (0, 5, 10, 15, 20, 30), slice="snr_bin", absent="clean", also_in=("recorder",),
                             group="noise", tolerance=2.5))
register_dimension(Dimension("rt60_s", (0.3, 0.6, 0.9), slice="rt60_bin", unit="s", absent="dry", group="room",
                             tolerance=0.1))
register_dimension(Dimension("clipped_fraction", slice="clipped", flag=True, absent=False))
register_dimension(Dimension("codec_chain", slice="codec"))
register_dimension(Dimension("loss_rate_realized", (0.5, 2, 5, 10), slice="loss_bin", unit="%", scale=100))
register_dimension(Dimension("overlap_ratio", (5, 15, 25, 35), slice="overlap_bin", unit="%", scale=100))
register_dimension(Dimension("speech_level_dbov", (-45, -40, -35, -30, -25, -20, -15, -10), unit="dBov"))
register_dimension(Dimension("drr_db", (-15, -10, -5, 0, 5, 10, 15), unit="dB"))
register_dimension(Dimension("silence_ratio", (5, 10, 20, 30, 50), unit="%", scale=100))
register_dimension(Dimension("duration", (2, 5, 10, 20, 30, 60, 90, 120), unit="s"))
