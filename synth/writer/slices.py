"""Slices: coarse labels derived from an item's realized conditions, for per-slice evaluation."""

from __future__ import annotations

import math


def bin_label(x: float | None, edges: list[float], unit: str = "") -> str | None:
    """``10-15`` style label of the bin holding ``x`` (``<0`` / ``>=30`` at the ends)."""
    if x is None or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    if x < edges[0]:
        return f"<{edges[0]:g}{unit}"
    for lo, hi in zip(edges, edges[1:]):
        if x < hi:
            return f"{lo:g}-{hi:g}{unit}"
    return f">={edges[-1]:g}{unit}"


def slices_for(conditions: dict) -> dict:
    """Slice labels of an item from its realized conditions. The SNR is the talker legs' noise, or else the
    recorder's (a fitted profile adds the recorded noise there): ``clean`` only when no noise was added."""
    s = {}
    recorder = conditions.get("recorder") or {}
    if "snr_db" in conditions:
        s["snr_bin"] = bin_label(conditions.get("snr_db"), [0, 5, 10, 15, 20, 30])
    elif "snr_db" in recorder:
        s["snr_bin"] = bin_label(recorder.get("snr_db"), [0, 5, 10, 15, 20, 30])
    else:
        s["snr_bin"] = "clean"
    rt60 = conditions.get("rt60_s")
    s["rt60_bin"] = bin_label(rt60, [0.3, 0.6, 0.9], "s") if rt60 is not None else "dry"
    s["clipped"] = bool(conditions.get("clipped_fraction", 0) and conditions["clipped_fraction"] > 0)
    if conditions.get("codec_chain"):
        s["codec"] = conditions["codec_chain"]
    if "loss_rate_realized" in conditions:
        s["loss_bin"] = bin_label(100 * conditions["loss_rate_realized"], [0.5, 2, 5, 10], "%")
    if "overlap_ratio" in conditions:
        s["overlap_bin"] = bin_label(100 * conditions["overlap_ratio"], [5, 15, 25, 35], "%")
    return {k: v for k, v in s.items() if v is not None}
