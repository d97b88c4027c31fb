"""``synth compare``: is a synthetic set as close to real production audio as another real sample is?

The same blind estimators (estimate.py) run on both sides. Per feature, the per-recording values are
compared with the Wasserstein-1 distance (W1, in the feature's own unit: "the SNRs differ by 3 dB on
average"; categorical features: total variation, TV). Two samples of the same real population differ
too, so the verdict is judged against **real-vs-real**, never a fixed tolerance:

* Split the real recordings at random into halves A (floor(n/2) recordings) and B, ``N_SPLITS`` times
  (seeded). With m = min(|B|, synthetic items): real-vs-real d_rr = W1(A, m recordings of B drawn at
  random), real-vs-synthetic d_rs = W1(A, m synthetic items drawn at random): the same A and the same
  sizes on both sides, so sample size moves both alike.
* Verdict **"as close as another sample of real recordings"** when the median of d_rs over the splits is
  at most the 95th percentile of d_rr; otherwise **"farther than sampling explains"**. Reported next to it:
  d_rs (median, [2.5, 97.5] percentiles over the splits), d_rr (median, 95th percentile) and the share of
  splits whose real-vs-real distance reaches the median real-vs-synthetic one (a p-value, "how often two
  real samples are this far apart"). Fewer than ``MIN_REAL`` real recordings (or 2 synthetic items): no
  reference, "insufficient data".

The full-sample distances are reported too (KS statistic and p-value, W1 or TV, 95% bootstrap intervals
resampling recordings on both sides); they are descriptive: at full sample sizes they are not comparable
with the half-sample reference.

A handful of real calls gives a handful of per-recording values. So the same comparison also runs on finer
units: per ``WINDOW_S`` window (the estimators on each 3 s stretch, with the recording's speech activity)
and per speech segment (P.56 level, SNR against the recording's noise floor, band edge of the segment's
spectrum). For those the halves are halves of the *recordings* (their windows/segments go together, and m
counts recordings); with fewer than ``MIN_REAL`` real recordings the units themselves are split, which
ignores that units of one recording are alike: that reference is too narrow and its verdict strict.

Outputs (default folder ``<synthetic set>/compare``): compare.md, compare.json (``features``: per
recording; ``windows``, ``segments``: the finer units), one overlaid histogram PNG per feature; the
verdict tables are also printed.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp, wasserstein_distance

from ..audio import active_speech_level, atomic_write_text
from ..errors import BadInput, ConfigError
from ..progress import progress_bar
from ..rng import item_rng
from ..writer.manifest import audio_files, manifest_files, read_manifest
from .estimate import bandwidth, estimate_recording, long_term_spectrum
from ..writer.rttm import speech_segments
from .fit import find_audio, read_recording, rttm_vad
from .vad import VadResult, detect_speech, mask_to_segments

# feature -> (unit, histogram bin width)
FEATURES = {
    "speech_level_dbov": ("dB", 2.0),
    "snr_db": ("dB", 2.5),
    "noise_level_dbov": ("dB", 3.0),
    "noise_sd_db": ("dB", 0.5),
    "noise_tilt_db_per_oct": ("dB/oct", 1.0),
    "effective_bandwidth_hz": ("Hz", 500.0),
    "rt60_s": ("s", 0.05),
    "clipped_fraction": ("", 0.001),
    "dc_offset": ("", 0.002),
    "speech_activity": ("", 0.05),
    "duration_s": ("s", 1.0),
}
CATEGORICAL = ("bandwidth_class", "sample_rate")
N_BOOT = 1000
N_SPLITS = 200
TRIM = 0.05                 # the verdict's distance leaves out the outer 5% of each sample (trimmed_w1)
MIN_REAL = 4                # real recordings needed for a real-vs-real reference (2 per half)
CLOSE = "as close as another sample of real recordings"
FAR = "farther than sampling explains"
WINDOW_S = 3.0
MIN_SEGMENT_S = 0.5
UNIT_FEATURES = ("speech_level_dbov", "snr_db", "noise_level_dbov", "effective_bandwidth_hz", "speech_activity")


def analyse_units(path: Path, rel: str, rttm: Path | None = None, channel: int | None = None) -> dict[str, list[dict]]:
    """Estimator rows for one recording at three units: the whole ``recording``, each ``window``
    (WINDOW_S, the last one kept if >= half a window) and each speech ``segment`` (>= MIN_SEGMENT_S).
    ``channel``: that channel of a two-channel call alone (one party: synth.profiles.stereo), not the downmix."""
    if channel is None:
        x, sr, raw = read_recording(path)
        dur = len(x) / sr
        v = rttm_vad(speech_segments(rttm, path.stem), dur) if rttm is not None else detect_speech(x, sr)
    else:
        from .stereo import read_channels, rttm_channel_segments

        chans, sr, raws = read_channels(path)
        x, raw, dur = chans[channel], raws[channel], len(chans[channel]) / sr
        v = rttm_vad(rttm_channel_segments(rttm, path.stem, chans, sr)[channel], dur) if rttm is not None \
            else detect_speech(x, sr)
    whole = {"file": rel, **estimate_recording(x, sr, vad=v, raw_pcm16=raw)}
    windows = []
    per = int(round(WINDOW_S / v.frame_s))
    for k, a in enumerate(range(0, len(v.probs), per)):
        seg = x[int(a * v.frame_s * sr): int((a + per) * v.frame_s * sr)]
        if len(seg) < 0.5 * WINDOW_S * sr or not (v.probs[a:a + per] >= 0.5).any():
            continue
        r = estimate_recording(seg, sr, vad=VadResult(v.probs[a:a + per], v.backend, v.frame_s))
        windows.append({"file": rel, "window": k, **{f: r.get(f) for f in UNIT_FEATURES}})
    segments = []
    for a, b in mask_to_segments(v.probs >= 0.5, v.frame_s, min_speech_s=MIN_SEGMENT_S, min_silence_s=0.2):
        seg = x[int(a * sr): int(b * sr)]
        level = active_speech_level(seg, sr).level_dbov
        if not np.isfinite(level):
            continue
        f, ltas = long_term_spectrum(seg, sr, None, v.frame_s)
        segments.append({"file": rel, "start_s": round(a, 3), "speech_level_dbov": level,
                         "snr_db": level - whole["noise_level_dbov"],
                         "effective_bandwidth_hz": bandwidth(f, ltas, sr)["effective_bandwidth_hz"]})
    return {"recording": [whole], "window": windows, "segment": segments}


def _merge(units: list[dict]) -> dict[str, list[dict]]:
    return {u: [r for d in units for r in d[u]] for u in ("recording", "window", "segment")}


def analyse_real(folder: Path, rttm_folder: Path | None = None, progress: bool = False,
                 channel: int | None = None) -> dict[str, list[dict]]:
    """Rows for every audio file under ``folder`` (``progress``: a progress bar on stderr; ``channel``: that
    channel of each two-channel file)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(folder, "is not a folder", "pass a folder of real recordings")
    files = find_audio(folder)
    if not files:
        raise BadInput(folder, "contains no audio files", "pass a folder of real recordings")
    rttms = {p.stem: p for p in Path(rttm_folder).rglob("*.rttm")} if rttm_folder else {}
    units = []
    label = f"measuring {folder.name}" + (f" (channel {channel})" if channel is not None else "")
    with progress_bar(len(files), label=label, stderr=True, show=progress) as bar:
        for p in files:
            units.append(analyse_units(p, p.relative_to(folder).as_posix(), rttms.get(p.stem), channel))
            bar.advance(units[-1]["recording"][0]["duration_s"])
    return _merge(units)


