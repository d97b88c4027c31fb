"""Utterances whose word alignment is known, for measuring an aligner: recorded single words (e.g. Speech
Commands clips) with their onset and offset found by energy, concatenated with silences of known length
under a bed of recorded noise.

A word's span in its clip (:func:`word_span`): 10 ms frames every 5 ms; the threshold is 35 dB below the
loudest frame but at least 6 dB above the clip's noise floor (its 10th-percentile frame); the word is the
run of frames above it around the loudest frame, runs less than 30 ms apart joined. Weak fricatives and
decays near the floor make such a reference uncertain by a few tens of ms, which the measured error
includes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import active_speech_level, resample

HOP_S, WIN_S, GAP_JOIN_S = 0.005, 0.010, 0.030
BELOW_PEAK_DB, ABOVE_FLOOR_DB = 35.0, 6.0
MARGIN_S, FADE_S = 0.03, 0.005


@dataclass(frozen=True)
class Clip:
    """One recorded word: mono ``samples`` at ``sr`` Hz and the word's span in it (seconds)."""

    word: str
    samples: np.ndarray
    sr: int
    start: float
    end: float


@dataclass(frozen=True)
class Reference:
    """An utterance with known word times (seconds from its start): ``words`` [{word, start, end}]."""

    samples: np.ndarray
    sr: int
    words: list[dict]

    @property
    def text(self) -> str:
        return " ".join(w["word"] for w in self.words)


def word_span(x: np.ndarray, sr: int) -> tuple[float, float]:
    """(onset, offset) in seconds of the one word in ``x`` (see the module docstring)."""
    hop, win = int(round(HOP_S * sr)), int(round(WIN_S * sr))
    n = max(1, (len(x) - win) // hop + 1)
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(x, dtype=np.float64), win)[::hop][:n]
    e = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    peak = int(np.argmax(e))
    thr = max(e[peak] - BELOW_PEAK_DB, np.percentile(e, 10) + ABOVE_FLOOR_DB)
    above = e > thr
    join = int(round(GAP_JOIN_S / HOP_S))
    a = b = peak
    while True:  # extend over frames above the threshold and across dips shorter than GAP_JOIN_S
        left = [i for i in range(max(0, a - join - 1), a) if above[i]]
        right = [i for i in range(b + 1, min(n, b + join + 2)) if above[i]]
        if not left and not right:
            break
        a = min(left) if left else a
        b = max(right) if right else b
    onset = a * HOP_S + (WIN_S - HOP_S) / 2
    offset = min(b * HOP_S + (WIN_S + HOP_S) / 2, len(x) / sr)
    return float(onset), float(offset)


def clip(word: str, x: np.ndarray, sr: int) -> Clip:
    s, e = word_span(x, sr)
    return Clip(word, np.asarray(x, dtype=np.float32), sr, s, e)


def concatenate(clips: list[Clip], gaps_s: list[float], noise: np.ndarray | None = None,
                snr_db: float = 30.0, sr: int = 16000) -> Reference:
    """``clips`` cut to their word plus ``MARGIN_S`` (faded over ``FADE_S`` at the cuts, outside the word)
    and laid out after ``gaps_s[i]`` of silence each (``len(gaps_s) == len(clips) + 1``: the last is the
    trailing silence), at ``sr`` Hz; ``noise`` (recorded, at ``sr``, looped if short) is added under the
    whole utterance at ``snr_db`` below the speech's P.56 active level."""
    if len(gaps_s) != len(clips) + 1:
        raise ValueError("need one gap before each clip and one after the last")
    parts, words, t = [], [], 0
    for c, gap in zip(clips, gaps_s):
        x = resample(c.samples, c.sr, sr)
        a = max(0, int(round((c.start - MARGIN_S) * sr)))
        b = min(len(x), int(round((c.end + MARGIN_S) * sr)))
        seg = x[a:b].copy()
        f = min(int(FADE_S * sr), len(seg) // 2)
        if f:
            ramp = np.sin(np.linspace(0, np.pi / 2, f, dtype=np.float32)) ** 2
            seg[:f] *= ramp
            seg[-f:] *= ramp[::-1]
        g = int(round(gap * sr))
        parts += [np.zeros(g, np.float32), seg]
        t += g
        words.append({"word": c.word, "start": round((t + c.start * sr - a) / sr, 4),
                      "end": round((t + min(c.end * sr, b) - a) / sr, 4)})
        t += len(seg)
    parts.append(np.zeros(int(round(gaps_s[-1] * sr)), np.float32))
    y = np.concatenate(parts)
    if noise is not None:
        level = active_speech_level(y, sr).level_dbov
        n = np.resize(np.asarray(noise, dtype=np.float32), len(y))
        p = 10 * np.log10(np.mean(n.astype(np.float64) ** 2) + 1e-20)
        y = y + n * np.float32(10 ** ((level - snr_db - p) / 20))
    return Reference(y.astype(np.float32), sr, words)


def boundary_errors(ref: list[dict], hyp: list[dict]) -> list[float]:
    """Signed errors (hyp - ref, seconds) of every word start and end; the word lists must match."""
    if [w["word"].lower() for w in ref] != [w["word"].lower() for w in hyp]:
        raise ValueError("the aligned words differ from the reference words")
    out = []
    for r, h in zip(ref, hyp):
        out += [h["start"] - r["start"], h["end"] - r["end"]]
    return out


def speech_commands_set(corpus: str | Path, n: int, seed: int = 0, snr_db: float = 30.0,
                        telephone: bool = False) -> list[Reference]:
    """``n`` utterances of 2-6 Speech Commands words from ``corpus``/speech (one clip per word, drawn with
    repeats) with pauses of 0.05-0.8 s between them and 0.2-0.6 s at the ends, over recorded noise from
    ``corpus``/noise (a Speech Commands background file, random offset) at ``snr_db``. ``telephone``:
    then sent as 8 kHz G.711 mu-law (libsndfile's codec), as a phone line would carry it."""
    import io

    import soundfile as sf

    corpus = Path(corpus)
    clips = []
    for p in sorted(corpus.glob("speech/speech_commands_*/*.wav")):
        x, sr = sf.read(str(p), dtype="float32")
        clips.append(clip(p.name.split("_")[0], x, sr))
    noises = [sf.read(str(p), dtype="float32") for p in sorted(corpus.glob("noise/speech_commands_*.wav"))]
    if not clips or not noises:
        raise FileNotFoundError(f"no Speech Commands clips or background noise under {corpus}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(2, 7))
        picks = [clips[i] for i in rng.integers(0, len(clips), k)]
        gaps = [float(rng.uniform(0.2, 0.6))] + [float(g) for g in rng.uniform(0.05, 0.8, k - 1)] + \
               [float(rng.uniform(0.2, 0.6))]
        noise, nsr = noises[int(rng.integers(0, len(noises)))]
        noise = resample(noise, nsr, 16000)
        off = int(rng.integers(0, len(noise) // 2))
        ref = concatenate(picks, gaps, noise[off:], snr_db)
        if telephone:
            buf = io.BytesIO()
            sf.write(buf, resample(ref.samples, ref.sr, 8000), 8000, format="WAV", subtype="ULAW")
            buf.seek(0)
            ref = Reference(sf.read(buf, dtype="float32")[0], 8000, ref.words)
        out.append(ref)
    return out
