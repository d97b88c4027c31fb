"""``synth roundtrip``: fit -> build -> fit. Fidelity defined as "the built set measures like the real one".

Fits a profile from a folder of real recordings (``synth fit``), builds N items from it, runs the same
estimators on the built items and prints, per feature: the real value (median over recordings), the
target (median of the fitted distribution), the synthetic value (median over items), the difference,
its tolerance and pass/fail. Exit code 1 when any gated feature fails.

Differences are taken where the build knows its own per-item target (the level, SNR, band edge and
duration drawn for that item and recorded in its conditions/recipe): the median over items of
(measured - drawn). That tests the build, not the luck of a small sample drawn from a wide fitted
distribution. Features without a per-item target (noise tilt, RT60, overlap) compare the synthetic
median (overlap: pooled ratio) with the real one. Tolerances are the issue's done-when figures.

The built set is measured as the real one was: with RTTMs for the real recordings, the built items'
own speech segments are the reference activity (the labels play the RTTM's part).

Outputs in ``--out``: profile.yaml (+ fit report, noise bank), set/ (the build), roundtrip.json and
roundtrip.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp

from ..audio import atomic_write_text, text_lines
from ..dist import as_dist
from ..errors import BadInput, ConfigError, SynthError
from ..rng import item_rng
from .apply import codecs_of
from .estimate import estimate_recording
from .fit import fit_folder, read_recording, rttm_vad, write_outputs

# feature -> (unit, tolerance, gated). Gated tolerances: issue 10's done-when list.
TOLERANCES = {
    "speech_level_dbov": ("dB", 1.0, True),
    "snr_db": ("dB", 2.0, True),
    "effective_bandwidth_hz": ("Hz", 200.0, True),
    "noise_tilt_db_per_oct": ("dB/oct", 1.5, True),
    "rt60_s": ("s", 0.1, True),
    "overlap_pct": ("points", 1.5, True),
    "codec_family_applied": ("share of items", 0.05, True),
    "duration_ks": ("KS", 0.2, True),
    "low_band_rel_db": ("dB", 6.0, False),
}


def _med(v) -> float | None:
    v = [float(x) for x in v if x is not None and np.isfinite(x)]
    return float(np.median(v)) if v else None


def _dist_median(spec) -> float | None:
    if spec is None:
        return None
    return float(np.median(as_dist(spec).sample_n(item_rng(0, "roundtrip", "target"), 4000)))


def choose_scenario(fitted: dict) -> list[str]:
    """Scenario overrides matching the real recordings: turns from RTTMs -> a conversation (2 speakers)
    or a meeting (more, with the fitted speaker counts); no RTTM -> single talker."""
    turns = fitted.get("turns") or {}
    counts = ((turns.get("fitted") or {}).get("n_speakers") or [])
    if not counts:
        return ["scenario=single_talker"]
    if max(counts) <= 2:
        return ["scenario=conversation"]
    common = Counter(counts).most_common(1)[0][0]
    return ["scenario=meeting", f"scenario.n_speakers={min(8, max(3, int(common)))}"]


def measure_set(set_dir: Path, items: list[dict], with_labels: bool) -> list[dict]:
    """Estimator rows for every built item (its segments as reference activity when ``with_labels``)."""
    rows = []
    for it in items:
        path = set_dir / it["audio_filepath"]
        x, sr, raw = read_recording(path)
        v = rttm_vad([(s["start"], s["end"]) for s in it["segments"]], len(x) / sr) if with_labels else None
        rows.append({"id": it["id"], **estimate_recording(x, sr, vad=v, raw_pcm16=raw)})
    return rows


def _recorded(it: dict, key: str):
    """A drawn condition of an item: the recorder stage's value, else the item-level one."""
    rec = it["conditions"].get("recorder") or {}
    return rec.get(key, it["conditions"].get(key))


def _per_item_diff(rows: list[dict], items: list[dict], key: str, target_of) -> tuple[float | None, int]:
    d = [r[key] - target_of(it) for r, it in zip(rows, items)
         if target_of(it) is not None and r.get(key) is not None and np.isfinite(r[key])]
    return (float(np.median(d)) if d else None), len(d)