def analyse_set(set_dir: Path, progress: bool = False, channel: int | None = None) -> dict[str, list[dict]]:
    """Rows for a synthetic set: every item of its manifest (a tar-sharded set's audio unpacked to a
    scratch folder for the length of the analysis; ``channel``: that channel of each stereo item)."""
    set_dir = Path(set_dir)
    items = read_manifest(set_dir, need=("audio_filepath",))
    units = []
    label = f"measuring {set_dir.name}" + (f" (channel {channel})" if channel is not None else "")
    with tempfile.TemporaryDirectory(prefix="synth-compare-") as scratch, \
            progress_bar(len(items), label=label, stderr=True, show=progress) as bar:
        audio = audio_files(set_dir, items, Path(scratch))
        for item in items:
            u = analyse_units(audio[str(item["id"])], item["audio_filepath"], channel=channel)
            u["recording"][0]["id"] = item.get("id")
            units.append(u)
            bar.advance(u["recording"][0]["duration_s"])
    return _merge(units)


def _finite(x) -> bool:
    return isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool) and bool(np.isfinite(x))


def _values(rows: list[dict], key: str) -> np.ndarray:
    return np.array([r[key] for r in rows if _finite(r.get(key))], float)


def _by_recording(rows: list[dict], key: str, categorical: bool = False) -> list[list]:
    """The values of ``key`` grouped by the recording (``file``) they come from, in first-seen order."""
    groups: dict = {}
    for r in rows:
        v = r.get(key)
        if categorical and v is not None:
            groups.setdefault(r.get("file"), []).append(str(v))
        elif not categorical and _finite(v):
            groups.setdefault(r.get("file"), []).append(float(v))
    return list(groups.values())


