"""``synth stats <set dir>``: realized turn-taking statistics of a built set next to their targets.

Realized values are measured on every item's segments with :func:`synth.scene.turn_stats.realized_stats`
(the same code that measures real RTTMs in ``synth fit-turns``) and pooled over the set. Targets come from
the set's own config: the fitted ``targets`` block when the turn model was fitted from RTTMs (the values
``synth fit-turns`` measured on the RTTMs with the same code; the turn model's own
``backchannel_rate_per_min`` is a calibrated simulation setting and is shown as such), otherwise the
ratios the configured distributions imply (:func:`synth.scene.turns.implied_ratios`) and the quantiles of
the configured gap and overlap distributions. Duration distributions are compared with the KS distance.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from .scene.turn_stats import pooled_stats, realized_stats
from .scene.turns import as_model, implied_ratios, ks_distance, ppf
from .writer.manifest import read_manifest

QS = (0.1, 0.25, 0.5, 0.75, 0.9)


def _quantiles(x) -> dict:
    x = np.asarray(x, dtype=float)
    return {f"p{int(q * 100)}": round(float(np.quantile(x, q)), 3) for q in QS} if len(x) else {}


def set_stats(set_dir: str | Path) -> dict:
    d = Path(set_dir)
    items = read_manifest(d, need=("segments",))
    per_item = [realized_stats([(s["speaker"], s["start"], s["end"]) for s in it["segments"]]) for it in items]
    pooled = pooled_stats(per_item)
    cfg = yaml.safe_load((d / "config.yaml").read_text()) if (d / "config.yaml").exists() else {}
    turns_cfg = (cfg.get("scenario") or {}).get("turns")
    realized = {
        "items": len(items),
        "overlap_ratio": round(pooled["overlap_ratio"], 4), "silence_ratio": round(pooled["silence_ratio"], 4),
        "p_overlap": round(pooled["p_overlap"], 4),
        "backchannel_rate_per_min": round(pooled["backchannel_rate_per_min"], 3),
        "mean_turns": round(float(np.mean([s["n_turns"] for s in per_item])), 2),
        "mean_speakers": round(float(np.mean([s["n_speakers"] for s in per_item])), 2),
        "gap_s": _quantiles([g for s in per_item for g in s["gaps_s"]]),
        "overlap_s": _quantiles([o for s in per_item for o in s["overlaps_s"]]),
    }
    target: dict = {}
    if turns_cfg is not None:
        model = as_model({k: v for k, v in turns_cfg.items() if k not in ("targets", "fitted")})
        fitted = turns_cfg.get("targets") or {}
        turn_durs = [t for s in per_item for t in s["turn_durs_s"]]
        implied = implied_ratios(model, float(np.mean(turn_durs)) if turn_durs else 3.0)
        target = {"overlap_ratio": fitted.get("overlap_ratio", implied.get("overlap_ratio")),
                  "silence_ratio": fitted.get("silence_ratio", implied.get("silence_ratio")),
                  "p_overlap": fitted.get("p_overlap", float(np.mean(ppf(model.p_overlap, (np.arange(999) + 0.5) / 999)))),
                  "backchannel_rate_per_min": fitted.get("backchannel_rate_per_min", float(np.mean(
                      ppf(model.backchannel_rate_per_min, (np.arange(999) + 0.5) / 999)))),
                  "gap_s": _quantiles(ppf(model.gap_s, np.array(QS))),
                  "overlap_s": _quantiles(ppf(model.overlap_s, np.array(QS))),
                  "source": "fitted from RTTMs" if fitted else "implied by the configured distributions"}
        if fitted and turns_cfg.get("backchannel_rate_per_min") is not None:
            target["model_backchannel_rate_per_min"] = turns_cfg["backchannel_rate_per_min"]
        gaps = [g for s in per_item for g in s["gaps_s"]]
        ovs = [o for s in per_item for o in s["overlaps_s"]]
        realized["gap_ks"] = round(ks_distance(gaps, model.gap_s), 3) if gaps else None
        realized["overlap_ks"] = round(ks_distance(ovs, model.overlap_s), 3) if ovs else None
    return {"realized": realized, "target": target}


def format_table(stats: dict) -> str:
    r, t = stats["realized"], stats["target"]
    rows = [("items", r["items"], ""), ("mean speakers / item", r["mean_speakers"], ""),
            ("mean turns / item", r["mean_turns"], "")]
    for k in ("overlap_ratio", "silence_ratio", "p_overlap", "backchannel_rate_per_min"):
        rows.append((k, r[k], "" if t.get(k) is None else round(float(t[k]), 4)))
    for k in ("gap_s", "overlap_s"):
        for q in ("p10", "p50", "p90"):
            rows.append((f"{k} {q}", r[k].get(q, "-"), (t.get(k) or {}).get(q, "")))
        rows.append((f"{k} KS distance to target", r.get(k.split("_")[0] + "_ks", "-"), ""))
    w = max(len(str(a)) for a, _, _ in rows)
    lines = [f"{'statistic':<{w}}  {'realized':>10}  {'target':>10}", "-" * (w + 24)]
    lines += [f"{a:<{w}}  {str(b):>10}  {str(c):>10}" for a, b, c in rows]
    if t.get("source"):
        lines.append(f"targets: {t['source']}" + (" (scenario.turns.targets, measured on the RTTMs as the realized "
                                                    "column is measured on the set)" if "fitted" in t["source"] else ""))
    if t.get("model_backchannel_rate_per_min") is not None:
        lines.append(f"the turn model's own backchannel_rate_per_min ({t['model_backchannel_rate_per_min']}) is a "
                     "simulation setting calibrated so the simulated overlap time matches; its target is the measured "
                     "rate above")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth stats", description=__doc__.splitlines()[0])
    ap.add_argument("set_dir")
    ap.add_argument("--json", action="store_true", help="print JSON to stdout instead of a table")
    a = ap.parse_args(argv)
    s = set_stats(a.set_dir)
    print(json.dumps(s, indent=2) if a.json else format_table(s))
    return 0
