"""``synth fit``: a production profile fitted from a folder of real recordings.

For each recording the estimators in estimate.py measure speech level, noise level and shape, SNR,
bandwidth, codec family, clipping, DC and reverberation; the per-recording values are aggregated into
the distributions synth samples from (synth.dist syntax), written as a profile YAML with a ``fitted:``
block. Non-speech stretches of the recordings are exported as a noise bank, so a build can add
"recorded background noise matched to production" literally. Turn-taking comes from RTTMs when given
(synth.scene.fit_turns), otherwise speech/pause statistics from the VAD.

Audio stays where it is: nothing is uploaded, and the noise bank is written next to the profile.

Outputs of ``synth fit <folder> --out profile.yaml``:

    profile.yaml              the fitted block (see ``profile_dict``), usable as profile=<file>
    profile.fit.md            report: per-recording table, fitted distributions, methods and caveats
    profile.fit.json          per-recording estimates (all scalars)
    profile_plots/*.png       one histogram per feature
    noise_bank/*.flac + manifest.jsonl   each recording's noise frames (>= 64 ms from speech) joined into tracks

The input is a folder of recordings or a NeMo manifest (``audio_filepath`` relative to the manifest, any
other keys kept as metadata). ``--by <key>`` fits one profile per value of a metadata key and writes a
mixture profile over them (see ``write_mixture`` and synth.profiles.mixture).

Every fitted distribution lies inside the range the build accepts (synth.profiles.limits reads it from
the effects' own validation); what had to be clamped is listed in the report. A recording where a
feature cannot be measured (no active speech, speech no louder than the noise, no noise-only stretch,
digital silence between the words, too few decays for RT60) is left out of that feature and listed.
Durations are fitted as quantile bins of the recordings' lengths. The noise bank never holds a stretch
the noise pool would refuse as digital silence.

A folder of two-channel calls (one party per channel) is fitted per leg (``analyse_call``, ``stereo_profile_dict``).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

from ..audio import atomic_write_bytes, atomic_write_text, encode_audio, load, power_db
from ..errors import BadInput, ConfigError
from ..sources.checks import MIN_NOISE_DBOV, MIN_SPEECH_DBOV, MIN_SPEECH_S, digital_silence
from . import limits
from .apply import scenario_of
from .codec_chain import fit_codec_chain
from .estimate import OCTAVES_HZ, _erode, estimate_recording
from .stereo import CALL_KEYS, call_legs, parse_legs, read_channels, rttm_channel_segments
from ..writer.rttm import speech_segments
from .vad import FRAME_S, VadResult, _runs, detect_speech, mask_to_segments

AUDIO_EXTS = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aif", ".aiff", ".au", ".sph", ".w64", ".caf"}

# Distribution fitting per feature: (row key, histogram bin width (None: quantile bins), minimum SD for the
# normal form, plausible range). A feature that feeds a build setting is clamped to that setting's range
# instead (limits.build_range). Fewer than MIN_FOR_HISTOGRAM recordings -> {normal: [mean, sd], clip: [...]}.
FEATURES = {
    "level_dbov": ("speech_level_dbov", 2.0, 1.0, (-70.0, 0.0)),
    "snr_db": ("snr_db", 2.5, 1.5, (-10.0, 60.0)),
    "noise_level_dbov": ("noise_level_dbov", 3.0, 1.5, (-120.0, 0.0)),
    "noise_sd_db": ("noise_sd_db", 0.5, 0.3, (0.0, 30.0)),
    "noise_tilt_db_per_oct": ("noise_tilt_db_per_oct", 1.0, 0.5, (-30.0, 30.0)),
    "effective_bandwidth_hz": ("effective_bandwidth_hz", 500.0, 100.0, (0.0, 48000.0)),
    "rt60_s": ("rt60_s", 0.05, 0.03, (0.0, 3.0)),
    "dc_offset": ("dc_offset", 0.002, 0.0005, (-1.0, 1.0)),
    "low_band_rel_db": ("low_band_rel_db", 3.0, 2.0, (-80.0, 40.0)),
    "duration_s": ("duration_s", None, 1.0, (0.5, 3600.0)),
}
MIN_FOR_HISTOGRAM = 20
DRY_RT60_S = 0.25          # blind RT60 of dry close-talk speech reads ~0.15-0.25 s: at or below = no room
# ... but not always: through a telephone channel (narrowband, G.711, real noise at 10-50 dB SNR) dry speech
# (the corpus's speech, no room) reads above DRY_RT60_S on 42% of items (59 of the 139 with a reading among
# 3 x 60 items built with room=none from fits of the three device halves of ../shared/corpus/telephone). The
# room share fitted is the excess over that (see profile_dict).
DRY_ABOVE_SHARE = 0.42
# noise bank: tracks of >= NOISE_MIN_S s joined from stretches of >= NOISE_PIECE_S s of the estimators' noise
# frames (NOISE_MARGIN_S from possible speech: estimate.speech_noise_masks), crossfaded over NOISE_JOIN_S
NOISE_MIN_S, NOISE_PIECE_S, NOISE_MARGIN_S, NOISE_MAX_S, NOISE_JOIN_S = 1.0, 0.1, 0.064, 30.0, 0.01
MAX_QUANTILE_BINS = 20     # duration histogram: equal-count bins, about 5 recordings each, at most this many
# what each kind of unmeasurable recording is left out of (fitted keys)
SPEECH_KEYS = ("level_dbov", "snr_db", "effective_bandwidth_hz", "bandwidth", "low_band_rel_db", "rt60_s")
NOISE_KEYS = ("noise_level_dbov", "snr_db", "noise_sd_db", "noise_tilt_db_per_oct", "noise_shape_db")


def find_audio(folder: Path, exclude: Sequence[Path] = ()) -> list[Path]:
    """Audio files under ``folder``, except those under ``exclude`` (what fit itself writes: the noise bank
    and the plots folder, which may sit inside ``folder`` on a rerun)."""
    skip = {Path(os.path.abspath(e)) for e in exclude} | {Path(e).resolve() for e in exclude}
    files = []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in AUDIO_EXTS and p.is_file():
            if skip & set(Path(os.path.abspath(p)).parents):  # where it sits, even if it is a link
                continue
            files.append(p)
    return files


@dataclass(frozen=True)
class Recording:
    """One real recording to fit: its file, the name the report uses, and its metadata (manifest keys)."""

    path: Path
    rel: str
    meta: dict = field(default_factory=dict)


MANIFEST_KEYS = ("audio_filepath", "text", "duration", "offset", "words", "segments")  # not metadata


def read_manifest_recordings(path: Path, on_bad_input: str = "error") -> tuple[list[Recording], list[dict]]:
    """Recordings of a NeMo manifest (``audio_filepath`` absolute or relative to the manifest's folder);
    every other key but the transcript is metadata (``device``, ``gender``, ...). Returns (recordings,
    skipped); a missing file is a BadInput naming the line, or with ``skip`` a listed skip."""
    from ..sources.schema import read_rows

    recs, skipped = [], []

    def bad(e: BadInput) -> None:
        if on_bad_input != "skip":
            raise e
        skipped.append({"file": str(e).split(":")[0], "reason": str(e)})

    for where, row in read_rows(path, bad):
        audio = row.get("audio_filepath")
        if not isinstance(audio, str) or not audio:
            bad(BadInput(where, "has no audio_filepath", "give a NeMo manifest: one JSON object per line with "
                         "audio_filepath (and any metadata keys)"))
            continue
        p = Path(audio) if Path(audio).is_absolute() else path.parent / audio
        if not p.is_file():
            bad(BadInput(where, f"audio_filepath {audio} does not exist", "fix the path (relative to the manifest)"))
            continue
        meta = {k: v for k, v in row.items() if k not in MANIFEST_KEYS and isinstance(v, (str, int, float, bool))}
        recs.append(Recording(p, audio, meta))
    return recs, skipped


def find_recordings(source, exclude: Sequence[Path] = (), on_bad_input: str = "error"
                    ) -> tuple[list[Recording], list[dict]]:
    """The recordings of a folder (every audio file under it) or of a NeMo manifest (.jsonl/.json)."""
    src = Path(source)
    if src.is_file() and src.suffix.lower() in (".jsonl", ".json"):
        recs, skipped = read_manifest_recordings(src, on_bad_input)
        if not recs and not skipped:
            raise BadInput(src, "lists no recordings", "give a NeMo manifest with one audio_filepath per line")
        return recs, skipped
    if not src.is_dir():
        raise BadInput(src, "is not a folder or a NeMo manifest (.jsonl)",
                       "pass a folder of recordings (wav, flac, ...) or a manifest.jsonl listing them")
    files = find_audio(src, exclude=exclude)
    if not files:
        raise BadInput(src, f"contains no audio files ({', '.join(sorted(AUDIO_EXTS))})",
                       "point synth fit at a folder of recordings")
    return [Recording(p, p.relative_to(src).as_posix()) for p in files], []


def read_recording(path: Path) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Mono float32 at the file's own rate, and its raw PCM16 samples when it is 16-bit PCM or G.711 (libsndfile
    decodes mu-law/A-law to the 16-bit values of the companding grid)."""
    try:
        info = sf.info(str(path))
    except Exception as e:
        raise BadInput(path, f"cannot be read as audio ({str(e).splitlines()[0]})") from None
    x = load(path, info.samplerate, min_duration_s=0.5)
    raw = None
    if info.subtype in ("PCM_16", "ULAW", "ALAW") and info.samplerate == 8000:
        raw = sf.read(str(path), dtype="int16", always_2d=True)[0][:, 0]
    return x, info.samplerate, raw


# --------------------------------------------------------------------------------------------------
# distributions

def fit_dist(values, bin_width: float | None, min_sd: float, lo: float, hi: float) -> dict | None:
    """A synth.dist config value for measured ``values`` within [lo, hi]: a histogram with ``bin_width``
    bins when there are enough recordings (``bin_width=None``: equal-count bins at the values' quantiles,
    any number of recordings), else a clipped normal (SD floored at ``min_sd`` so a small sample does not
    collapse to a constant). Values outside [lo, hi] count at the nearer bound (the caller reports them:
    see ``limits.clamp_values``). None without finite values."""
    v = limits.finite(values)
    if v.size == 0:
        return None
    v = np.clip(v, lo, hi)
    if bin_width is None:
        return quantile_histogram(v)
    if v.size >= MIN_FOR_HISTOGRAM:
        a = math.floor(v.min() / bin_width) * bin_width
        b = (math.floor(v.max() / bin_width) + 1) * bin_width
        edges = np.arange(a, b + bin_width / 2, bin_width)
        counts, edges = np.histogram(v, bins=edges)
        spec = {"histogram": {"edges": [_r(e) for e in edges], "counts": [int(c) for c in counts]}}
        return limits.clamp_spec(spec, lo, hi)[0]
    sd = max(float(v.std(ddof=1)) if v.size > 1 else 0.0, min_sd)
    clip = [max(lo, float(v.min()) - 2 * sd), min(hi, float(v.max()) + 2 * sd)]
    return {"normal": [_r(float(v.mean())), _r(sd)], "clip": [_r(clip[0]), _r(clip[1])]}


def quantile_histogram(v: np.ndarray) -> dict:
    """Equal-count bins between the quantiles of ``v`` (about 5 values per bin, at most
    ``MAX_QUANTILE_BINS``), edges on a 1 ms grid that still holds every value: the fitted lengths follow
    the recordings' own distribution, whatever their range. All values equal: that constant."""
    lo, hi = math.floor(float(v.min()) * 1000) / 1000, math.ceil(float(v.max()) * 1000) / 1000
    if hi - lo < 1e-3:
        return {"normal": [_r(float(v.mean())), 0.0], "clip": [_r(float(v.min())), _r(float(v.max()))]}
    k = int(min(MAX_QUANTILE_BINS, max(1, v.size // 5)))
    inner = np.round(np.quantile(v, np.linspace(0, 1, k + 1)[1:-1]), 3)
    edges = np.unique(np.concatenate([[lo], inner, [hi]]))
    counts, _ = np.histogram(v, bins=edges)
    return {"histogram": {"edges": [_r(e, 3) for e in edges], "counts": [int(c) for c in counts]}}


def _med(values) -> float | None:
    v = [float(x) for x in values if x is not None and np.isfinite(x)]
    return float(np.median(v)) if v else None


def _r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


def fit_choice(values, order: list | None = None) -> dict | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    keys = order if order is not None else sorted(set(vals), key=lambda k: (-vals.count(k), str(k)))
    return {"choice": list(keys), "weights": [_r(vals.count(k) / len(vals), 3) for k in keys]}


# --------------------------------------------------------------------------------------------------
# noise harvesting and VAD-only timing

def noise_stretches(probs: np.ndarray, frame_s: float, duration_s: float) -> list[tuple[float, float]]:
    """The recording's background as the estimators measure it: runs (>= ``NOISE_PIECE_S``) of the frames
    ``estimate.speech_noise_masks`` calls noise (VAD probability < 0.3, >= 64 ms from any frame that may be
    speech), so the breaths, clicks and level changes between the pauses that make up the measured noise
    level, spread and tilt are in the bank too (``harvest_noise`` joins them into tracks)."""
    maybe = np.asarray(probs) >= 0.3
    noise = _erode(~maybe, int(round(NOISE_MARGIN_S / frame_s)))
    out = []
    for a, b in _runs(noise):
        s, e = a * frame_s, min(b * frame_s, duration_s)
        if e - s >= NOISE_PIECE_S:
            out.append((s, e))
    return out


def noise_tracks(stretches) -> list[list[tuple[float, float]]]:
    """Consecutive stretches grouped into tracks of at most ``NOISE_MAX_S`` (a longer stretch is cut)."""
    tracks, cur, total = [], [], 0.0
    for s, e in stretches:
        while e - s > 0:
            take = min(e - s, NOISE_MAX_S - total)
            cur.append((s, s + take))
            total += take
            s += take
            if total >= NOISE_MAX_S - 1e-9:
                tracks.append(cur)
                cur, total = [], 0.0
    return tracks + ([cur] if cur else [])


def join_pieces(x: np.ndarray, sr: int, pieces) -> np.ndarray:
    """The pieces of ``x`` back to back, each join an equal-power crossfade of ``NOISE_JOIN_S`` (no click)."""
    out = np.zeros(0, dtype=np.float32)
    fade = int(round(NOISE_JOIN_S * sr))
    for s, e in pieces:
        seg = np.asarray(x[int(round(s * sr)): int(round(e * sr))], dtype=np.float32)
        c = min(fade, len(out) // 2, len(seg) // 2)
        if c > 0:
            t = np.linspace(0.0, np.pi / 2, c, dtype=np.float32)
            out[-c:] = out[-c:] * np.cos(t) + seg[:c] * np.sin(t)
            seg = seg[c:]
        out = np.concatenate([out, seg])
    return out


def harvest_noise(x: np.ndarray, sr: int, stretches, source: str, bank: Path) -> tuple[list[dict], list[dict]]:
    """Write the recording's noise stretches, joined into tracks (``noise_tracks``, ``join_pieces``) of at
    least ``NOISE_MIN_S``, as 16-bit FLACs into ``bank``; returns (manifest lines, refused tracks). A track
    the noise pool would refuse (digital silence once stored as 16 bit: a gated or muted line) is not
    written, so a build from the bank never meets it."""
    lines, refused = [], []
    stem = Path(source).with_suffix("").as_posix().replace("/", "__")
    for pieces in noise_tracks(stretches):
        seg = join_pieces(x, sr, pieces)
        if len(seg) < NOISE_MIN_S * sr:
            continue
        s, e = pieces[0][0], pieces[-1][1]
        name = f"{stem}__{int(round(s * 1000)):08d}.flac"
        data = encode_audio(seg, sr, "flac", {"comment": f"background noise harvested by synth fit from {source}"})
        stored = sf.read(io.BytesIO(data), dtype="float32")[0]
        silent = digital_silence(stored)
        if silent:
            refused.append({"source": source, "start_s": _r(s, 3), "end_s": _r(e, 3), "reason": silent})
            continue
        atomic_write_bytes(bank / name, data)
        lines.append({"audio_filepath": name, "duration": _r(len(seg) / sr, 3), "sample_rate": sr, "kind": "noise",
                      "source": source, "start_s": _r(s, 3), "end_s": _r(e, 3),
                      "pieces": [[_r(a, 3), _r(b, 3)] for a, b in pieces],
                      "level_dbov": _r(power_db(seg), 2)})
    return lines, refused


def vad_timing(probs: np.ndarray, frame_s: float) -> tuple[list[float], list[float]]:
    """Speech segment and pause durations (s) from the VAD: gaps < 0.2 s bridged, segments >= 0.1 s."""
    segs = mask_to_segments(probs >= 0.5, frame_s, min_speech_s=0.1, min_silence_s=0.2)
    speech = [e - s for s, e in segs]
    pauses = [b[0] - a[1] for a, b in zip(segs, segs[1:])]
    return speech, pauses


# --------------------------------------------------------------------------------------------------
# turn-taking from RTTM

def fit_turn_stats(rttm_paths: list[Path]) -> dict:
    """Turn-taking statistics from RTTMs (the conversation fitter, :mod:`synth.scene.fit_turns`)."""
    from ..scene.fit_turns import fit_turns

    return fit_turns([str(p) for p in rttm_paths])


def rttm_vad(segs: list[tuple[float, float]], duration_s: float) -> VadResult:
    """Reference speech activity from an RTTM, in the VAD's frame format (probability 1 or 0)."""
    n = max(1, int(np.ceil(duration_s / FRAME_S)))
    probs = np.zeros(n, np.float32)
    for a, b in segs:
        probs[int(a / FRAME_S): int(np.ceil(b / FRAME_S))] = 1.0
    return VadResult(probs, "rttm")


def analyse_file(path: Path, rel: str, noise_bank: Path | None, rttm: Path | None = None
                 ) -> tuple[dict, list[dict], tuple[list, list]]:
    """Estimates for one recording. With its RTTM, the reference speech segments replace the VAD (far-field
    meeting speech is often too faint for the VAD, and the RTTM is the better truth). The row's
    ``left_out`` maps each fitted key the recording cannot inform to the reason (``unmeasured``);
    ``noise_refused`` lists stretches not harvested because they are digital silence."""
    x, sr, raw = read_recording(path)
    if rttm is not None:
        v = rttm_vad(speech_segments(rttm, path.stem), len(x) / sr)
    else:
        v = detect_speech(x, sr)
    row = {"file": rel, **estimate_recording(x, sr, vad=v, raw_pcm16=raw, codec_chain=True)}
    row["left_out"] = unmeasured(row)
    lines, refused = [], []
    if noise_bank is not None:
        noise_bank.mkdir(parents=True, exist_ok=True)
        lines, refused = harvest_noise(x, sr, noise_stretches(v.probs, v.frame_s, len(x) / sr), rel, noise_bank)
    row["noise_bank_s"] = float(sum(ln["duration"] for ln in lines))
    if refused:
        row["noise_refused"] = refused
    return row, lines, vad_timing(v.probs, v.frame_s)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def unmeasured(row: dict) -> dict[str, str]:
    """The fitted keys a recording cannot inform, each with the reason (empty: every feature measured).

    * no active speech (the VAD found under ``MIN_SPEECH_S`` of speech or the P.56 level is below
      ``MIN_SPEECH_DBOV``, the speech pool's own limits): speech level, SNR, band edge, RT60;
    * speech frames no louder than the noise frames (estimate.py gives no level): speech level and SNR;
    * no noise-only stretch (no frame 64 ms away from speech), or digital silence between the words
      (noise below ``MIN_NOISE_DBOV``, the noise pool's limit): the noise features and SNR;
    * RT60 without 3 clean speech decays (too short, too noisy or too little speech).
    """
    out: dict[str, str] = {}
    speech_s, p56 = row.get("speech_s"), row.get("p56_level_dbov")
    if (speech_s is not None and speech_s < MIN_SPEECH_S) or not (_finite(p56) and p56 >= MIN_SPEECH_DBOV):
        lvl = f"{p56:.0f} dBov" if isinstance(p56, (int, float)) else "none"
        why = f"no active speech (VAD: {speech_s or 0:.2f} s of speech; P.56 level {lvl})"
        out.update({k: why for k in SPEECH_KEYS})
    elif not _finite(row.get("speech_level_dbov")):
        why = "speech frames no louder than the noise frames (loud noise between the words): no speech level"
        out.update({k: why for k in ("level_dbov", "snr_db")})
    noise = row.get("noise_level_dbov")
    if row.get("noise_estimate_from") == "percentile":
        why = "no noise-only stretch (no frame 64 ms away from speech)"
        out.update({k: out.get(k, why) for k in NOISE_KEYS})
    elif _finite(noise) and noise < MIN_NOISE_DBOV:
        why = f"digital silence between the words (noise {noise:.0f} dBov): no noise floor to measure"
        out.update({k: out.get(k, why) for k in NOISE_KEYS})
    if "rt60_s" not in out and not _finite(row.get("rt60_s")):
        out["rt60_s"] = (f"fewer than 3 clean speech decays ({row.get('rt60_decays', 0)} found): too short, "
                         "too noisy or too little speech")
    return out


def digital_silence_between_words(row: dict) -> bool:
    """A recording with speech whose line is digitally silent between the words (gated): no noise to add."""
    return str((row.get("left_out") or {}).get("snr_db", "")).startswith("digital silence")


def fit_folder(folder, rttm_folder=None, noise_bank_dir=None, on_bad_input: str = "error",
               exclude: Sequence[Path] = (), log=None, progress: bool = False, legs: Sequence[str] | None = None,
               downmix: bool = False) -> tuple[list[dict], dict]:
    """Estimate every recording of ``folder`` (a folder or a NeMo manifest) and aggregate: returns
    (per-recording rows, profile dict).

    ``noise_bank_dir``: where harvested noise goes (None: no harvesting). ``on_bad_input``: ``error``
    raises BadInput for the first unreadable file; ``skip`` records it in ``profile['skipped']``.
    ``log``: called with one line per file; ``progress``: a progress bar instead. A folder of two-channel
    calls is fitted per leg (synth.profiles.stereo; ``legs`` names them, ``downmix`` fits them as mono):
    one row per recording and leg.
    """
    recs, skipped = find_recordings(folder, exclude, on_bad_input)
    legs, channels_note = call_legs(recs, tuple(legs) if legs else None, downmix)
    rows, manifest, timings, more = analyse_recordings(recs, rttm_folder, lambda r: noise_bank_dir, on_bad_input,
                                                       log, progress, legs=legs)
    skipped += more
    timing = ([d for t in timings for d in t[0]], [d for t in timings for d in t[1]])
    if not rows:
        raise BadInput(folder, "no recording could be analysed (all skipped)", "check the skipped list")
    bank = Path(noise_bank_dir) if noise_bank_dir is not None else None
    if bank is not None:
        write_bank_manifest(bank, manifest)
    if legs:
        profile = stereo_profile_dict(rows, Path(folder), bank, rttm_list(rttm_folder), timings, legs)
    else:
        profile = profile_dict(rows, Path(folder), bank, rttm_list(rttm_folder), *timing)
    if channels_note:
        profile["channels_note"] = channels_note
    if skipped:
        profile["skipped"] = skipped
    return rows, profile


def rttm_list(rttm_folder) -> list[Path]:
    if rttm_folder is None:
        return []
    rf = Path(rttm_folder)
    if not rf.is_dir():
        raise BadInput(rf, "is not a folder", "pass --rttm <folder with <recording>.rttm files>")
    rttms = sorted(rf.rglob("*.rttm"))
    if not rttms:
        raise BadInput(rf, "contains no .rttm files", "pass the folder holding the RTTMs")
    return rttms


def write_bank_manifest(bank: Path, lines: list[dict]) -> None:
    bank.mkdir(parents=True, exist_ok=True)
    atomic_write_text(bank / "manifest.jsonl", "".join(json.dumps({k: v for k, v in m.items() if k != "bank"}) + "\n"
                                                       for m in lines))


def analyse_recordings(recs: list[Recording], rttm_folder, bank_for, on_bad_input: str = "error", log=None,
                       progress: bool = False, legs: Sequence[str] | None = None
                       ) -> tuple[list[dict], list[dict], list[tuple[list, list]], list[dict]]:
    """Every recording through ``analyse_file``: (rows, noise bank lines, per row (speech segment durations,
    pause durations), skipped). ``bank_for(recording)`` names the bank folder its noise goes to (or None); the
    lines' ``audio_filepath`` is relative to that folder (each row keeps its ``meta``). With ``legs`` (two-channel
    calls) every recording gives one row per leg (synth.profiles.stereo.analyse_call), and each row's timing
    also holds that leg's speech segments."""
    from contextlib import nullcontext

    from ..progress import progress_bar
    by_stem = {r.stem: r for r in rttm_list(rttm_folder)}
    rows, manifest, skipped, timings = [], [], [], []
    with (progress_bar(len(recs), label="fitting") if progress else nullcontext()) as bar:
        for i, rec in enumerate(recs):
            if log:
                log(f"[{i + 1}/{len(recs)}] {rec.rel}")
            bank = bank_for(rec)
            try:
                if legs:
                    got, lines, times = analyse_call(rec.path, rec.rel, legs, Path(bank) if bank is not None
                                                     else None, by_stem.get(rec.path.stem))
                else:
                    row, lines, (sp, pa) = analyse_file(rec.path, rec.rel, Path(bank) if bank is not None else None,
                                                        by_stem.get(rec.path.stem))
                    got, times = [row], [(sp, pa)]
            except BadInput as e:
                if on_bad_input != "skip":
                    raise
                skipped.append({"file": rec.rel, "reason": str(e)})
                if bar is not None:
                    bar.advance(0.0)
                continue
            for row in got:
                if rec.meta:
                    row["meta"] = dict(rec.meta)
            rows.extend(got)
            manifest.extend({**ln, "bank": str(bank)} for ln in lines)
            timings.extend(times)
            if bar is not None:
                bar.advance(float(got[0]["duration_s"]))
    return rows, manifest, timings, skipped


class FitNotes:
    """What the fit left out (per fitted key: the recordings and why) and clamped (per key: the build
    setting's range and how many values lay outside it)."""

    def __init__(self) -> None:
        self.left_out: dict[str, list[dict]] = {}
        self.clamped: dict[str, dict] = {}

    def leave_out(self, key: str, file: str, why: str) -> None:
        self.left_out.setdefault(key, []).append({"file": file, "reason": why})

    def to_dict(self) -> dict:
        return {"left_out": self.left_out, "clamped": self.clamped}


def feature_range(key: str, scenario: str) -> tuple[float, float, str | None]:
    """[lo, hi] a fitted key is limited to and the build setting that range comes from (None: no build
    setting takes the key; its plausible range from FEATURES)."""
    br = limits.build_range(key, scenario)
    if br is not None:
        return br
    lo, hi = FEATURES[key.split(".")[-1]][3]
    return lo, hi, None


def _measured(rows: list[dict], key: str, src: str, notes: FitNotes) -> list[float]:
    """The recordings' values of ``src`` for fitted ``key``, leaving out (and noting) those that cannot
    inform it."""
    out = []
    for r in rows:
        why = (r.get("left_out") or {}).get(key)
        v = r.get(src)
        if why is None and not _finite(v):
            why = f"{src} could not be measured on this recording"
        if why is not None:
            notes.leave_out(key, r["file"], why)
            continue
        out.append(float(v))
    return out


def _labels(rows: list[dict], key: str, src: str, notes: FitNotes) -> list:
    """A categorical feature's values, leaving out (and noting) the recordings that cannot inform it."""
    out = []
    for r in rows:
        why = (r.get("left_out") or {}).get(key)
        if why is not None:
            notes.leave_out(key, r["file"], why)
        elif r.get(src) is not None:
            out.append(r.get(src))
    return out


def _fit_feature(key: str, values, scenario: str, notes: FitNotes, width=None, min_sd=None,
                 range_key: str | None = None) -> dict | None:
    """``fit_dist`` of ``values`` for fitted ``key``, inside the range its build setting accepts (clamped
    values and ranges noted)."""
    src, w, sd, _ = FEATURES.get(range_key or key, (None, width, min_sd, None))
    lo, hi, setting = feature_range(key if key in limits.FEEDS else range_key or key, scenario)
    v = limits.finite(values)
    if v.size == 0:
        return None
    v, note = limits.clamp_values(v, lo, hi)
    if note is not None:
        why = (f"{setting} accepts [{lo:g}, {hi:g}]" if setting else f"outside the plausible range [{lo:g}, {hi:g}]")
        notes.clamped[key] = {**note, "range": [lo, hi], "setting": setting, "why": why}
    return fit_dist(v, width if width is not None else w, min_sd if min_sd is not None else sd, lo, hi)


def fit_room(rows: list[dict], scenario: str, notes: FitNotes) -> tuple[dict, dict | None]:
    """(``reverb`` block, ``rt60_s`` of all recordings) from the recordings' blind RT60 readings."""
    rts = _measured(rows, "rt60_s", "rt60_s", notes)
    wet = [r for r in rts if r > DRY_RT60_S]
    # share of reverberant recordings: the share reading above DRY_RT60_S beyond what dry speech reads there
    # (a mixture p * 1 + (1 - p) * DRY_ABOVE_SHARE of wet and dry readings, solved for p)
    p_wet = max(0.0, (len(wet) / len(rts) - DRY_ABOVE_SHARE) / (1.0 - DRY_ABOVE_SHARE)) if rts else None
    reverb = {"p": _r(p_wet, 3) if rts else None,
              "rt60_s": _fit_feature("reverb.rt60_s", wet, scenario, notes, 0.05, 0.03, "rt60_s") if wet else None}
    return reverb, _fit_feature("rt60_s", rts, scenario, notes)


def profile_dict(rows: list[dict], folder: Path, bank: Path | None, rttms: list[Path], seg_s, pause_s) -> dict:
    """The ``fitted:`` block (see the module docstring of fit.py and the report for the key mapping), with
    ``notes`` (what was left out and clamped)."""
    notes = FitNotes()
    for r in rows:  # rows analysed by an older fit (no left_out) are checked now
        r.setdefault("left_out", unmeasured(r))
    turns = fit_turn_stats(rttms) if rttms else None
    scenario = scenario_of({"turns": turns})   # conversation for 2 speakers, meeting for 3+, else single talker
    col = lambda k: [r.get(k) for r in rows]  # noqa: E731
    fitted: dict = {}
    for key, (src, width, min_sd, _) in FEATURES.items():
        if key == "rt60_s":
            continue
        d = _fit_feature(key, _measured(rows, key, src, notes), scenario, notes)
        if d is not None:
            fitted[key] = d
    fitted["bandwidth"] = fit_choice(_labels(rows, "bandwidth", "bandwidth_class", notes),
                                     ["narrowband", "wideband", "fullband"])
    fitted["sample_rate"] = fit_choice([int(v) for v in col("sample_rate")])
    fitted["codec_family"] = fit_choice(col("codec_guess"))
    chain = fit_codec_chain(rows)
    if chain is not None:
        fitted["codec_chain"] = chain
    clip = [c for c in col("clipped_fraction") if c is not None]
    clipped = [c for c in clip if c > 0]
    fitted["clipping"] = {"p": _r(len(clipped) / len(clip), 3),
                          "fraction": fit_dist(clipped, 0.001, 0.0005, 0.0, 1.0) if clipped else None}
    fitted["reverb"], fitted["rt60_s"] = fit_room(rows, scenario, notes)
    quiet = []
    for r in rows:
        if "noise_shape_db" in r["left_out"]:
            notes.leave_out("noise_shape_db", r["file"], r["left_out"]["noise_shape_db"])
        else:
            quiet.append(r)
    shape = {fc: _med([r.get(f"noise_band_{fc}hz_db") for r in quiet]) for fc in OCTAVES_HZ}
    fitted["noise_shape_db"] = {fc: _r(v, 2) for fc, v in shape.items() if v is not None} or None
    fitted["noise_bank"] = str(bank) if bank is not None else None
    fitted["noise_bank_s"] = _r(sum(r.get("noise_bank_s", 0.0) for r in rows), 1)
    gated = sum(digital_silence_between_words(r) for r in rows)
    if gated and "snr_db" in fitted:  # recordings with digital silence between the words have no noise to add
        noisy = sum(1 for r in rows if "snr_db" not in r["left_out"] and _finite(r.get("snr_db")))
        fitted["noise_p"] = _r(noisy / (noisy + gated), 3)
    fitted["speech_activity"] = {
        "activity": fit_dist(col("speech_activity"), 0.05, 0.05, 0.0, 1.0),
        "segment_s": fit_dist(seg_s, 0.5, 0.3, 0.0, 600.0),
        "pause_s": fit_dist(pause_s, 0.25, 0.2, 0.0, 600.0),
    }
    if turns is not None:
        fitted["turns"] = turns
        fitted["scenario"] = scenario
        if scenario == "meeting":
            lo, hi = limits.scenario_limits("meeting", "n_speakers")
            n = [min(max(int(k), int(lo)), int(hi)) for k in (turns.get("fitted") or {}).get("n_speakers") or []]
            if n:
                fitted["n_speakers"] = fit_choice(n)
    refused = [x for r in rows for x in r.get("noise_refused", [])]
    out = {"n_recordings": len(rows), "folder": str(folder), "fitted": fitted, "notes": notes.to_dict()}
    if refused:
        out["noise_refused"] = refused
    return out


# --------------------------------------------------------------------------------------------------
def slice_name(value) -> str:
    """A file-name-safe form of a metadata value (component profiles are named ``<out>_<value>.yaml``)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", str(value)).strip("._") or "empty"


def fit_by(source, key: str, rttm_folder=None, noise_bank_dir=None, on_bad_input: str = "error",
           exclude: Sequence[Path] = (), progress: bool = False, legs: Sequence[str] | None = None,
           downmix: bool = False) -> tuple[dict[str, tuple[list, dict]], list[dict]]:
    """One profile per value of metadata ``key`` (e.g. ``device``): {value: (rows, profile)} in order of
    decreasing count, and the skipped recordings (a recording without ``key`` is listed, not guessed).
    ``source``: a NeMo manifest, or a folder holding one (``manifest.jsonl``). Each value's noise goes to
    ``<noise_bank_dir>/<value>``. Two-channel calls are fitted per leg as in ``fit_folder``."""
    src = Path(source)
    if src.is_dir():
        if not (src / "manifest.jsonl").is_file():
            raise BadInput(src, f"has no manifest.jsonl: --by {key} needs each recording's metadata",
                           "give synth fit a NeMo manifest whose rows hold the key (e.g. device)")
        src = src / "manifest.jsonl"
    recs, skipped = find_recordings(src, exclude, on_bad_input)
    have = [r for r in recs if r.meta.get(key) not in (None, "")]
    skipped += [{"file": r.rel, "reason": f"has no '{key}' in the manifest (--by {key}); left out"}
                for r in recs if r not in have]
    if not have:
        raise BadInput(src, f"no recording has the metadata key '{key}'",
                       f"pick a key the manifest rows hold ({', '.join(sorted({k for r in recs for k in r.meta})) or 'none'})")
    names = {r.meta[key]: slice_name(r.meta[key]) for r in have}
    if len(set(names.values())) != len(names):
        raise BadInput(src, f"values of '{key}' collide once made file names ({sorted(map(str, names))})",
                       "give the values distinct names")
    bank = Path(noise_bank_dir) if noise_bank_dir is not None else None
    legs, channels_note = call_legs(have, tuple(legs) if legs else None, downmix)
    rows, lines, timings, more = analyse_recordings(
        have, rttm_folder, lambda r: None if bank is None else bank / names[r.meta[key]], on_bad_input,
        progress=progress, legs=legs)
    skipped += more
    rttms = rttm_list(rttm_folder)
    by_value: dict = {}
    for row, t in zip(rows, timings):
        by_value.setdefault(row["meta"][key], []).append((row, t))
    out = {}
    for value, pairs in sorted(by_value.items(), key=lambda kv: (-len(kv[1]), str(kv[0]))):
        vrows = [r for r, _ in pairs]
        vbank = None if bank is None else bank / names[value]
        if vbank is not None:
            write_bank_manifest(vbank, [ln for ln in lines if ln["bank"] == str(vbank)])
        stems = {Path(r["file"]).stem for r in vrows}
        where, mine = Path(f"{source} ({key}={value})"), [r for r in rttms if r.stem in stems]
        if legs:
            profile = stereo_profile_dict(vrows, where, vbank, mine, [t for _, t in pairs], legs)
        else:
            profile = profile_dict(vrows, where, vbank, mine, [d for _, t in pairs for d in t[0]],
                                   [d for _, t in pairs for d in t[1]])
        if channels_note:
            profile["channels_note"] = channels_note
        out[str(value)] = (vrows, profile)
    return out, skipped


def write_mixture(per_value: dict[str, tuple[list, dict]], key: str, out: Path, source, skipped: list[dict]) -> dict:
    """Each value's profile as ``<out>_<value>.yaml`` (with its report and plots) and the mixture profile
    ``out`` over them, weighted by their shares of the recordings; returns the paths."""
    import yaml

    out = Path(out)
    n = sum(p["n_recordings"] for _, p in per_value.values())
    comps, reports = [], []
    for value, (rows, profile) in per_value.items():
        path = out.parent / f"{out.stem}_{slice_name(value)}.yaml"
        paths = write_outputs(rows, profile, path)
        comps.append({"value": value, "weight": _r(profile["n_recordings"] / n, 6), "profile": path.name,
                      "n_recordings": profile["n_recordings"]})
        reports.append((value, profile, paths))
    head = (f"# mixture of {len(comps)} profiles fitted by synth fit from {n} recordings in {source}, one per "
            f"value of '{key}'\n# each item draws its component with these weights and carries slice.{key}; "
            "see synth/profiles/mixture.py\n")
    body = {"mixture": {"by": key, "components": comps}}
    if skipped:
        body["skipped"] = skipped
    atomic_write_text(out, head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110))
    md = [f"# Fit report: {out.name} (mixture by `{key}`)", "",
          f"{n} recordings from `{source}`, fitted per value of `{key}`; a build draws each item's component "
          "with these weights and labels it `slice." + key + "`.", "",
          "| value | recordings | weight | profile | report | left out (recordings per key) | clamped |",
          "|---|---|---|---|---|---|---|"]
    for (value, profile, paths), c in zip(reports, comps):
        checks = check_summary(profile)
        left = ", ".join(f"{k} {v}" for k, v in (checks.get("left_out") or {}).items()) or "-"
        md.append(f"| {value} | {c['n_recordings']} | {c['weight']:.3f} | `{c['profile']}` | "
                  f"[{paths['report'].name}]({paths['report'].name}) | {left} | "
                  f"{', '.join(checks.get('clamped') or {}) or '-'} |")
    if skipped:
        md += ["", "## Skipped inputs", ""] + [f"- `{s['file']}`: {s['reason']}" for s in skipped]
    report = out.parent / f"{out.stem}.fit.md"
    atomic_write_text(report, "\n".join(md) + "\n")
    return {"profile": out, "report": report, "components": [p for _, _, p in reports]}


# --------------------------------------------------------------------------------------------------
# writing

def profile_yaml(profile: dict) -> str:
    import yaml

    head = (f"# fitted by synth fit from {profile['n_recordings']} recordings in {profile['folder']}\n"
            "# Distributions use synth.dist syntax. Mapping to build keys: see the fit report (.fit.md).\n"
            "# Blind estimates: see synth/profiles/estimate.py for methods and measured errors.\n")
    body = {"fitted": profile["fitted"]}
    checks = check_summary(profile)
    if checks:
        body["checks"] = checks
    if profile.get("skipped"):
        body["skipped"] = profile["skipped"]
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110)


def clamp_line(key: str, c: dict) -> str:
    parts = [f"{c['below']} below" if c["below"] else "", f"{c['above']} above" if c["above"] else ""]
    return (f"{key}: {' and '.join(p for p in parts if p)} (measured {c['min']:.4g}..{c['max']:.4g}; "
            f"{c['why']}): counted at the bound")


def check_summary(profile: dict) -> dict:
    """What the profile's ``checks:`` block says: recordings left out per fitted key (the report lists them
    with the reasons), what was clamped to the build's ranges, and refused noise-bank stretches."""
    notes = profile.get("notes") or {}
    out: dict = {}
    if notes.get("left_out"):
        out["left_out"] = {k: len(v) for k, v in notes["left_out"].items()}
    if notes.get("clamped"):
        out["clamped"] = {k: clamp_line(k, c).split(": ", 1)[1] for k, c in notes["clamped"].items()}
    if profile.get("noise_refused"):
        out["noise_bank_refused"] = len(profile["noise_refused"])
    return out


REPORT_COLUMNS = [("file", "{}"), ("sample_rate", "{}"), ("duration_s", "{:.1f}"), ("speech_level_dbov", "{:.1f}"),
                  ("noise_level_dbov", "{:.1f}"), ("snr_db", "{:.1f}"), ("wada_snr_db", "{:.1f}"),
                  ("noise_sd_db", "{:.1f}"), ("effective_bandwidth_hz", "{:.0f}"), ("bandwidth_class", "{}"),
                  ("codec_guess", "{}"), ("codec_chain", "{}"), ("clipped_fraction", "{:.4f}"), ("dc_offset", "{:.4f}"),
                  ("rt60_s", "{:.2f}"), ("speech_activity", "{:.2f}"), ("vad_backend", "{}")]

KEY_MAPPING = """\
| fitted key | meaning | build config it feeds (wired by `profile=<file>`) |
|---|---|---|
| `level_dbov` | P.56 active speech level of the speech component, dBov | talker `speech_level` and the recorder's final `calibrate_level` (the level as recorded) |
| `snr_db` | active speech level minus mean noise power (add_noise's definition) | recorder `add_noise.snr_db` (after the band limit) |
| `noise_bank` | folder of harvested non-speech FLACs + `manifest.jsonl` | noise source folder (`sources` noise path) |
| `noise_shape_db` | median noise octave-band levels re the noise's total (dB) | `add_noise.shape_db` when the noise bank is thin (< 10 s): other noise is shaped to this spectrum |
| `duration_s` | recording durations, s: equal-count bins at their quantiles | `scenario.duration_s` (items last as long as the recordings) |
| `low_band_rel_db` | speech level below 200 Hz re 300-1000 Hz, dB | band-limit low edge (300 Hz telephone high-pass when < -20 dB, else 50 Hz) |
| `noise_level_dbov`, `noise_sd_db`, `noise_tilt_db_per_oct` | noise floor, its SD over 32 ms frames, spectral slope | checks only (implied by `snr_db` + noise bank); `noise_sd_db` can drive a noise-level random walk |
| `bandwidth` | narrowband / wideband / fullband class weights | band-limit class when no edge was fitted (NB: 8 kHz; WB: 16 kHz; FB: none) |
| `sample_rate` | file sample rates | `sample_rate` of the output |
| `effective_bandwidth_hz` | measured band edge | recorder `bandlimit.high_hz` (drawn per item; the refit edge lands within ~30 Hz) |
| `codec_family` | coarse family guesses (or "cannot tell") | recorder `codec` drawing codecs of that family (synth.profiles.apply.CODEC_FAMILIES) for the share of recordings with a family |
| `codec_chain` | vocoder family before the last hop per narrowband recording (g711_only / amr_nb / gsm_fr / opus_nb; "unknown" left out of the weights), AMR-NB modes from the rate evidence | recorder `codec` hop of that vocoder (before the last-hop codec) for the share of recordings that show one (synth.profiles.codec_chain); frame errors are not fitted |
| `clipping.p`, `clipping.fraction` | share of recordings with saturation; fraction of samples clipped in those | `clipping.p`; the threshold/drive that yields that fraction (the clipping effect takes drive_db/threshold) |
| `reverb.p`, `reverb.rt60_s` | share of reverberant recordings: the share with blind RT60 > 0.25 s beyond the 42% that dry telephone speech reads there, (share - 0.42) / 0.58; RT60 of those above 0.25 s | room effect `p` and `rt60_s` |
| `rt60_s` | blind RT60 of all recordings (dry speech reads 0.15-0.25 s) | reference |
| `speech_activity.*` | VAD speech ratio, segment and pause durations | conversation timing when there is no RTTM |
| `turns` | `fit_turns` output from the RTTMs | conversation scenario timing |
| `scenario`, `n_speakers` | with RTTMs: conversation (2 speakers, median over recordings) or meeting (3+) and the meeting sizes | the scenario the profile builds unless `scenario=` is given |
| `noise_p` | share of recordings with a noise floor, when some have digital silence between the words | recorder `add_noise.p` |
| `dc_offset` | mean sample value | check only |
"""


STEREO_KEY_MAPPING = """\
| `layout: stereo`, `legs` | two-channel calls fitted per leg: one block per channel (`name`, `channel`, and the keys above measured on that channel) | `output.layout=stereo`, a conversation whose roles are the leg names, and per leg `channel.legs[i].chain`: its clipping, band limit, noise from `noise_bank/<leg>/` at its SNR, level calibration and codec (synth.profiles.apply.stereo_overrides) |
"""


def plots_folder(out: Path) -> Path:
    return Path(out).parent / f"{Path(out).stem}_plots"


def write_outputs(rows: list[dict], profile: dict, out: Path) -> dict:
    """profile YAML, report markdown, per-recording JSON and histogram PNGs; returns their paths."""
    out = Path(out)
    atomic_write_text(out, profile_yaml(profile))
    report, rows_json = out.parent / f"{out.stem}.fit.md", out.parent / f"{out.stem}.fit.json"
    atomic_write_text(rows_json, json.dumps(rows, indent=1, default=_json_default) + "\n")
    plots = plots_folder(out)
    pngs = plot_histograms(rows, plots)
    md = report_markdown(rows, profile, out, pngs)
    atomic_write_text(report, md)
    return {"profile": out, "report": report, "plots": plots}


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


def plot_histograms(rows: list[dict], folder: Path, prefix: str = "") -> list[Path]:
    """One histogram PNG per feature (two-channel calls: one per leg and feature, ``<leg>_<key>.png``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    legs = list(dict.fromkeys(r["leg"] for r in rows if r.get("leg")))
    if legs and not prefix:
        return [p for leg in legs for p in plot_histograms([r for r in rows if r.get("leg") == leg], folder, f"{leg}_")]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, (src, width, _, _) in FEATURES.items():
        v = np.array([r.get(src) for r in rows if key not in (r.get("left_out") or {}) and _finite(r.get(src))], float)
        if v.size == 0:
            continue
        width = width or max((float(v.max()) - float(v.min())) / 20, 0.1)
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
        edges = np.arange(math.floor(v.min() / width) * width, (math.floor(v.max() / width) + 2) * width, width)
        ax.hist(v, bins=edges, color="#4477aa", edgecolor="white")
        ax.set_xlabel(src)
        ax.set_ylabel("recordings")
        ax.set_title(f"{prefix.replace('_', ': ')}{key} (n={v.size})")
        fig.tight_layout()
        p = folder / f"{prefix}{key}.png"
        fig.savefig(p)
        plt.close(fig)
        paths.append(p)
    return paths


def _fmt(v, f):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    try:
        return f.format(v)
    except (ValueError, TypeError):
        return str(v)


def report_markdown(rows: list[dict], profile: dict, out: Path, pngs: list[Path]) -> str:
    fitted = profile["fitted"]
    cols = REPORT_COLUMNS[:1] + [("leg", "{}")] + REPORT_COLUMNS[1:] if fitted.get("legs") else REPORT_COLUMNS
    md = [f"# Fit report: {out.name}", "",
          f"{profile['n_recordings']} recordings from `{profile['folder']}`; VAD backend: "
          f"{', '.join(sorted({r['vad_backend'] for r in rows}))}.", "",
          "## Per recording", "",
          "| " + " | ".join(c for c, _ in cols) + " |",
          "|" + "---|" * len(cols)]
    for r in rows:
        md.append("| " + " | ".join(_fmt(r.get(c), f) for c, f in cols) + " |")
    md += ["", "## Fitted distributions", "", "```yaml", profile_yaml(profile).rstrip(), "```", "",
           "## How the fitted keys map to build config", "", KEY_MAPPING + (STEREO_KEY_MAPPING if fitted.get("legs")
                                                                          else ""), "",
           "## Plots", ""]
    md += [f"![{p.stem}]({p.parent.name}/{p.name})" for p in pngs]
    md += ["", "## Methods and known errors", "",
           "Measured on ground-truth items built from real corpus speech + real recorded noise "
           "(`python tests/profiles/groundtruth.py 120 --rt60`): see synth/profiles/estimate.py.", "",
           "- SNR: VAD noise power vs noise-compensated speech level; noise that the VAD takes for speech "
           "(meowing, voices, music) is left out of the noise estimate and the SNR reads high.",
           "- WADA-SNR is a cross-check only (Gaussian-noise assumption); large `snr_disagreement_db` "
           "flags non-stationary noise.",
           "- Codec chain: vocoder traces (re-encoding consistency, excitation shape, GSM's pulse grid) scored by "
           "a model trained on known chains; see synth/profiles/codec_chain.py for its held-out accuracy. Codecs "
           "it was not trained on (EVRC, G.729, ...) are called by the family they resemble or unknown.",
           "- Clipping: flat runs at the extreme values; clipping followed by a codec or resampler is not "
           "detected.",
           "- RT60: blind decay-rate estimate calibrated on simulated rooms; dry speech reads 0.15-0.25 s."]
    if fitted.get("legs"):
        files = ((fitted.get("turns") or {}).get("fitted") or {}).get("files") or []
        vad = any(str(f).endswith("(per-channel VAD)") for f in files)
        md += ["- Two-channel calls: each channel is measured as its own leg (" + ", ".join(
            f"channel {leg['channel']}: {leg['name']}" for leg in fitted["legs"]) + "), with that party's speech "
            "activity (the channel's VAD, or the segments of the RTTM speakers whose speech raises that channel "
            "most); its noise goes to `noise_bank/<leg>/`; turn-taking "
            + ("from the two channels' speech activity (a channel's speech segments are its party's turns)." if vad
               else "from the RTTMs." if files else "not fitted (no speech found).")]
    else:
        md += ["- Multi-channel files are down-mixed to mono before analysis."]
    if profile.get("channels_note"):
        md += [f"- {profile['channels_note']}."]
    md += notes_markdown(profile)
    if profile.get("skipped"):
        md += ["", "## Skipped inputs", ""] + [f"- `{s['file']}`: {s['reason']}" for s in profile["skipped"]]
    return "\n".join(md) + "\n"


def notes_markdown(profile: dict) -> list[str]:
    """The report's "Clamped" and "Left out" sections (and refused noise-bank stretches)."""
    notes = profile.get("notes") or {}
    md = []
    if notes.get("clamped"):
        md += ["", "## Clamped to the range the build accepts", "",
               "Values outside the range of the build setting a fitted key feeds (read from that effect's own "
               "validation, synth/profiles/limits.py) count at the nearer bound, so the profile always builds.", ""]
        md += [f"- {clamp_line(k, c)}" for k, c in notes["clamped"].items()]
    left = notes.get("left_out") or {}
    if left:
        md += ["", "## Left out (not measurable)", "",
               "A recording where a feature cannot be measured is left out of that feature's distribution "
               "(the other features still use it).", "",
               "| fitted key | recordings left out |", "|---|---|"]
        md += [f"| `{k}` | {len(v)} |" for k, v in left.items()]
        per_file: dict[tuple[str, str], list[str]] = {}
        for k, v in left.items():
            for x in v:
                per_file.setdefault((x["file"], x["reason"]), []).append(k)
        md += ["", "| recording | left out of | why |", "|---|---|---|"]
        md += [f"| {f} | {', '.join(ks)} | {why} |" for (f, why), ks in per_file.items()]
    if profile.get("noise_refused"):
        md += ["", "## Noise stretches not harvested", "",
               "Non-speech stretches the noise pool would refuse (digital silence once stored as 16-bit), "
               "so the noise bank never holds one:", ""]
        md += [f"- {x['source']} {x['start_s']:.2f}-{x['end_s']:.2f} s: {x['reason']}" for x in profile["noise_refused"]]
    return md


def warnings(profile: dict, report: Path) -> list[str]:
    """One line each for what the fit left out, clamped or refused (the report has the details)."""
    notes = profile.get("notes") or {}
    out = [profile["channels_note"]] if profile.get("channels_note") else []
    left = notes.get("left_out") or {}
    if left:
        out.append("left out (not measurable): " + ", ".join(f"{k} {len(v)}" for k, v in left.items())
                   + f" recording(s); see 'Left out' in {report}")
    for k, c in (notes.get("clamped") or {}).items():
        out.append(f"clamped {clamp_line(k, c)}")
    if profile.get("noise_refused"):
        out.append(f"noise bank: {len(profile['noise_refused'])} stretch(es) of digital silence not harvested")
    turns = (profile.get("fitted") or {}).get("turns") or {}
    out += list((turns.get("fitted") or {}).get("warnings") or [])
    return out


# ---------------------------------------------------------------- two-channel calls, per leg
# A folder whose every recording has two channels is fitted leg by leg (synth.profiles.stereo names the legs
# and reads the channels): each channel is measured by the same estimators as a mono recording with that
# party's speech activity (its VAD, or the RTTM's segments of the speaker loudest on it), its non-speech
# stretches go to noise_bank/<leg>/, and turn-taking comes from the RTTMs, else from the two channels' VADs.
# The profile's fitted: block then holds layout: stereo, one block per leg under legs, and the call-level
# keys (durations, sample rate, rooms pooled over both parties, the noise bank, turns).

def analyse_call(path: Path, rel: str, legs: Sequence[str], noise_bank: Path | None, rttm: Path | None = None,
                 reference: list[list[tuple[float, float]]] | None = None
                 ) -> tuple[list[dict], list[dict], list[tuple[list, list, list]]]:
    """Estimates per channel of one two-channel call: (one row per leg, noise bank lines (``audio_filepath``
    relative to ``noise_bank``: ``<leg>/<file>``), per leg (speech segment durations, pause durations, speech
    segments (start_s, end_s))). The speech activity of channel c: ``reference[c]`` (segments, e.g. a built
    item's labels), else the RTTM's (``rttm_channel_segments``), else the channel's VAD."""
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
    fits its recordings (profile_dict), the call-level keys from all calls, turn-taking
    from the RTTMs or the channels' VADs. What was left out or clamped is noted per leg (``legs.<leg>.<key>``)."""
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


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth fit", description="Fit a production profile from real recordings.")
    ap.add_argument("folder", help="folder of real recordings (any format libsndfile reads), or a NeMo manifest "
                    "(.jsonl: audio_filepath relative to it, other keys are metadata)")
    ap.add_argument("--rttm", help="folder of <recording>.rttm files (turn-taking statistics)")
    ap.add_argument("--out", required=True, help="profile YAML to write (report and plots go next to it)")
    ap.add_argument("--noise-bank", help="folder for harvested noise (default: <out folder>/noise_bank)")
    ap.add_argument("--no-noise-bank", action="store_true", help="do not export non-speech stretches")
    ap.add_argument("--on-bad-input", choices=["error", "skip"], default="error")
    ap.add_argument("--by", metavar="KEY", help="fit one profile per value of this metadata key of the manifest "
                    "(e.g. device) and write a mixture profile over them (items carry slice.<KEY>)")
    ap.add_argument("--legs", metavar="A,B", help="two-channel calls (one party per channel): the names of the "
                    "channel 0 and channel 1 parties (default customer,agent); each channel is fitted as its own leg "
                    "and the profile builds stereo conversations")
    ap.add_argument("--refs", metavar="MANIFEST", help="verbatim transcripts of real recordings (NeMo .jsonl: "
                    "text_verbatim or text, duration; words when aligned): their filler, restart, fragment, repetition "
                    "and hesitation rates go into the profile's behavior group (synth.behavior.fit); with --by, each "
                    "slice's from the rows with its value")
    ap.add_argument("--downmix", action="store_true", help="fit two-channel recordings as mono (downmixed), "
                    "not per leg")
    args = ap.parse_args(argv)
    legs = parse_legs(args.legs)
    if legs and args.downmix:
        raise ConfigError("--legs and --downmix: give one (per-leg fit, or the channels downmixed to mono)")
    out = Path(args.out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"--out {out}: the profile is written as YAML; give a file name ending in .yaml")
    bank = None if args.no_noise_bank else Path(args.noise_bank) if args.noise_bank else out.parent / "noise_bank"
    own = [plots_folder(out)] + ([bank] if bank is not None else [])
    if args.by:
        per_value, skipped = fit_by(args.folder, args.by, args.rttm, bank, args.on_bad_input, own, progress=True,
                                    legs=legs, downmix=args.downmix)
        if args.refs:  # each slice's own behavior rates, from the refs rows of that slice
            from ..behavior.fit import fit_behavior_by
            for value, (block, measured) in fit_behavior_by(args.refs, args.by, list(per_value)).items():
                per_value[value][1]["fitted"]["behavior"], per_value[value][1]["fitted"]["behavior_measured"] = \
                    block, measured
        paths = write_mixture(per_value, args.by, out, args.folder, skipped)
        for (value, (_, profile)), p in zip(per_value.items(), paths["components"]):
            for line in warnings(profile, p["report"]):
                print(f"warning: {args.by}={value}: {line}", file=sys.stderr)
        print(f"fitted {len(per_value)} profiles by {args.by} ("
              + ", ".join(f"{v}: {p['n_recordings']}" for v, (_, p) in per_value.items())
              + f" recordings) -> mixture {paths['profile']}")
        print(f"report: {paths['report']}" + (f"; noise banks under {bank}" if bank is not None else ""))
        return 0
    rows, profile = fit_folder(args.folder, args.rttm, bank, args.on_bad_input, exclude=own, progress=True,
                               legs=legs, downmix=args.downmix)
    if args.refs:
        from ..behavior.fit import fit_behavior
        profile["fitted"]["behavior"], profile["fitted"]["behavior_measured"] = fit_behavior(args.refs)
    paths = write_outputs(rows, profile, out)
    f = profile["fitted"]
    for line in warnings(profile, paths["report"]):
        print(f"warning: {line}", file=sys.stderr)
    legs_fitted = [leg["name"] for leg in f.get("legs") or []]
    print(f"fitted {profile['n_recordings']} recordings"
          + (f" per leg ({', '.join(f'channel {i}: {n}' for i, n in enumerate(legs_fitted))}; builds stereo)"
             if legs_fitted else "") + f" -> {paths['profile']}")
    print(f"report: {paths['report']}; plots: {paths['plots']}")
    if bank is not None:
        print(f"noise bank: {bank} ({f['noise_bank_s']} s)")
    return 0