def roundtrip_table(real: list[dict], fitted: dict, synth: list[dict], items: list[dict],
                    real_overlap: float | None, synth_overlap: float | None) -> list[dict]:
    col = lambda rows, k: [r.get(k) for r in rows]  # noqa: E731
    out = []

    def row(feature, real_v, target_v, synth_v, diff, n=None, note=""):
        unit, tol, gated = TOLERANCES[feature]
        verdict = "n/a" if diff is None else ("pass" if abs(diff) <= tol else "FAIL")
        out.append({"feature": feature, "unit": unit, "real": real_v, "target": target_v, "synthetic": synth_v,
                    "difference": diff, "tolerance": tol, "gated": gated, "n": n, "verdict": verdict, "note": note})

    lvl, n = _per_item_diff(synth, items, "speech_level_dbov", lambda it: it["conditions"].get("speech_level_dbov"))
    row("speech_level_dbov", _med(col(real, "speech_level_dbov")), _dist_median(fitted.get("level_dbov")),
        _med(col(synth, "speech_level_dbov")), lvl, n, "median over items of measured - drawn level")
    snr, n = _per_item_diff(synth, items, "snr_db", lambda it: _recorded(it, "snr_db"))
    row("snr_db", _med(col(real, "snr_db")), _dist_median(fitted.get("snr_db")), _med(col(synth, "snr_db")), snr, n,
        "median over items of measured - drawn SNR")
    edge_of = lambda it: (_recorded(it, "band_hz") or [None, None])[1]  # noqa: E731
    if any(edge_of(it) is not None for it in items):
        diff, n = _per_item_diff(synth, items, "effective_bandwidth_hz", edge_of)
        note = "median over items of measured - drawn edge"
    else:
        a, b = _med(col(real, "effective_bandwidth_hz")), _med(col(synth, "effective_bandwidth_hz"))
        diff, n, note = (b - a if a is not None and b is not None else None), len(synth), "no band limit: medians"
    row("effective_bandwidth_hz", _med(col(real, "effective_bandwidth_hz")),
        _dist_median(fitted.get("effective_bandwidth_hz")), _med(col(synth, "effective_bandwidth_hz")), diff, n, note)
    for key, fkey in (("noise_tilt_db_per_oct", "noise_tilt_db_per_oct"), ("rt60_s", "rt60_s"),
                      ("low_band_rel_db", "low_band_rel_db")):
        a, b = _med(col(real, key)), _med(col(synth, key))
        row(key, a, _dist_median(fitted.get(fkey)), b, None if a is None or b is None else b - a,
            sum(1 for v in col(synth, key) if v is not None and np.isfinite(v)), "synthetic median - real median")
    if real_overlap is not None and synth_overlap is not None:
        row("overlap_pct", 100 * real_overlap, 100 * real_overlap, 100 * synth_overlap,
            100 * (synth_overlap - real_overlap), len(items), "pooled overlap ratio from RTTMs / item labels")
    fam = fitted.get("codec_family") or {}
    known = {c for g in fam.get("choice") or [] for c in codecs_of(g)}
    if known:
        w = dict(zip(fam["choice"], fam.get("weights") or []))
        expected = sum(v for g, v in w.items() if codecs_of(g))
        applied = float(np.mean([any(h.split("@")[0] in known for h in
                                     str(it["conditions"].get("codec_chain") or "").split(">")) for it in items]))
        row("codec_family_applied", expected, expected, applied, applied - expected if applied < expected else 0.0,
            len(items), f"items coded with a codec of the fitted family ({', '.join(sorted(known))})")
    targets = [it["recipe"].get("target_duration_s") for it in items]
    durs = col(synth, "duration_s")
    if all(t is not None for t in targets):  # at 10 ms resolution: sample rounding is not a duration change
        ks = float(ks_2samp(np.round(np.asarray(durs, float), 2), np.round(np.asarray(targets, float), 2)).statistic)
        row("duration_ks", _med(col(real, "duration_s")), _dist_median(fitted.get("duration_s")), _med(durs), ks,
            len(items), "KS between item durations and the durations drawn for them")
    return out


def _fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    if unit == "Hz":
        return f"{v:.0f}"
    return f"{v:.3g}" if abs(v) < 0.1 and v != 0 else f"{v:.2f}"


