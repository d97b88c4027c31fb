"""``synth compare``: how close is a synthetic set to a sample of real production audio?

The same blind estimators (estimate.py) run on both sides; per feature, the two distributions of
per-recording values are compared with the two-sample Kolmogorov-Smirnov statistic (shape, scale-free)
and the Wasserstein-1 distance (in the feature's own unit: "the SNRs differ by 3 dB on average"), each
with a 95% bootstrap interval (resampling recordings on both sides; seeded, so reruns agree).

A feature *matches* when W1 is within its tolerance (``TOLERANCES``: a practical difference, e.g. 2 dB
of SNR, 0.1 s of RT60, the §8 figures of shared/research/profiles.md, an assumption). KS p-values are
reported too, but with a few dozen recordings per side they mostly measure sample size, so they are
not the verdict. Categorical features (bandwidth class, sample rate) use the total variation distance.

A handful of real calls gives a handful of per-recording values, too few for a distribution. So the
same comparison also runs on finer units: per ``WINDOW_S`` window (the estimators on each 3 s stretch,
with the recording's speech activity) and per speech segment (P.56 level, SNR against the recording's
noise floor, band edge of the segment's spectrum). One 30 s call gives ~10 windows and a dozen or more
segments. Windows and segments of one recording are not independent, so their bootstrap intervals
(resampling windows/segments) are narrower than the truth; they say how uncertain the distance is given
those windows. A unit is "insufficient data" only with fewer than 2 values on a side.

Outputs (default folder ``<synthetic set>/compare``): compare.md, compare.json (``features``: per
recording; ``windows``, ``segments``: the finer units), one overlaid histogram PNG per feature; the
summary tables are also printed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp, wasserstein_distance

from ..audio import active_speech_level, atomic_write_text
from ..errors import BadInput, SynthError
from ..rng import item_rng
from ..writer.manifest import audio_files, manifest_files, read_manifest
from .estimate import bandwidth, estimate_recording, long_term_spectrum
from .fit import find_audio, read_recording, rttm_segments, rttm_vad
from .vad import VadResult, detect_speech, mask_to_segments

# feature -> (unit, W1 tolerance, histogram bin width)
TOLERANCES = {
    "speech_level_dbov": ("dB", 2.0, 2.0),
    "snr_db": ("dB", 2.0, 2.5),
    "noise_level_dbov": ("dB", 3.0, 3.0),
    "noise_sd_db": ("dB", 1.0, 0.5),
    "noise_tilt_db_per_oct": ("dB/oct", 2.0, 1.0),
    "effective_bandwidth_hz": ("Hz", 500.0, 500.0),
    "rt60_s": ("s", 0.1, 0.05),
    "clipped_fraction": ("", 0.002, 0.001),
    "dc_offset": ("", 0.005, 0.002),
    "speech_activity": ("", 0.1, 0.05),
}
CATEGORICAL = {"bandwidth_class": 0.1, "sample_rate": 0.1}   # total variation tolerance
N_BOOT = 1000
WINDOW_S = 3.0
MIN_SEGMENT_S = 0.5
UNIT_FEATURES = ("speech_level_dbov", "snr_db", "noise_level_dbov", "effective_bandwidth_hz", "speech_activity")


def analyse_units(path: Path, rel: str, rttm: Path | None = None) -> dict[str, list[dict]]:
    """Estimator rows for one recording at three units: the whole ``recording``, each ``window``
    (WINDOW_S, the last one kept if >= half a window) and each speech ``segment`` (>= MIN_SEGMENT_S)."""
    x, sr, raw = read_recording(path)
    dur = len(x) / sr
    v = rttm_vad(rttm_segments(rttm, path.stem), dur) if rttm is not None else detect_speech(x, sr)
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


def analyse_real(folder: Path, rttm_folder: Path | None = None, log=None) -> dict[str, list[dict]]:
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(folder, "is not a folder", "pass a folder of real recordings")
    files = find_audio(folder)
    if not files:
        raise BadInput(folder, "contains no audio files", "pass a folder of real recordings")
    rttms = {p.stem: p for p in Path(rttm_folder).rglob("*.rttm")} if rttm_folder else {}
    units = []
    for i, p in enumerate(files):
        if log:
            log(f"real [{i + 1}/{len(files)}] {p.name}")
        units.append(analyse_units(p, p.relative_to(folder).as_posix(), rttms.get(p.stem)))
    return _merge(units)


def analyse_set(set_dir: Path, log=None) -> dict[str, list[dict]]:
    """Rows for a synthetic set: every item of its manifest (a tar-sharded set's audio unpacked to a
    scratch folder for the length of the analysis)."""
    set_dir = Path(set_dir)
    items = read_manifest(set_dir, need=("audio_filepath",))
    units = []
    with tempfile.TemporaryDirectory(prefix="synth-compare-") as scratch:
        audio = audio_files(set_dir, items, Path(scratch))
        for i, item in enumerate(items):
            rel = item["audio_filepath"]
            if log:
                log(f"synthetic [{i + 1}/{len(items)}] {rel}")
            u = analyse_units(audio[str(item["id"])], rel)
            u["recording"][0]["id"] = item.get("id")
            units.append(u)
    return _merge(units)


def _values(rows: list[dict], key: str) -> np.ndarray:
    v = [r.get(key) for r in rows]
    return np.array([x for x in v if isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x)], float)


def ks_stat(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic: largest gap between the two empirical CDFs (as scipy's ks_2samp)."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                               - np.searchsorted(b, grid, side="right") / b.size)))


def _ci(stat, a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> list[float]:
    boots = np.empty(N_BOOT)
    for k in range(N_BOOT):
        boots[k] = stat(rng.choice(a, size=a.size), rng.choice(b, size=b.size))
    return [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]


def compare_rows(real: list[dict], synth: list[dict], seed: int = 0, level: str = "recording") -> list[dict]:
    """One result per feature: n, medians, KS (stat, p, CI), W1 (value, CI), tolerance and verdict.
    ``level``: the unit the rows are (recording, window, segment); finer units compare the numeric
    features they carry and no categories."""
    out = []
    for key, (unit, tol, _) in TOLERANCES.items():
        if level != "recording" and key not in UNIT_FEATURES:
            continue
        a, b = _values(real, key), _values(synth, key)
        res = {"feature": key, "unit": unit, "tolerance": tol, "n_real": int(a.size), "n_synthetic": int(b.size),
               "level": level}
        if a.size < 2 or b.size < 2:
            if level != "recording" and a.size + b.size == 0:
                continue
            out.append(res | {"verdict": f"insufficient data (fewer than 2 {level}s on a side)"})
            continue
        ks = ks_2samp(a, b)
        w1 = float(wasserstein_distance(a, b))
        rng = item_rng(seed, key if level == "recording" else f"{key}/{level}", "compare/bootstrap")
        res |= {"median_real": float(np.median(a)), "median_synthetic": float(np.median(b)),
                "ks": float(ks.statistic), "ks_p": float(ks.pvalue),
                "ks_ci": _ci(ks_stat, a, b, rng),
                "w1": w1, "w1_ci": _ci(wasserstein_distance, a, b, rng),
                "verdict": "match" if w1 <= tol else "differs"}
        out.append(res)
    for key, tol in CATEGORICAL.items():
        a = [str(r.get(key)) for r in real if r.get(key) is not None]
        b = [str(r.get(key)) for r in synth if r.get(key) is not None]
        if not a or not b:
            continue
        cats = sorted(set(a) | set(b))
        pa = np.array([a.count(c) / len(a) for c in cats])
        pb = np.array([b.count(c) / len(b) for c in cats])
        tv = float(0.5 * np.abs(pa - pb).sum())
        out.append({"feature": key, "unit": "", "tolerance": tol, "n_real": len(a), "n_synthetic": len(b),
                    "categories": cats, "p_real": pa.round(3).tolist(), "p_synthetic": pb.round(3).tolist(),
                    "tv": tv, "verdict": "match" if tv <= tol else "differs"})
    return out


def _f(x, nd=2):
    return "–" if x is None else f"{x:.{nd}g}" if abs(x) < 0.01 and x != 0 else f"{x:.{nd}f}"


def summary_table(results: list[dict]) -> str:
    lines = ["| feature | n real / synth | median real | median synth | KS [95% CI] | KS p | W1 [95% CI] | "
             "tolerance | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        n = f"{r['n_real']} / {r['n_synthetic']}"
        if "tv" in r:
            dist = ", ".join(f"{c}: {p:.2f}/{q:.2f}" for c, p, q in zip(r["categories"], r["p_real"], r["p_synthetic"]))
            lines.append(f"| {r['feature']} | {n} | {dist} | | | | TV {r['tv']:.2f} | TV <= {r['tolerance']} | "
                         f"{r['verdict']} |")
        elif "ks" in r:
            lines.append(f"| {r['feature']} | {n} | {_f(r['median_real'])} | {_f(r['median_synthetic'])} | "
                         f"{r['ks']:.2f} [{r['ks_ci'][0]:.2f}, {r['ks_ci'][1]:.2f}] | {r['ks_p']:.3f} | "
                         f"{_f(r['w1'])} [{_f(r['w1_ci'][0])}, {_f(r['w1_ci'][1])}] {r['unit']} | "
                         f"<= {r['tolerance']} {r['unit']} | {r['verdict']} |")
        else:
            lines.append(f"| {r['feature']} | {n} | | | | | | | {r['verdict']} |")
    return "\n".join(lines)


def plot_overlays(real: list[dict], synth: list[dict], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, (unit, _, width) in TOLERANCES.items():
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
        ax.set_xlabel(f"{key} [{unit}]" if unit else key)
        ax.set_ylabel("density")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        p = folder / f"{key}.png"
        fig.savefig(p)
        plt.close(fig)
        paths.append(p)
    return paths


def compare(real_folder, set_dir, out_dir=None, rttm_folder=None, seed: int = 0, log=None) -> dict:
    """Run the estimators on both sides, compare per recording, per window and per segment, write
    compare.md/json and plots into ``out_dir``."""
    real = analyse_real(Path(real_folder), Path(rttm_folder) if rttm_folder else None, log)
    set_dir = Path(set_dir)
    synth = analyse_set(set_dir, log) if manifest_files(set_dir) else analyse_real(set_dir, None, log)
    results = compare_rows(real["recording"], synth["recording"], seed)
    finer = {u: compare_rows(real[u], synth[u], seed, level=u) for u in ("window", "segment")}
    out = Path(out_dir) if out_dir else set_dir / "compare"
    out.mkdir(parents=True, exist_ok=True)
    pngs = plot_overlays(real["recording"], synth["recording"], out / "plots")
    table = summary_table(results)
    tables = {u: summary_table(r) for u, r in finer.items()}
    n_match = sum(r["verdict"] == "match" for r in results)
    n_judged = sum(r["verdict"] in ("match", "differs") for r in results)
    counts = {u: (len(real[u]), len(synth[u])) for u in ("recording", "window", "segment")}
    md = [f"# Real vs synthetic: {Path(real_folder).name} vs {set_dir.name}", "",
          f"{len(real['recording'])} real recordings, {len(synth['recording'])} synthetic items; {n_match} of "
          f"{n_judged} per-recording features match.", "",
          "Match rule: Wasserstein-1 distance within the feature's tolerance (categorical: total variation). "
          f"Intervals: {N_BOOT} bootstrap resamples of the unit compared, seed {seed}.", "",
          "## Per recording", "", table, ""]
    for u, t in tables.items():
        md += [f"## Per {u} ({counts[u][0]} real / {counts[u][1]} synthetic)", "",
               f"{WINDOW_S:g} s windows" if u == "window" else f"VAD/RTTM speech segments >= {MIN_SEGMENT_S:g} s",
               "(not independent within a recording: intervals are optimistic)", "", t, ""]
    md += ["## Plots", ""] + [f"![{p.stem}](plots/{p.name})" for p in pngs]
    atomic_write_text(out / "compare.md", "\n".join(md) + "\n")
    payload = {"real": str(real_folder), "synthetic": str(set_dir), "n_real": len(real["recording"]),
               "n_synthetic": len(synth["recording"]), "units": {u: {"real": a, "synthetic": b} for u, (a, b) in counts.items()},
               "seed": seed, "features": results, "windows": finer["window"], "segments": finer["segment"]}
    atomic_write_text(out / "compare.json", json.dumps(payload, indent=1) + "\n")
    return {"results": results, "finer": finer, "table": table, "tables": tables, "out": out, "n_match": n_match,
            "n_judged": n_judged}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth compare",
                                 description="Compare condition distributions of real recordings and a synthetic set.")
    ap.add_argument("real", help="folder of real recordings")
    ap.add_argument("synthetic", help="synthetic set folder (with manifest.jsonl) or a folder of audio")
    ap.add_argument("--out", help="output folder (default: <synthetic>/compare)")
    ap.add_argument("--rttm", help="RTTM folder for the real recordings (reference speech activity)")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    args = ap.parse_args(argv)
    try:
        res = compare(args.real, args.synthetic, args.out, args.rttm, args.seed, log=lambda m: print(m, file=sys.stderr))
    except SynthError:
        raise
    print("per recording:\n" + res["table"])
    for u, t in res["tables"].items():
        print(f"\nper {u}:\n{t}")
    print(f"\n{res['n_match']} of {res['n_judged']} per-recording features match; report: {res['out'] / 'compare.md'}")
    return 0
