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
    noise_bank/*.flac + manifest.jsonl   harvested non-speech stretches (>= 1 s, 0.2 s from speech)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

from ..audio import atomic_write_text, load, power_db, text_lines, write_audio
from ..errors import BadInput, ConfigError, SynthError
from .codec_chain import fit_codec_chain
from .estimate import OCTAVES_HZ, estimate_recording
from .vad import FRAME_S, VadResult, _runs, detect_speech

AUDIO_EXTS = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aif", ".aiff", ".au", ".sph", ".w64", ".caf"}

# Distribution fitting per feature: (row key, histogram bin width, minimum SD for the normal form,
# allowed range). Fewer than MIN_FOR_HISTOGRAM recordings -> {normal: [mean, sd], clip: [...]}.
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
    "duration_s": ("duration_s", 5.0, 1.0, (0.5, 3600.0)),
}
MIN_FOR_HISTOGRAM = 20
DRY_RT60_S = 0.25          # blind RT60 of dry close-talk speech reads ~0.15-0.25 s: at or below = no room
NOISE_MIN_S, NOISE_MARGIN_S, NOISE_MAX_S = 1.0, 0.2, 30.0


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

def fit_dist(values, bin_width: float, min_sd: float, lo: float, hi: float) -> dict | None:
    """A synth.dist config value for measured ``values``: a histogram with ``bin_width`` bins when there
    are enough recordings, else a clipped normal (SD floored at ``min_sd`` so a small sample does not
    collapse to a constant). None without finite values."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return None
    if v.size >= MIN_FOR_HISTOGRAM:
        a = math.floor(v.min() / bin_width) * bin_width
        b = (math.floor(v.max() / bin_width) + 1) * bin_width
        edges = np.arange(a, b + bin_width / 2, bin_width)
        counts, edges = np.histogram(v, bins=edges)
        return {"histogram": {"edges": [_r(e) for e in edges], "counts": [int(c) for c in counts]}}
    sd = max(float(v.std(ddof=1)) if v.size > 1 else 0.0, min_sd)
    clip = [max(lo, float(v.min()) - 2 * sd), min(hi, float(v.max()) + 2 * sd)]
    return {"normal": [_r(float(v.mean())), _r(sd)], "clip": [_r(clip[0]), _r(clip[1])]}


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
    """Non-speech stretches (prob < 0.3) shrunk by 0.2 s where they touch speech, >= 1 s, <= 30 s each."""
    out = []
    for a, b in _runs(probs < 0.3):
        s, e = a * frame_s, min(b * frame_s, duration_s)
        s = s + NOISE_MARGIN_S if a > 0 else s
        e = e - NOISE_MARGIN_S if b < len(probs) else e
        while e - s >= NOISE_MIN_S:
            out.append((s, min(e, s + NOISE_MAX_S)))
            s += NOISE_MAX_S
    return out


def harvest_noise(x: np.ndarray, sr: int, stretches, source: str, bank: Path) -> list[dict]:
    lines = []
    stem = Path(source).with_suffix("").as_posix().replace("/", "__")
    for s, e in stretches:
        seg = x[int(round(s * sr)): int(round(e * sr))]
        if len(seg) < NOISE_MIN_S * sr:
            continue
        name = f"{stem}__{int(round(s * 1000)):08d}.flac"
        write_audio(bank / name, seg, sr, tags={"comment": f"background noise harvested by synth fit from {source}"})
        lines.append({"audio_filepath": name, "duration": _r(len(seg) / sr, 3), "sample_rate": sr, "kind": "noise",
                      "source": source, "start_s": _r(s, 3), "end_s": _r(e, 3), "level_dbov": _r(power_db(seg), 2)})
    return lines


def vad_timing(probs: np.ndarray, frame_s: float) -> tuple[list[float], list[float]]:
    """Speech segment and pause durations (s) from the VAD: gaps < 0.2 s bridged, segments >= 0.1 s."""
    from .vad import mask_to_segments

    segs = mask_to_segments(probs >= 0.5, frame_s, min_speech_s=0.1, min_silence_s=0.2)
    speech = [e - s for s, e in segs]
    pauses = [b[0] - a[1] for a, b in zip(segs, segs[1:])]
    return speech, pauses


# --------------------------------------------------------------------------------------------------
# turn-taking from RTTM

def fit_turn_stats(rttm_paths: list[Path]) -> dict:
    """Turn-taking statistics from RTTMs via synth.scene.fit_turns (the conversation fitter).

    TODO(conversation issue): synth/scene/fit_turns.py provides ``fit_turns(rttm_paths) -> dict``. Until it
    exists, a minimal fallback (speakers per recording, overlap ratio) is returned and marked as such.
    """
    try:
        from ..scene.fit_turns import fit_turns  # lazy: written in parallel by the conversation work
    except ImportError:
        return {"source": "fallback (synth.scene.fit_turns not available yet)", **_rttm_basic(rttm_paths)}
    return fit_turns([str(p) for p in rttm_paths])


def _rttm_basic(rttm_paths: list[Path]) -> dict:
    n_spk, overlap = [], []
    for p in rttm_paths:
        segs = []
        for line in text_lines(p, errors="replace"):
            f = line.split()
            if len(f) >= 8 and f[0] == "SPEAKER":
                try:
                    segs.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
                except ValueError:
                    raise BadInput(p, f"RTTM line has a non-numeric onset/duration: {line.strip()!r}",
                                   "fix the RTTM (SPEAKER <uri> <chan> <onset> <dur> ...)") from None
        if not segs:
            continue
        n_spk.append(len({s[2] for s in segs}))
        ev = sorted([(s, 1) for s, _, _ in segs] + [(e, -1) for _, e, _ in segs])
        act, t0, speech, ov = 0, 0.0, 0.0, 0.0
        for t, d in ev:
            speech += (t - t0) * (act >= 1)
            ov += (t - t0) * (act >= 2)
            act, t0 = act + d, t
        overlap.append(ov / speech if speech > 0 else 0.0)
    return {"n_speakers": fit_choice(n_spk), "overlap_ratio": fit_dist(overlap, 0.05, 0.02, 0.0, 1.0)}


# --------------------------------------------------------------------------------------------------

def rttm_segments(rttm: Path, uri: str) -> list[tuple[float, float]]:
    """(start_s, end_s) of every SPEAKER line for ``uri`` (all lines when none names it)."""
    rows = []
    for line in text_lines(rttm, errors="replace"):
        f = line.split()
        if len(f) >= 5 and f[0] == "SPEAKER":
            try:
                rows.append((f[1], float(f[3]), float(f[3]) + float(f[4])))
            except ValueError:
                raise BadInput(rttm, f"RTTM line has a non-numeric onset/duration: {line.strip()!r}",
                               "fix the RTTM (SPEAKER <uri> <chan> <onset> <dur> ...)") from None
    mine = [(a, b) for u, a, b in rows if u == uri]
    return mine if mine else [(a, b) for _, a, b in rows]


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
    meeting speech is often too faint for the VAD, and the RTTM is the better truth)."""
    x, sr, raw = read_recording(path)
    if rttm is not None:
        v = rttm_vad(rttm_segments(rttm, path.stem), len(x) / sr)
    else:
        v = detect_speech(x, sr)
    row = {"file": rel, **estimate_recording(x, sr, vad=v, raw_pcm16=raw, codec_chain=True)}
    lines = []
    if noise_bank is not None:
        lines = harvest_noise(x, sr, noise_stretches(v.probs, v.frame_s, len(x) / sr), rel, noise_bank)
    row["noise_bank_s"] = float(sum(ln["duration"] for ln in lines))
    return row, lines, vad_timing(v.probs, v.frame_s)


def fit_folder(folder, rttm_folder=None, noise_bank_dir=None, on_bad_input: str = "error",
               exclude: Sequence[Path] = (), log=None) -> tuple[list[dict], dict]:
    """Estimate every recording under ``folder`` and aggregate: returns (per-recording rows, profile dict).

    ``noise_bank_dir``: where harvested noise goes (None: no harvesting). ``on_bad_input``: ``error``
    raises BadInput for the first unreadable file; ``skip`` records it in ``profile['skipped']``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(folder, "is not a folder", "pass a folder of recordings (wav, flac, ...)")
    files = find_audio(folder, exclude=exclude)
    if not files:
        raise BadInput(folder, f"contains no audio files ({', '.join(sorted(AUDIO_EXTS))})",
                       "point synth fit at a folder of recordings")
    bank = Path(noise_bank_dir) if noise_bank_dir is not None else None
    rttms: list[Path] = []
    if rttm_folder is not None:
        rf = Path(rttm_folder)
        if not rf.is_dir():
            raise BadInput(rf, "is not a folder", "pass --rttm <folder with <recording>.rttm files>")
        rttms = sorted(rf.rglob("*.rttm"))
        if not rttms:
            raise BadInput(rf, "contains no .rttm files", "pass the folder holding the RTTMs")
    by_stem = {r.stem: r for r in rttms}
    rows, manifest, skipped, seg_s, pause_s = [], [], [], [], []
    for i, p in enumerate(files):
        rel = p.relative_to(folder).as_posix()
        if log:
            log(f"[{i + 1}/{len(files)}] {rel}")
        try:
            row, lines, (sp, pa) = analyse_file(p, rel, bank, by_stem.get(p.stem))
        except BadInput as e:
            if on_bad_input != "skip":
                raise
            skipped.append({"file": rel, "reason": str(e)})
            continue
        rows.append(row)
        manifest.extend(lines)
        seg_s.extend(sp)
        pause_s.extend(pa)
    if not rows:
        raise BadInput(folder, "no recording could be analysed (all skipped)", "check the skipped list")
    if bank is not None:
        bank.mkdir(parents=True, exist_ok=True)
        atomic_write_text(bank / "manifest.jsonl", "".join(json.dumps(m) + "\n" for m in manifest))

    profile = profile_dict(rows, folder, bank, rttms, seg_s, pause_s)
    if skipped:
        profile["skipped"] = skipped
    return rows, profile


def profile_dict(rows: list[dict], folder: Path, bank: Path | None, rttms: list[Path], seg_s, pause_s) -> dict:
    """The ``fitted:`` block (see the module docstring of fit.py and the report for the key mapping)."""
    col = lambda k: [r.get(k) for r in rows]  # noqa: E731
    fitted: dict = {}
    for key, (src, width, min_sd, (lo, hi)) in FEATURES.items():
        if key == "rt60_s":
            continue
        d = fit_dist(col(src), width, min_sd, lo, hi)
        if d is not None:
            fitted[key] = d
    fitted["bandwidth"] = fit_choice(col("bandwidth_class"), ["narrowband", "wideband", "fullband"])
    fitted["sample_rate"] = fit_choice([int(v) for v in col("sample_rate")])
    fitted["codec_family"] = fit_choice(col("codec_guess"))
    chain = fit_codec_chain(rows)
    if chain is not None:
        fitted["codec_chain"] = chain
    clip = [c for c in col("clipped_fraction") if c is not None]
    clipped = [c for c in clip if c > 0]
    fitted["clipping"] = {"p": _r(len(clipped) / len(clip), 3),
                          "fraction": fit_dist(clipped, 0.001, 0.0005, 0.0, 1.0) if clipped else None}
    rts = [r for r in col("rt60_s") if r is not None and np.isfinite(r)]
    wet = [r for r in rts if r > DRY_RT60_S]
    fitted["reverb"] = {"p": _r(len(wet) / len(rts), 3) if rts else None,
                        "rt60_s": fit_dist(wet, 0.05, 0.03, 0.0, 3.0) if wet else None}
    fitted["rt60_s"] = fit_dist(rts, 0.05, 0.03, 0.0, 3.0)
    shape = {fc: _med([r.get(f"noise_band_{fc}hz_db") for r in rows]) for fc in OCTAVES_HZ}
    fitted["noise_shape_db"] = {fc: _r(v, 2) for fc, v in shape.items() if v is not None} or None
    fitted["noise_bank"] = str(bank) if bank is not None else None
    fitted["noise_bank_s"] = _r(sum(r.get("noise_bank_s", 0.0) for r in rows), 1)
    fitted["speech_activity"] = {
        "activity": fit_dist(col("speech_activity"), 0.05, 0.05, 0.0, 1.0),
        "segment_s": fit_dist(seg_s, 0.5, 0.3, 0.0, 600.0),
        "pause_s": fit_dist(pause_s, 0.25, 0.2, 0.0, 600.0),
    }
    if rttms:
        fitted["turns"] = fit_turn_stats(rttms)
    return {"n_recordings": len(rows), "folder": str(folder), "fitted": fitted}


# --------------------------------------------------------------------------------------------------
# writing

def profile_yaml(profile: dict) -> str:
    import yaml

    head = (f"# fitted by synth fit from {profile['n_recordings']} recordings in {profile['folder']}\n"
            "# Distributions use synth.dist syntax. Mapping to build keys: see the fit report (.fit.md).\n"
            "# Blind estimates: see synth/profiles/estimate.py for methods and measured errors.\n")
    body = {"fitted": profile["fitted"]}
    if profile.get("skipped"):
        body["skipped"] = profile["skipped"]
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110)


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
| `duration_s` | recording durations, s | `scenario.duration_s` (items last as long as the recordings) |
| `low_band_rel_db` | speech level below 200 Hz re 300-1000 Hz, dB | band-limit low edge (300 Hz telephone high-pass when < -20 dB, else 50 Hz) |
| `noise_level_dbov`, `noise_sd_db`, `noise_tilt_db_per_oct` | noise floor, its SD over 32 ms frames, spectral slope | checks only (implied by `snr_db` + noise bank); `noise_sd_db` can drive a noise-level random walk |
| `bandwidth` | narrowband / wideband / fullband class weights | band-limit class when no edge was fitted (NB: 8 kHz; WB: 16 kHz; FB: none) |
| `sample_rate` | file sample rates | `sample_rate` of the output |
| `effective_bandwidth_hz` | measured band edge | recorder `bandlimit.high_hz` (drawn per item; the refit edge lands within ~30 Hz) |
| `codec_family` | coarse family guesses (or "cannot tell") | recorder `codec` drawing codecs of that family (synth.profiles.apply.CODEC_FAMILIES) for the share of recordings with a family |
| `codec_chain` | vocoder family before the last hop per narrowband recording (g711_only / amr_nb / gsm_fr / opus_nb; "unknown" left out of the weights), AMR-NB modes from the rate evidence | recorder `codec` hop of that vocoder (before the last-hop codec) for the share of recordings that show one (synth.profiles.codec_chain); frame errors are not fitted |
| `clipping.p`, `clipping.fraction` | share of recordings with saturation; fraction of samples clipped in those | `clipping.p`; the threshold/drive that yields that fraction (the clipping effect takes drive_db/threshold) |
| `reverb.p`, `reverb.rt60_s` | share with blind RT60 > 0.25 s; RT60 of those | room effect `p` and `rt60_s` |
| `rt60_s` | blind RT60 of all recordings (dry speech reads 0.15-0.25 s) | reference |
| `speech_activity.*` | VAD speech ratio, segment and pause durations | conversation timing when there is no RTTM |
| `turns` | `fit_turns` output from the RTTMs | conversation scenario timing |
| `dc_offset` | mean sample value | check only |
"""


def plots_folder(out: Path) -> Path:
    return Path(out).parent / f"{Path(out).stem}_plots"


def write_outputs(rows: list[dict], profile: dict, out: Path) -> dict:
    """profile YAML, report markdown, per-recording JSON and histogram PNGs; returns their paths."""
    out = Path(out)
    atomic_write_text(out, profile_yaml(profile))
    stem = out.with_suffix("")
    atomic_write_text(stem.with_suffix(".fit.json"), json.dumps(rows, indent=1, default=_json_default) + "\n")
    plots = plots_folder(out)
    pngs = plot_histograms(rows, plots)
    md = report_markdown(rows, profile, out, pngs)
    atomic_write_text(stem.with_suffix(".fit.md"), md)
    return {"profile": out, "report": stem.with_suffix(".fit.md"), "plots": plots}


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


def plot_histograms(rows: list[dict], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, (src, width, _, _) in FEATURES.items():
        v = np.array([r.get(src) for r in rows if r.get(src) is not None and np.isfinite(r.get(src))], float)
        if v.size == 0:
            continue
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
        edges = np.arange(math.floor(v.min() / width) * width, (math.floor(v.max() / width) + 2) * width, width)
        ax.hist(v, bins=edges, color="#4477aa", edgecolor="white")
        ax.set_xlabel(src)
        ax.set_ylabel("recordings")
        ax.set_title(f"{key} (n={v.size})")
        fig.tight_layout()
        p = folder / f"{key}.png"
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
    md = [f"# Fit report: {out.name}", "",
          f"{profile['n_recordings']} recordings from `{profile['folder']}`; VAD backend: "
          f"{', '.join(sorted({r['vad_backend'] for r in rows}))}.", "",
          "## Per recording", "",
          "| " + " | ".join(c for c, _ in REPORT_COLUMNS) + " |",
          "|" + "---|" * len(REPORT_COLUMNS)]
    for r in rows:
        md.append("| " + " | ".join(_fmt(r.get(c), f) for c, f in REPORT_COLUMNS) + " |")
    md += ["", "## Fitted distributions", "", "```yaml", profile_yaml(profile).rstrip(), "```", "",
           "## How the fitted keys map to build config", "", KEY_MAPPING, "",
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
           "- RT60: blind decay-rate estimate calibrated on simulated rooms; dry speech reads 0.15-0.25 s.",
           "- Multi-channel files are down-mixed to mono before analysis."]
    if fitted.get("turns", {}).get("source", "").startswith("fallback"):
        md += ["- Turn-taking: synth.scene.fit_turns was not available; only speaker count and overlap "
               "ratio were fitted from the RTTMs (TODO: rerun once the conversation fitter lands)."]
    if profile.get("skipped"):
        md += ["", "## Skipped inputs", ""] + [f"- `{s['file']}`: {s['reason']}" for s in profile["skipped"]]
    return "\n".join(md) + "\n"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth fit", description="Fit a production profile from real recordings.")
    ap.add_argument("folder", help="folder of real recordings (any format libsndfile reads)")
    ap.add_argument("--rttm", help="folder of <recording>.rttm files (turn-taking statistics)")
    ap.add_argument("--out", required=True, help="profile YAML to write (report and plots go next to it)")
    ap.add_argument("--noise-bank", help="folder for harvested noise (default: <out folder>/noise_bank)")
    ap.add_argument("--no-noise-bank", action="store_true", help="do not export non-speech stretches")
    ap.add_argument("--on-bad-input", choices=["error", "skip"], default="error")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"--out {out}: the profile is written as YAML; give a file name ending in .yaml")
    bank = None if args.no_noise_bank else Path(args.noise_bank) if args.noise_bank else out.parent / "noise_bank"
    try:
        own = [plots_folder(out)] + ([bank] if bank is not None else [])
        rows, profile = fit_folder(args.folder, args.rttm, bank, args.on_bad_input, exclude=own,
                                   log=lambda m: print(m, file=sys.stderr))
    except SynthError:
        raise
    paths = write_outputs(rows, profile, out)
    f = profile["fitted"]
    print(f"fitted {profile['n_recordings']} recordings -> {paths['profile']}")
    print(f"report: {paths['report']}; plots: {paths['plots']}")
    if bank is not None:
        print(f"noise bank: {bank} ({f['noise_bank_s']} s)")
    return 0