def table_text(rows: list[dict]) -> str:
    lines = ["| feature | real | target | synthetic | difference | tolerance | verdict |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        verdict = r["verdict"] if r["gated"] else f"{r['verdict']} (info)"
        lines.append(f"| {r['feature']} ({r['unit']}) | {_fmt(r['real'], r['unit'])} | {_fmt(r['target'], r['unit'])} | "
                     f"{_fmt(r['synthetic'], r['unit'])} | {_fmt(r['difference'], r['unit'])} | {r['tolerance']:g} | "
                     f"{verdict} |")
    return "\n".join(lines)


def roundtrip(real_folder, out_dir, rttm_folder=None, n_items: int = 16, seed: int = 0, workers: int = 1,
              overrides: list[str] | None = None, log=None) -> dict:
    from ..build import build
    from ..cli import _config_error_line, compose_config
    from ..stats import set_stats

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, profile = fit_folder(real_folder, rttm_folder, out / "noise_bank", exclude=[out.resolve()], log=log)
    write_outputs(rows, profile, out / "profile.yaml")
    fitted = profile["fitted"]
    try:
        cfg = compose_config([f"out_dir={out / 'set'}", f"n_items={n_items}", f"seed={seed}", f"workers={workers}",
                              *choose_scenario(fitted), f"profile={out / 'profile.yaml'}", *(overrides or [])])
    except SynthError:
        raise
    except Exception as e:  # Hydra/OmegaConf: one line naming the key
        raise ConfigError(_config_error_line(e)) from None
    if log:
        log(f"building {n_items} items from {out / 'profile.yaml'}")
    set_dir = Path(build(cfg))
    items = [json.loads(ln) for ln in text_lines(set_dir / "manifest.jsonl") if ln.strip()]
    synth = measure_set(set_dir, items, with_labels=rttm_folder is not None)
    turns = fitted.get("turns") or {}
    real_ov = (turns.get("targets") or {}).get("overlap_ratio") if rttm_folder else None
    synth_ov = set_stats(set_dir)["realized"]["overlap_ratio"] if real_ov is not None else None
    table = roundtrip_table(rows, fitted, synth, items, real_ov, synth_ov)
    failed = [r["feature"] for r in table if r["gated"] and r["verdict"] == "FAIL"]
    text = table_text(table)
    md = [f"# Round trip: {Path(real_folder)}", "",
          f"{len(rows)} real recordings fitted -> {len(items)} items built (seed {seed}) -> refitted with the same "
          "estimators. Difference: see the note of each row (roundtrip.json). Gated features must be within "
          "tolerance; (info) rows are reported only.", "", text, "",
          f"Result: {'PASS' if not failed else 'FAIL: ' + ', '.join(failed)}"]
    atomic_write_text(out / "roundtrip.md", "\n".join(md) + "\n")
    payload = {"real": str(real_folder), "rttm": str(rttm_folder) if rttm_folder else None, "n_items": len(items),
               "seed": seed, "set": str(set_dir), "features": table, "failed": failed,
               "real_rows": rows, "synthetic_rows": synth}
    atomic_write_text(out / "roundtrip.json", json.dumps(payload, indent=1, default=_json_default) + "\n")
    return {"table": table, "text": text, "failed": failed, "out": out, "set": set_dir}


def _json_default(o):
    if isinstance(o, (np.floating, np.integer, np.bool_)):
        return o.item()
    return str(o)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth roundtrip", description="Fit real recordings, build from the fit, "
                                 "refit the build and check every feature against its tolerance.")
    ap.add_argument("real", help="folder of real recordings")
    ap.add_argument("--rttm", help="folder of <recording>.rttm files (turn-taking; reference speech activity)")
    ap.add_argument("--n", type=int, default=16, help="items to build (default 16)")
    ap.add_argument("--out", required=True, help="output folder (profile, set, roundtrip.json/md)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("overrides", nargs="*", help="extra build overrides (key=value), e.g. sources.root=/data/corpus")
    args = ap.parse_intermixed_args(argv)
    if args.n < 2:
        raise BadInput(Path(args.out), f"--n {args.n} is too few items for a round trip", "pass --n 12 or more")
    res = roundtrip(args.real, args.out, args.rttm, args.n, args.seed, args.workers, args.overrides,
                    log=lambda m: print(m, file=sys.stderr))
    print(res["text"])
    print(f"\n{'PASS' if not res['failed'] else 'FAIL: ' + ', '.join(res['failed'])}; report: {res['out'] / 'roundtrip.md'}")
    return 1 if res["failed"] else 0
