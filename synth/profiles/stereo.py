"""Two-channel call recordings, one party per channel as call centers record calls: leg names, the
channels, and each channel's speech from an RTTM (the speaker loudest on that channel).

Channel 0 (left) is leg 0, by default the ``customer`` (caller), channel 1 (right) leg 1, the ``agent``
(``synth fit --legs a,b`` names them). The per-leg fit itself (estimates per channel, a noise bank folder
per leg, turns between the channels) is in synth.profiles.fit, which reads calls through this module.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

from ..audio import load
from ..errors import BadInput

DEFAULT_LEGS = ("customer", "agent")   # channel 0 (left): the caller; channel 1 (right): the agent
CALL_KEYS = ("duration_s", "sample_rate", "reverb", "rt60_s")   # per call, not per leg


def parse_legs(spec: str | None) -> tuple[str, str] | None:
    """``--legs customer,agent``: two distinct names (letters, digits, ``_``, ``-``), channel 0 first."""
    if spec is None:
        return None
    names = tuple(n.strip() for n in str(spec).split(","))
    if len(names) != 2 or len(set(names)) != 2 or not all(re.fullmatch(r"[A-Za-z0-9_-]+", n) for n in names):
        raise BadInput("--legs", f"{spec!r} is not two distinct leg names",
                       "give the channel 0 and channel 1 parties, e.g. --legs customer,agent")
    return names


def channels_of(path: Path) -> int | None:
    try:
        return int(sf.info(str(path)).channels)
    except Exception:  # unreadable: analysing it reports it (or skips it)
        return None


def call_legs(recs: Sequence, legs: tuple[str, str] | None = None, downmix: bool = False
              ) -> tuple[tuple[str, str] | None, str | None]:
    """The leg names when every (readable) recording is a two-channel call, else None; and a one-line note
    when a folder mixes two-channel and other recordings (fitted downmixed, as before). ``legs`` given on a
    folder that is not all two-channel is an error naming the first such recording."""
    if downmix:
        return None, None
    counts = [(r, channels_of(r.path)) for r in recs]
    known = [(r, c) for r, c in counts if c is not None]
    other = [(r, c) for r, c in known if c != 2]
    if known and not other:
        return (legs or DEFAULT_LEGS), None
    if legs is not None:
        r, c = other[0] if other else (recs[0], None)
        raise BadInput(r.path, f"has {c} channel(s): --legs fits two-channel calls (one party per channel)",
                       "fit the two-channel calls in a folder of their own, or leave out --legs")
    n2 = sum(c == 2 for _, c in known)
    if n2:
        return None, (f"{n2} of {len(known)} recordings have two channels and the others do not: every recording "
                      "was downmixed to mono; fit the two-channel calls in a folder of their own to fit each "
                      "channel as its own leg")
    return None, None


def read_channels(path: Path) -> tuple[list[np.ndarray], int, list[np.ndarray | None]]:
    """Each channel as float32 at the file's own rate, and its PCM16 samples when the file is 8 kHz PCM16."""
    try:
        info = sf.info(str(path))
    except Exception as e:
        raise BadInput(path, f"cannot be read as audio ({str(e).splitlines()[0]})") from None
    chans = [load(path, info.samplerate, channel=c, min_duration_s=0.5) for c in range(info.channels)]
    raws: list = [None] * len(chans)
    if info.subtype == "PCM_16" and info.samplerate == 8000:
        data = sf.read(str(path), dtype="int16", always_2d=True)[0]
        raws = [data[:, c] for c in range(len(chans))]
    return chans, info.samplerate, raws


def rttm_channel_segments(rttm: Path, uri: str, chans: list[np.ndarray], sr: int) -> list[list[tuple[float, float]]]:
    """Each channel's speech segments from an RTTM: every speaker goes to the channel that rises most while
    they speak (mean power inside their segments re outside them, dB): a call recorder puts one party per
    channel, and RTTM channel fields are often all 1. (Plain energy would not do: a quiet agent can be
    softer than the noise on a loud customer line.)"""
    from ..scene.fit_turns import read_rttm

    convs = read_rttm(rttm)
    segs = convs.get(uri) or [s for v in convs.values() for s in v]
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for spk, a, b in segs:
        by_speaker.setdefault(spk, []).append((a, b))
    out: list[list[tuple[float, float]]] = [[] for _ in chans]
    for spans in by_speaker.values():
        rise = []
        for x in chans:
            inside = np.zeros(len(x), bool)
            for a, b in spans:
                inside[int(a * sr): int(b * sr)] = True
            p_in = float(np.mean(np.square(x[inside], dtype=np.float64))) if inside.any() else 0.0
            p_out = float(np.mean(np.square(x[~inside], dtype=np.float64))) if (~inside).any() else 0.0
            rise.append(10 * np.log10((p_in + 1e-12) / (p_out + 1e-12)))
        out[int(np.argmax(rise))] += spans
    return [sorted(o) for o in out]
