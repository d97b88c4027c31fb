"""``synth compare``: how close is a synthetic set to a sample of real production audio?

The same blind estimators (estimate.py) run on both sides; per feature, the two distributions of
per-recording values are compared with the two-sample Kolmogorov-Smirnov statistic (shape, scale-free)
and the Wasserstein-1 distance (in the feature's own unit: "the SNRs differ by 3 dB on average"), each
with a 95% bootstrap interval (resampling recordings on both sides; seeded, so reruns agree).

A feature *matches* when W1 is within its tolerance (``TOLERANCES``: a practical difference, e.g. 2 dB
of SNR, 0.1 s of RT60, the §8 figures of shared/research/profiles.md, an assumption). KS p-values are
reported too, but with a few dozen recordings per side they mostly measure sample size, so they are
not the verdict. Categorical features (bandwidth class, sample rate) use the total variation distance.

Outputs (default folder ``<synthetic set>/compare``): compare.md, compare.json, one overlaid histogram
PNG per feature; the summary table is also printed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp, wasserstein_distance

from ..audio import atomic_write_text
from ..errors import BadInput, SynthError
from ..rng import item_rng
from .fit import analyse_file, find_audio

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


def analyse_real(folder: Path, rttm_folder: Path | None = None, log=None) -> list[dict]:
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(folder, "is not a folder", "pass a folder of real recordings")
    files = find_audio(folder)
    if not files:
        raise BadInput(folder, "contains no audio files", "pass a folder of real recordings")
    rttms = {p.stem: p for p in Path(rttm_folder).rglob("*.rttm")} if rttm_folder else {}
    rows = []
    for i, p in enumerate(files):
        if log:
            log(f"real [{i + 1}/{len(files)}] {p.name}")
        rows.append(analyse_file(p, p.relative_to(folder).as_posix(), None, rttms.get(p.stem))[0])
    return rows


def analyse_set(set_dir: Path, log=None) -> list[dict]:
    """Rows for a synthetic set: every item of its manifest.jsonl (audio_filepath relative to the set)."""
    set_dir = Path(set_dir)
    man = set_dir / "manifest.jsonl"
    if not man.is_file():
        raise BadInput(set_dir, "has no manifest.jsonl", "pass the folder a synth build wrote (it holds manifest.jsonl)")
    rows = []
    lines = [ln for ln in man.read_text(encoding="utf-8").splitlines() if ln.strip()]
    for i, ln in enumerate(lines):
        try:
            item = json.loads(ln)
            rel = item["audio_filepath"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise BadInput(man, f"line {i + 1} is not a JSON object with audio_filepath",
                           "rebuild the set or fix the manifest") from None
        if log:
            log(f"synthetic [{i + 1}/{len(lines)}] {rel}")
        row = analyse_file(set_dir / rel, rel, None)[0]
        row["id"] = item.get("id")
        rows.append(row)
    if not rows:
        raise BadInput(man, "lists no items", "build the set first")
    return rows


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


def compare_rows(real: list[dict], synth: list[dict], seed: int = 0) -> list[dict]:
    """One result per feature: n, medians, KS (stat, p, CI), W1 (value, CI), tolerance and verdict."""
    out = []
    for key, (unit, tol, _) in TOLERANCES.items():
        a, b = _values(real, key), _values(synth, key)
        res = {"feature": key, "unit": unit, "tolerance": tol, "n_real": int(a.size), "n_synthetic": int(b.size)}
        if a.size < 2 or b.size < 2:
            out.append(res | {"verdict": "n/a (fewer than 2 values on a side)"})
            continue
        ks = ks_2samp(a, b)
        w1 = float(wasserstein_distance(a, b))
        rng = item_rng(seed, key, "compare/bootstrap")
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
    """Run the estimators on both sides, compare, write compare.md/json and plots into ``out_dir``."""
    real = analyse_real(Path(real_folder), Path(rttm_folder) if rttm_folder else None, log)
    set_dir = Path(set_dir)
    synth = analyse_set(set_dir, log) if (set_dir / "manifest.jsonl").is_file() else analyse_real(set_dir, None, log)
    results = compare_rows(real, synth, seed)
    out = Path(out_dir) if out_dir else set_dir / "compare"
    out.mkdir(parents=True, exist_ok=True)
    pngs = plot_overlays(real, synth, out / "plots")
    table = summary_table(results)
    n_match = sum(r["verdict"] == "match" for r in results)
    n_judged = sum(r["verdict"] in ("match", "differs") for r in results)
    md = [f"# Real vs synthetic: {Path(real_folder).name} vs {set_dir.name}", "",
          f"{len(real)} real recordings, {len(synth)} synthetic items; {n_match} of {n_judged} features match.", "",
          "Match rule: Wasserstein-1 distance within the feature's tolerance (categorical: total variation). "
          f"Intervals: {N_BOOT} bootstrap resamples of recordings, seed {seed}.", "", table, "", "## Plots", ""]
    md += [f"![{p.stem}](plots/{p.name})" for p in pngs]
    atomic_write_text(out / "compare.md", "\n".join(md) + "\n")
    payload = {"real": str(real_folder), "synthetic": str(set_dir), "n_real": len(real), "n_synthetic": len(synth),
               "seed": seed, "features": results}
    atomic_write_text(out / "compare.json", json.dumps(payload, indent=1) + "\n")
    return {"results": results, "table": table, "out": out, "n_match": n_match, "n_judged": n_judged}


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
    print(res["table"])
    print(f"\n{res['n_match']} of {res['n_judged']} features match; report: {res['out'] / 'compare.md'}")
    return 0