def ks_stat(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic: largest gap between the two empirical CDFs (as scipy's ks_2samp)."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                               - np.searchsorted(b, grid, side="right") / b.size)))


def trimmed_w1(a: np.ndarray, b: np.ndarray, trim: float = None) -> float:
    """Wasserstein-1 distance between the central ``1 - 2 trim`` of two samples: the mean gap between their
    quantile functions over quantiles ``trim`` .. ``1 - trim`` (exact for the empirical step functions; with
    trim 0, scipy's wasserstein_distance). In the values' unit; one outlying recording cannot decide it."""
    trim = TRIM if trim is None else trim
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    q = np.concatenate([np.arange(1, a.size) / a.size, np.arange(1, b.size) / b.size, [trim, 1.0 - trim]])
    q = np.unique(q[(q >= trim) & (q <= 1.0 - trim)])
    mid = (q[:-1] + q[1:]) / 2
    qa = a[np.minimum((mid * a.size).astype(int), a.size - 1)]
    qb = b[np.minimum((mid * b.size).astype(int), b.size - 1)]
    return float(np.sum(np.abs(qa - qb) * np.diff(q)) / (1.0 - 2 * trim))


def tv_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between the category shares of two integer-coded samples."""
    k = int(max(a.max(), b.max())) + 1
    return float(0.5 * np.abs(np.bincount(a, minlength=k) / a.size - np.bincount(b, minlength=k) / b.size).sum())


def _ci(stat, a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> list[float]:
    boots = np.empty(N_BOOT)
    for k in range(N_BOOT):
        boots[k] = stat(rng.choice(a, size=a.size), rng.choice(b, size=b.size))
    return [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]


def real_vs_real(real: list, synth: list, dist, rng: np.random.Generator, n_splits: int = N_SPLITS) -> dict | None:
    """The module docstring's rule on groups of values (one group per recording): ``real`` split into halves
    A / B ``n_splits`` times, d_rr = dist(A, m groups of B), d_rs = dist(A, m synthetic groups), m =
    min(|B|, len(synth)). None without enough groups (``MIN_REAL`` real, 2 synthetic)."""
    if len(real) < MIN_REAL or len(synth) < 2:
        return None
    rv, rg = np.concatenate([np.asarray(g) for g in real]), np.repeat(np.arange(len(real)), [len(g) for g in real])
    sv, sg = np.concatenate([np.asarray(g) for g in synth]), np.repeat(np.arange(len(synth)), [len(g) for g in synth])
    half = len(real) // 2
    m = min(len(real) - half, len(synth))
    rr, rs = np.empty(n_splits), np.empty(n_splits)
    for k in range(n_splits):
        order = rng.permutation(len(real))
        in_a, in_b, in_s = np.zeros(len(real), bool), np.zeros(len(real), bool), np.zeros(len(synth), bool)
        in_a[order[:half]] = True
        in_b[rng.choice(order[half:], size=m, replace=False)] = True
        in_s[rng.choice(len(synth), size=m, replace=False)] = True
        a = rv[in_a[rg]]
        rr[k], rs[k] = dist(a, rv[in_b[rg]]), dist(a, sv[in_s[sg]])
    d_rs, p95 = float(np.median(rs)), float(np.percentile(rr, 95))
    return {"n_half": half, "n_matched": m, "splits": n_splits,
            "real_vs_synthetic": d_rs, "real_vs_synthetic_interval": [float(np.percentile(rs, 2.5)),
                                                                       float(np.percentile(rs, 97.5))],
            "real_vs_real_median": float(np.median(rr)), "real_vs_real_p95": p95,
            "p_real_vs_real": float(np.mean(rr >= d_rs)),
            "verdict": CLOSE if d_rs <= p95 else FAR}


def _judge(res: dict, real_groups: list, synth_groups: list, dist, rng, n_splits: int, level: str) -> dict:
    """Add the real-vs-real reference and verdict to one feature's result. Finer units are split by recording;
    with fewer than MIN_REAL real recordings, by unit (flagged in ``split_by``)."""
    split_by = "recording"
    if level != "recording" and len(real_groups) < MIN_REAL:
        real_groups, synth_groups = [[v] for g in real_groups for v in g], [[v] for g in synth_groups for v in g]
        split_by = f"{level} (fewer than {MIN_REAL} recordings: units of a recording are not independent)"
    ref = real_vs_real(real_groups, synth_groups, dist, rng, n_splits)
    if ref is None:
        return res | {"verdict": f"insufficient data (a real-vs-real reference needs {MIN_REAL} real recordings "
                                 "and 2 synthetic)"}
    return res | {"reference": ref | {"split_by": split_by}, "verdict": ref["verdict"]}


def compare_rows(real: list[dict], synth: list[dict], seed: int = 0, level: str = "recording",
                 n_splits: int = N_SPLITS) -> list[dict]:
    """One result per feature: n, medians, full-sample KS (stat, p, CI) and W1 (value, CI), the real-vs-real
    reference and the verdict (module docstring). ``level``: the unit the rows are (recording, window,
    segment); finer units compare the numeric features they carry and no categories."""
    out = []
    for key, (unit, _) in FEATURES.items():
        if level != "recording" and key not in UNIT_FEATURES:
            continue
        a, b = _values(real, key), _values(synth, key)
        res = {"feature": key, "unit": unit, "n_real": int(a.size), "n_synthetic": int(b.size), "level": level}
        if a.size < 2 or b.size < 2:
            if level != "recording" and a.size + b.size == 0:
                continue
            out.append(res | {"verdict": f"insufficient data (fewer than 2 {level}s on a side)"})
            continue
        ks = ks_2samp(a, b)
        tag = key if level == "recording" else f"{key}/{level}"
        rng = item_rng(seed, tag, "compare/bootstrap")
        res |= {"median_real": float(np.median(a)), "median_synthetic": float(np.median(b)),
                "ks": float(ks.statistic), "ks_p": float(ks.pvalue), "ks_ci": _ci(ks_stat, a, b, rng),
                "w1": float(wasserstein_distance(a, b)), "w1_ci": _ci(wasserstein_distance, a, b, rng)}
        out.append(_judge(res, _by_recording(real, key), _by_recording(synth, key), trimmed_w1,
                          item_rng(seed, tag, "compare/split"), n_splits, level))
    if level != "recording":
        return out
    for key in CATEGORICAL:
        ga, gb = _by_recording(real, key, True), _by_recording(synth, key, True)
        a, b = [v for g in ga for v in g], [v for g in gb for v in g]
        if not a or not b:
            continue
        cats = sorted(set(a) | set(b))
        code = {c: i for i, c in enumerate(cats)}
        ca, cb = np.array([code[v] for v in a]), np.array([code[v] for v in b])
        rng = item_rng(seed, key, "compare/bootstrap")
        res = {"feature": key, "unit": "", "n_real": len(a), "n_synthetic": len(b), "level": level,
               "categories": cats, "p_real": (np.bincount(ca, minlength=len(cats)) / len(a)).round(3).tolist(),
               "p_synthetic": (np.bincount(cb, minlength=len(cats)) / len(b)).round(3).tolist(),
               "tv": tv_distance(ca, cb), "tv_ci": _ci(tv_distance, ca, cb, rng)}
        out.append(_judge(res, [[code[v] for v in g] for g in ga], [[code[v] for v in g] for g in gb], tv_distance,
                          item_rng(seed, key, "compare/split"), n_splits, level))
    return out


def _f(x, nd=2):
    return "–" if x is None else f"{x:.{nd}g}" if abs(x) < 0.01 and x != 0 else f"{x:.{nd}f}"


def _medians(r: dict) -> str:
    if "tv" in r:
        return ", ".join(f"{c}: {p:.2f}/{q:.2f}" for c, p, q in zip(r["categories"], r["p_real"], r["p_synthetic"]))
    return f"{_f(r['median_real'])} / {_f(r['median_synthetic'])}" if "median_real" in r else ""


def summary_table(results: list[dict]) -> str:
    """The verdict table: real-vs-synthetic distance at matched sizes next to the real-vs-real reference."""
    lines = ["| feature | n real / synth | median real / synth | real–synthetic [95%] | real–real median, 95th pct | "
             "real–real ≥ | halves | verdict |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        ref, unit = r.get("reference"), (" " + r["unit"]) if r["unit"] else ""
        if ref is None:
            lines.append(f"| {r['feature']} | {r['n_real']} / {r['n_synthetic']} | {_medians(r)} | | | | | "
                         f"{r['verdict']} |")
            continue
        d = "TV " if "tv" in r else "W1 "
        lo, hi = ref["real_vs_synthetic_interval"]
        lines.append(f"| {r['feature']} | {r['n_real']} / {r['n_synthetic']} | {_medians(r)} | "
                     f"{d}{_f(ref['real_vs_synthetic'])} [{_f(lo)}, {_f(hi)}]{unit} | "
                     f"{_f(ref['real_vs_real_median'])}, {_f(ref['real_vs_real_p95'])}{unit} | "
                     f"{ref['p_real_vs_real']:.2f} | {ref['n_half']} vs {ref['n_matched']} | {r['verdict']} |")
    return "\n".join(lines)


def full_sample_table(results: list[dict]) -> str:
    """Descriptive distances between all real and all synthetic values, with 95% bootstrap intervals."""
    lines = ["| feature | n real / synth | KS [95% CI] | KS p | W1 or TV [95% CI] |", "|---|---|---|---|---|"]
    for r in results:
        n = f"{r['n_real']} / {r['n_synthetic']}"
        if "tv" in r:
            lines.append(f"| {r['feature']} | {n} | | | TV {r['tv']:.2f} [{r['tv_ci'][0]:.2f}, {r['tv_ci'][1]:.2f}] |")
        elif "ks" in r:
            lines.append(f"| {r['feature']} | {n} | {r['ks']:.2f} [{r['ks_ci'][0]:.2f}, {r['ks_ci'][1]:.2f}] | "
                         f"{r['ks_p']:.3f} | {_f(r['w1'])} [{_f(r['w1_ci'][0])}, {_f(r['w1_ci'][1])}] {r['unit']} |")
    return "\n".join(lines)


# what moves each feature in a build: (when the synthetic median is higher, when it is lower)
LEVERS = {
    "speech_level_dbov": ("lower level.speech_dbov (a fitted profile: fitted.level_dbov)", "raise level.speech_dbov"),
    "snr_db": ("lower noise.snr_db", "raise noise.snr_db"),
    "noise_level_dbov": ("raise noise.snr_db (the noise sits at the speech level minus the SNR)", "lower noise.snr_db"),
    "noise_sd_db": ("steadier noise: noise.walk_sd_db, noise.bursts_per_min, another noise folder",
                    "more varied noise: noise.walk_sd_db, noise.bursts_per_min, a larger noise bank"),
    "noise_tilt_db_per_oct": ("noise with less high-frequency energy: noise.shape_db or sources.noise",
                              "noise with more high-frequency energy: noise.shape_db or sources.noise"),
    "effective_bandwidth_hz": ("a narrower channel (channel=..., the recorder's band limit)", "a wider channel"),
    "rt60_s": ("less reverberation: room.p, room.rt60_s", "more reverberation: room.p, room.rt60_s"),
    "clipped_fraction": ("lower level.clipping.p", "raise level.clipping.p"),
    "speech_activity": ("more pauses: scenario pauses, longer items", "less padding: shorter pauses, scenario.duration_s"),
    "duration_s": ("shorter items: scenario.duration_s", "longer items: scenario.duration_s"),
}
DRY_SOURCE = ("the set has no room stage, so the reading comes from the source speech and the channel: use drier "
              "source speech (sources.speech), or accept the gap (a build cannot remove reverberation)")


def levers(results: list[dict], has_room: bool | None = None) -> list[str]:
    """One line per per-recording feature judged far: which way the synthetic set is off and what moves it."""
    out = []
    for r in results:
        base = r["feature"].split(".")[-1]
        if r.get("verdict") != FAR or base not in LEVERS or r.get("median_real") is None:
            continue
        higher = r["median_synthetic"] > r["median_real"]
        hint = LEVERS[base][0 if higher else 1]
        if base == "rt60_s" and higher and has_room is False:
            hint = DRY_SOURCE
        out.append(f"- `{r['feature']}`: synthetic {'higher' if higher else 'lower'} "
                   f"({_f(r['median_synthetic'])} vs {_f(r['median_real'])}): {hint}")
    return out


def set_has_room(set_dir: Path) -> bool | None:
    """Whether any item of a built set went through a room (slice ``rt60_bin`` other than dry); None: no manifest."""
    if not manifest_files(set_dir):
        return None
    items = read_manifest(set_dir, need=("audio_filepath",))
    return any((it.get("slice") or {}).get("rt60_bin", "dry") != "dry" for it in items)


def plot_overlays(real: list[dict], synth: list[dict], folder: Path, prefix: str = "") -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, (unit, width) in FEATURES.items():
        a, b = _values(real, key), _values(synth, key)
        if a.size == 0 and b.size == 0:
            continue
        both = np.concatenate([a, b])
        lo, hi = math.floor(both.min() / width) * width, (math.floor(both.max() / width) + 1) * width
        bins = np.arange(lo, hi + width / 2, width)
        if len(bins) > 80:
            bins = np.linspace(lo, hi, 41)
        fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=100)
        if a.size:
            ax.hist(a, bins=bins, density=True, alpha=0.55, color="#4477aa", label=f"real (n={a.size})")
        if b.size:
            ax.hist(b, bins=bins, density=True, alpha=0.55, color="#ee6677", label=f"synthetic (n={b.size})")
        ax.set_xlabel(f"{prefix}{key} [{unit}]" if unit else f"{prefix}{key}")
        ax.set_ylabel("density")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        p = folder / f"{prefix}{key}.png"
        fig.savefig(p)
        plt.close(fig)
        paths.append(p)
    return paths


def compare(real_folder, set_dir, out_dir=None, rttm_folder=None, seed: int = 0, progress: bool = False,
            n_splits: int = N_SPLITS) -> dict:
    """Run the estimators on both sides, compare per recording, per window and per segment against the
    real-vs-real reference, write compare.md/json and plots into ``out_dir``."""
    from ..outdir import make_folder

    set_dir = Path(set_dir)
    out = Path(out_dir) if out_dir else set_dir / "compare"
    make_folder(out, "--out")  # before the measuring, which takes minutes
    legs = two_channel_legs(Path(real_folder), set_dir)
    if legs is None:
        real = analyse_real(Path(real_folder), Path(rttm_folder) if rttm_folder else None, progress)
        synth = analyse_set(set_dir, progress) if manifest_files(set_dir) else analyse_real(set_dir, None, progress)
        results = compare_rows(real["recording"], synth["recording"], seed, n_splits=n_splits)
        finer = {u: compare_rows(real[u], synth[u], seed, level=u, n_splits=n_splits) for u in ("window", "segment")}
        pngs = plot_overlays(real["recording"], synth["recording"], out / "plots")
    else:  # each channel of the real calls against the same channel of the set: features named <leg>.<feature>
        real, synth, results, finer, pngs = {}, {}, [], {"window": [], "segment": []}, []
        for c, leg in enumerate(legs):
            r = analyse_real(Path(real_folder), Path(rttm_folder) if rttm_folder else None, progress, channel=c)
            s = analyse_set(set_dir, progress, channel=c) if manifest_files(set_dir) else \
                analyse_real(set_dir, None, progress, channel=c)
            for u in ("recording", "window", "segment"):
                real.setdefault(u, []).extend(r[u])
                synth.setdefault(u, []).extend(s[u])
            named = lambda rows: [{**x, "feature": f"{leg}.{x['feature']}", "leg": leg} for x in rows]  # noqa: E731
            results += named(compare_rows(r["recording"], s["recording"], seed, n_splits=n_splits))
            for u in ("window", "segment"):
                finer[u] += named(compare_rows(r[u], s[u], seed, level=u, n_splits=n_splits))
            pngs += plot_overlays(r["recording"], s["recording"], out / "plots", f"{leg}.")
    table = summary_table(results)
    tables = {u: summary_table(r) for u, r in finer.items()}
    n_close = sum(r["verdict"] == CLOSE for r in results)
    n_judged = sum(r["verdict"] in (CLOSE, FAR) for r in results)
    counts = {u: (len(real[u]), len(synth[u])) for u in ("recording", "window", "segment")}
    n_real, n_synth = (len(real["recording"]), len(synth["recording"])) if legs is None else \
        (len(real["recording"]) // len(legs), len(synth["recording"]) // len(legs))
    md = [f"# Real vs synthetic: {Path(real_folder).name} vs {set_dir.name}", "",
          f"{n_real} real recordings, {n_synth} synthetic items; {n_close} of "
          f"{n_judged} per-recording features {CLOSE}."
          + (f" Two-channel calls: each channel ({', '.join(f'{c}: {leg}' for c, leg in enumerate(legs))}) of the "
             "real recordings against the same channel of the synthetic items." if legs else ""), "",
          f"Rule: the real recordings are split at random into halves, {n_splits} times (seed {seed}). Real–real: "
          "the distance between one half and m recordings of the other; real–synthetic: between the same half and "
          "m synthetic items (m = the smaller of the other half and the synthetic set; `halves` shows the sizes). "
          f"\"{CLOSE}\" when the median real–synthetic distance is at most the 95th percentile of the real–real "
          f"ones, else \"{FAR}\". Distance: Wasserstein-1 in the feature's unit (categories: total variation). "
          "[95%]: 2.5th-97.5th percentile over the splits; real–real ≥: share of splits whose real–real distance "
          "reaches the median real–synthetic one.", "",
          "## Per recording", "", table, "",
          "Full samples (descriptive; all real vs all synthetic values, "
          f"{N_BOOT} bootstrap resamples):", "", full_sample_table(results), ""]
    for u, t in tables.items():
        md += [f"## Per {u} ({counts[u][0]} real / {counts[u][1]} synthetic)", "",
               f"{WINDOW_S:g} s windows" if u == "window" else f"VAD/RTTM speech segments >= {MIN_SEGMENT_S:g} s",
               "(halves are halves of the recordings; sizes count recordings)", "", t, ""]
    hints = levers(results, set_has_room(set_dir))
    if hints:
        md += ["## What moves the features judged far", ""] + hints + [""]
    md += ["## Plots", ""] + [f"![{p.stem}](plots/{p.name})" for p in pngs]
    atomic_write_text(out / "compare.md", "\n".join(md) + "\n")
    payload = {"real": str(real_folder), "synthetic": str(set_dir), "n_real": n_real, "n_synthetic": n_synth,
               **({"legs": list(legs)} if legs else {}),
               "units": {u: {"real": a, "synthetic": b} for u, (a, b) in counts.items()},
               "seed": seed, "splits": n_splits, "rule": {"close": CLOSE, "far": FAR, "min_real": MIN_REAL},
               "features": results, "windows": finer["window"], "segments": finer["segment"]}
    atomic_write_text(out / "compare.json", json.dumps(payload, indent=1) + "\n")
    return {"results": results, "finer": finer, "table": table, "tables": tables, "out": out, "n_close": n_close,
            "n_judged": n_judged, "levers": hints}


def two_channel_legs(real_folder: Path, set_dir: Path) -> list[str] | None:
    """The leg names when both sides are two-channel calls (every real file and every synthetic item has two
    channels): the set's own leg names (its recipes), else channel 0/1's defaults; None otherwise."""
    from types import SimpleNamespace

    from .stereo import DEFAULT_LEGS, call_legs

    if not real_folder.is_dir():
        return None
    files = find_audio(real_folder)
    if not files or call_legs([SimpleNamespace(path=p) for p in files])[0] is None:
        return None
    if manifest_files(set_dir):
        items = read_manifest(set_dir, need=("audio_filepath",))
        if not items or any(int(it.get("num_channels") or 1) != 2 for it in items):
            return None
        names = [leg.get("name") for leg in ((items[0].get("recipe") or {}).get("legs") or [])]
        return names if len(names) == 2 and len(set(names)) == 2 else list(DEFAULT_LEGS)
    synth = find_audio(set_dir)
    return list(DEFAULT_LEGS) if synth and call_legs([SimpleNamespace(path=p) for p in synth])[0] else None


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth compare",
                                 description="Compare condition distributions of real recordings and a synthetic "
                                             "set, judged against two samples of the real recordings.")
    ap.add_argument("real", help="folder of real recordings")
    ap.add_argument("synthetic", help="synthetic set folder (with manifest.jsonl) or a folder of audio")
    ap.add_argument("--out", help="output folder (default: <synthetic>/compare)")
    ap.add_argument("--rttm", help="RTTM folder for the real recordings (reference speech activity)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the splits and bootstrap resamples")
    ap.add_argument("--splits", type=int, default=N_SPLITS, help=f"real-vs-real splits (default {N_SPLITS})")
    args = ap.parse_args(argv)
    if args.splits < 20:
        raise ConfigError(f"--splits {args.splits}: too few for a 95th percentile; pass 20 or more (default {N_SPLITS})")
    res = compare(args.real, args.synthetic, args.out, args.rttm, args.seed, progress=True, n_splits=args.splits)
    print("per recording:\n" + res["table"])
    for u, t in res["tables"].items():
        print(f"\nper {u}:\n{t}")
    if res["levers"]:
        print("\nwhat moves the features judged far:\n" + "\n".join(res["levers"]))
    print(f"\n{res['n_close']} of {res['n_judged']} per-recording features {CLOSE}; "
          f"report: {res['out'] / 'compare.md'}")
    return 0
