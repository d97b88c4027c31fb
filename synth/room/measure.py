"""Measuring an impulse response: direct-path position, RT60 (Schroeder backward integration), DRR.

These are the values synth records for the RIR actually used, so a set's reverberation labels are
measurements, not the simulator's nominal targets.
"""

from __future__ import annotations

import numpy as np


def direct_path_index(h: np.ndarray) -> int:
    """Index of the direct sound: the first peak reaching 70% of the RIR's absolute maximum."""
    a = np.abs(h)
    return int(np.argmax(a >= 0.7 * a.max()))


def energy_decay_db(h: np.ndarray, start: int = 0) -> np.ndarray:
    """Schroeder energy decay curve in dB (0 dB at ``start``), with the noise floor (estimated from the
    last 10% of the response) subtracted so measured RIRs with a noisy tail are not over-estimated."""
    e = np.square(h[start:].astype(np.float64))
    tail = e[int(len(e) * 0.9):]
    floor = float(np.median(tail)) if len(tail) > 10 else 0.0
    # only subtract the floor where it is clearly a floor (measured RIRs); simulated tails decay to ~0
    e = np.maximum(e - floor, 0.0)
    edc = np.cumsum(e[::-1])[::-1]
    return 10 * np.log10(edc / max(edc[0], 1e-30) + 1e-30)


def rt60(h: np.ndarray, sr: int) -> float:
    """RT60 in seconds from a line fit to the decay curve between -5 and -25 dB (T20 x 3), falling back
    to -5..-15 dB (T10 x 6) when the curve does not reach -25 dB. NaN if neither range is present."""
    edc = energy_decay_db(h, direct_path_index(h))
    t = np.arange(len(edc)) / sr
    for lo, hi in ((-5.0, -25.0), (-5.0, -15.0)):
        sel = (edc <= lo) & (edc >= hi)
        if np.count_nonzero(sel) >= 8 and edc.min() < hi:
            slope, _ = np.polyfit(t[sel], edc[sel], 1)
            if slope < 0:
                return float(-60.0 / slope)
    return float("nan")


def drr_db(h: np.ndarray, sr: int, window_ms: float = 2.5) -> float:
    """Direct-to-reverberant ratio (dB): energy within +-2.5 ms of the direct path against the rest after it."""
    d = direct_path_index(h)
    w = int(round(window_ms * 1e-3 * sr))
    e = np.square(h.astype(np.float64))
    direct = e[max(0, d - w): d + w + 1].sum()
    reverb = e[d + w + 1:].sum()
    return float(10 * np.log10(direct / max(reverb, 1e-30)))
