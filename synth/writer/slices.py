"""Slices: coarse labels of an item from its realized conditions, for per-slice evaluation, binned by the
table in :mod:`synth.writer.bins` (with the dimensions effects register next to themselves)."""

from __future__ import annotations

from .bins import DIMENSIONS, Dimension


def dimensions() -> list[Dimension]:
    """Every registered dimension (the effects' own included), in registration order."""
    from .. import channel  # noqa: F401  (effects register the dimensions of the conditions they record)

    return list(DIMENSIONS.values())


def group_dimension(group: str) -> Dimension | None:
    """The dimension a slice changing config group ``group`` (noise, room) moves, for ``synth target``."""
    return next((d for d in dimensions() if d.group == group), None)


def slices_for(conditions: dict) -> dict:
    """Slice labels of an item from its realized conditions. The SNR is the talker legs' noise, or else the
    recorder's (a fitted profile adds the recorded noise there): ``clean`` only when no noise was added."""
    s = {d.slice: d.slice_label(conditions) for d in dimensions() if d.slice}
    return {k: v for k, v in s.items() if v is not None}
