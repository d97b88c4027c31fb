"""Two-channel call recordings fitted per leg: one party per channel, as call centers record calls.

A folder whose every recording has two channels is fitted leg by leg (``synth fit``): channel 0 (left) is
leg 0, by default the ``customer`` (caller), channel 1 (right) leg 1, the ``agent`` (``--legs a,b`` names
them). Each channel is measured on its own by the same estimators as a mono recording (level, noise, SNR,
band edge, codec evidence, clipping), with that party's speech activity: the channel's VAD, or the RTTM's
segments of the speaker who is loudest on that channel. Each channel's non-speech stretches go to its own
noise bank folder (``noise_bank/<leg>/``). Turn-taking comes from the RTTMs, else from the two channels'
VADs: a channel's speech segments are its party's turns, so gaps, overlaps and backchannels are measured
between the channels. A folder mixing one- and two-channel recordings is fitted as before (each recording
downmixed to mono), with a warning; ``--downmix`` asks for that on a stereo folder too.

The profile's ``fitted:`` block then holds ``layout: stereo``, one block per leg under ``legs`` (the keys a
mono fit writes for its recordings, measured on that channel) and the call-level keys (durations, sample
rate, rooms pooled over both parties, the noise bank, turns, ``scenario: conversation``); see
synth.profiles.apply for the build it gives.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

from ..audio import load
from ..errors import BadInput
from .estimate import estimate_recording
from .vad import detect_speech, mask_to_segments

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


def analyse_call(path: Path, rel: str, legs: Sequence[str], noise_bank: Path | None, rttm: Path | None = None,
                 reference: list[list[tuple[float, float]]] | None = None
                 ) -> tuple[list[dict], list[dict], list[tuple[list, list, list]]]:
    """Estimates per channel of one two-channel call: (one row per leg, noise bank lines (``audio_filepath``
    relative to ``noise_bank``: ``<leg>/<file>``), per leg (speech segment durations, pause durations, speech
    segments (start_s, end_s))). The speech activity of channel c: ``reference[c]`` (segments, e.g. a built
    item's labels), else the RTTM's (``rttm_channel_segments``), else the channel's VAD."""
    from .fit import harvest_noise, noise_stretches, rttm_vad, unmeasured, vad_timing

    chans, sr, raws = read_channels(path)
    dur = len(chans[0]) / sr
    ref = reference if reference is not None else \
        rttm_channel_segments(rttm, path.stem, chans, sr) if rttm is not None else None
    rows, lines, timings = [], [], []
    for c, (name, x, raw) in enumerate(zip(legs, chans, raws)):
        v = rttm_vad(ref[c], dur) if ref is not None else detect_speech(x, sr)
        row = {"file": rel, "leg": name, "channel": c, **estimate_recording(x, sr, vad=v, raw_pcm16=raw)}
        row["left_out"] = unmeasured(row)
        got, refused = [], []
        if noise_bank is not None:
            (noise_bank / name).mkdir(parents=True, exist_ok=True)
            got, refused = harvest_noise(x, sr, noise_stretches(v.probs, v.frame_s, dur), rel, noise_bank / name)
        lines += [{**ln, "audio_filepath": f"{name}/{ln['audio_filepath']}", "leg": name} for ln in got]
        row["noise_bank_s"] = float(sum(ln["duration"] for ln in got))
        if refused:
            row["noise_refused"] = [{**x, "source": f"{x['source']} ({name})"} for x in refused]
        sp, pa = vad_timing(v.probs, v.frame_s)
        segs = ref[c] if ref is not None else mask_to_segments(v.probs >= 0.5, v.frame_s, 0.1, 0.2)
        rows.append(row)
        timings.append((sp, pa, [(float(a), float(b)) for a, b in segs]))
    return rows, lines, timings


def vad_turns(rows: list[dict], timings: list) -> dict | None:
    """Turn-taking of two-channel calls from the channels' speech activity: each channel's speech segments
    are its party's turns (synth.scene.fit_turns on them, as on an RTTM). None without any speech."""
    from ..scene.fit_turns import fit_conversations

    convs: dict[str, list] = {}
    for r, t in zip(rows, timings):
        convs.setdefault(r["file"], []).extend((r["leg"], a, b) for a, b in t[2])
    convs_l = [(f, sorted(segs, key=lambda s: (s[1], s[0]))) for f, segs in convs.items() if segs]
    if not convs_l:
        return None
    block = fit_conversations(convs_l, [f"{f} (per-channel VAD)" for f, _ in convs_l])
    block["fitted"]["method"] += "; turns from the per-channel VAD (one party per channel)"
    return block


def stereo_profile_dict(rows: list[dict], folder: Path, bank: Path | None, rttms: list[Path], timings: list,
                        legs: Sequence[str]) -> dict:
    """The ``fitted:`` block of two-channel calls (module docstring): each leg's rows fitted as a mono fit
    fits its recordings (synth.profiles.fit.profile_dict), the call-level keys from all calls, turn-taking
    from the RTTMs or the channels' VADs. What was left out or clamped is noted per leg (``legs.<leg>.<key>``)."""
    from .fit import FitNotes, _fit_feature, fit_choice, fit_room, fit_turn_stats, profile_dict, unmeasured

    for r in rows:
        r.setdefault("left_out", unmeasured(r))
    notes = FitNotes()
    per_leg, refused = [], []
    for c, name in enumerate(legs):
        pairs = [(r, t) for r, t in zip(rows, timings) if r.get("leg") == name]
        p = profile_dict([r for r, _ in pairs], folder, None if bank is None else bank / name, [],
                         [d for _, t in pairs for d in t[0]], [d for _, t in pairs for d in t[1]])
        per_leg.append({"name": name, "channel": c, **{k: v for k, v in p["fitted"].items() if k not in CALL_KEYS}})
        for kind in ("left_out", "clamped"):
            for key, v in p["notes"][kind].items():
                if key not in CALL_KEYS and key != "reverb.rt60_s":   # call-level keys are fitted below
                    getattr(notes, kind)[f"legs.{name}.{key}"] = v
        refused += p.get("noise_refused", [])
    first = [r for r in rows if r.get("leg") == legs[0]]
    fitted: dict = {"layout": "stereo", "legs": per_leg}
    fitted["duration_s"] = _fit_feature("duration_s", [r["duration_s"] for r in first], "conversation", notes)
    fitted["sample_rate"] = fit_choice([int(r["sample_rate"]) for r in first])
    # each party's room: one distribution for the talkers of both legs (a build's room is per talker)
    fitted["reverb"], fitted["rt60_s"] = fit_room([{**r, "file": f"{r['file']} ({r['leg']})"} for r in rows],
                                                  "conversation", notes)
    fitted["noise_bank"] = str(bank) if bank is not None else None
    fitted["noise_bank_s"] = round(sum(float(r.get("noise_bank_s", 0.0)) for r in rows), 1)
    turns = fit_turn_stats(rttms) if rttms else vad_turns(rows, timings)
    if turns is not None:
        fitted["turns"] = turns
    fitted["scenario"] = "conversation"   # two parties, one per leg (whatever the RTTMs' speaker count)
    out = {"n_recordings": len(first), "folder": str(folder), "fitted": fitted, "notes": notes.to_dict()}
    if refused:
        out["noise_refused"] = refused
    return out
