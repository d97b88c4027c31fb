"""Filter design shared by the device and band-limit effects: Butterworth band edges and RBJ-cookbook
biquads (peaking, shelves), applied zero-phase so no effect shifts the audio in time.

Zero-phase filtering (forward-backward, ``sosfiltfilt``) squares the magnitude response. Designs here
take that into account: EQ biquads are designed with half the requested dB gain, and Butterworth
cutoffs are moved so the *effective* (forward-backward) response is -3 dB at the requested edge.
The orders given are the effective orders (twice the designed order).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

EQ_KINDS = ("peaking", "low_shelf", "high_shelf")


def biquad_sos(kind: str, f_hz: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """One RBJ Audio-EQ-Cookbook biquad as an SOS row (b0 b1 b2 a0 a1 a2), a0 normalised to 1."""
    a_lin = 10.0 ** (gain_db / 40.0)
    w0 = 2 * np.pi * f_hz / sr
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / (2 * q)
    if kind == "peaking":
        b = [1 + alpha * a_lin, -2 * cw, 1 - alpha * a_lin]
        a = [1 + alpha / a_lin, -2 * cw, 1 - alpha / a_lin]
    elif kind in ("low_shelf", "high_shelf"):
        sq = 2 * np.sqrt(a_lin) * alpha
        s = 1 if kind == "low_shelf" else -1
        b = [a_lin * ((a_lin + 1) - s * (a_lin - 1) * cw + sq),
             s * 2 * a_lin * ((a_lin - 1) - s * (a_lin + 1) * cw),
             a_lin * ((a_lin + 1) - s * (a_lin - 1) * cw - sq)]
        a = [(a_lin + 1) + s * (a_lin - 1) * cw + sq,
             -s * 2 * ((a_lin - 1) + s * (a_lin + 1) * cw),
             (a_lin + 1) + s * (a_lin - 1) * cw - sq]
    else:
        raise ValueError(f"unknown EQ kind {kind!r}; allowed: {', '.join(EQ_KINDS)}")
    return np.array([*(np.array(b) / a[0]), 1.0, a[1] / a[0], a[2] / a[0]])


def butter_edge_sos(kind: str, edge_hz: float, order_eff: int, sr: int) -> np.ndarray:
    """Butterworth high/low-pass whose forward-backward response has effective order ``order_eff``
    (even) and is -3 dB at ``edge_hz``. Empty (no filtering) when the design cutoff is not below
    0.49 x ``sr`` (the signal is already band limited there)."""
    n = max(1, order_eff // 2)
    if edge_hz >= 0.49 * sr:
        return np.zeros((0, 6))
    # A digital Butterworth (bilinear transform) has |H|^2 = 1/(1+(W/Wc)^2n) with W = tan(pi f / sr).
    # Forward-backward squares it; solve |H|^2 = 1/sqrt(2) at the edge for the design cutoff Wc.
    k = (np.sqrt(2.0) - 1.0) ** (1.0 / (2 * n))
    w = np.tan(np.pi * edge_hz / sr)
    wc = w / k if kind == "lowpass" else w * k
    fc = float(np.arctan(wc) * sr / np.pi)
    if fc >= 0.49 * sr:
        return np.zeros((0, 6))
    return butter(n, fc, btype="lowpass" if kind == "lowpass" else "highpass", fs=sr, output="sos")


def eq_sos(eq: tuple, sr: int) -> np.ndarray:
    """SOS for a tuple of (kind, f_hz, gain_db, q) bands, each designed for half its gain (zero-phase)."""
    rows = [biquad_sos(k, f, g / 2.0, q, sr) for k, f, g, q in eq if f < 0.49 * sr]
    return np.array(rows) if rows else np.zeros((0, 6))


def zero_phase(x: np.ndarray, sos: np.ndarray) -> np.ndarray:
    """Forward-backward SOS filtering (no delay); returns float64."""
    x = np.asarray(x, dtype=np.float64)
    if len(sos) == 0 or len(x) == 0:
        return x
    padlen = min(len(x) - 1, 3 * (2 * len(sos) + 1))
    return sosfiltfilt(sos, x, padlen=max(padlen, 0))


def response_db(sos: np.ndarray, freqs_hz: np.ndarray, sr: int) -> np.ndarray:
    """Effective (forward-backward) magnitude response in dB at ``freqs_hz``."""
    from scipy.signal import sosfreqz
    if len(sos) == 0:
        return np.zeros(len(freqs_hz))
    _, h = sosfreqz(sos, worN=np.asarray(freqs_hz, dtype=float), fs=sr)
    return 20 * np.log10(np.abs(h) ** 2 + 1e-300)
