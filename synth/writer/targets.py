"""Realized vs target: does a built set have the conditions its config (or profile) asked for?

For each drawn quantity the card shows the target distribution's quantiles (sampled from the config's
distribution) next to the realized values' quantiles and their two-sample KS distance. Rooms record the
RT60 measured on the RIR used, so their realized values are measurements, not requests.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import ks_2samp

from ..dist import as_dist
from ..rng import item_rng

# (config path, condition key, effect probability path)
QUANTITIES = [(("level", "speech_dbov"), "speech_level_dbov", None),
              (("noise", "snr_db"), "snr_db", ("noise", "p")),
              (("room", "rt60_s"), "rt60_s", ("room", "p"))]


def _get(cfg: dict, path: tuple):
    node = cfg
    for p in path:
        if not isinstance(node, dict) or p not in node:
            return None
        node = node[p]
    return node


def _q(x) -> dict:
    x = np.asarray(x, dtype=float)
    return {"mean": round(float(x.mean()), 3), "p10": round(float(np.quantile(x, 0.1)), 3),
            "p50": round(float(np.quantile(x, 0.5)), 3), "p90": round(float(np.quantile(x, 0.9)), 3)}


def _recorded(it: dict, key: str):
    rec = it["conditions"].get("recorder") or {}
    return rec.get(key, it["conditions"].get(key))


# fitted feature (profile.targets key) -> the value each item was built with
FITTED = {
    "speech_level_dbov": lambda it: it["conditions"].get("speech_level_dbov"),
    "snr_db": lambda it: _recorded(it, "snr_db"),
    "effective_bandwidth_hz": lambda it: (_recorded(it, "band_hz") or [None, None])[1],
    "duration_s": lambda it: it["duration"],
    "rt60_s": lambda it: it["conditions"].get("rt60_s"),
}


def fitted_vs_realized(cfg: dict, items: list[dict]) -> dict:
    """For a profile fitted by ``synth fit``: every fitted feature's target next to what the items were built
    with (features only a measurement can show, e.g. noise tilt, are listed as such: ``synth roundtrip``)."""
    from ..profiles.apply import codecs_of

    targets = ((cfg.get("profile") or {}).get("targets") or {}) if (cfg.get("profile") or {}).get("fitted") else {}
    out = {}
    for key, spec in targets.items():
        if key in FITTED and spec:
            target = as_dist(spec).sample_n(item_rng(0, "card", key), 4000).astype(float)
            vals = [FITTED[key](it) for it in items]
            vals = [float(v) for v in vals if isinstance(v, (int, float)) and np.isfinite(v)]
            row = {"config": f"profile.targets.{key}", "target": _q(target), "n_realized": len(vals)}
            if vals:
                row |= {"realized": _q(vals), "ks": round(float(ks_2samp(vals, target).statistic), 3)}
            out[key] = row
        elif key == "codec_family" and spec:
            w = dict(zip(spec.get("choice") or [], spec.get("weights") or []))
            fam = {c for g in w for c in codecs_of(g)}
            applied = [any(h.split("@")[0] in fam for h in str(it["conditions"].get("codec_chain") or "").split(">"))
                       for it in items]
            out[key] = {"config": "profile.targets.codec_family", "families": sorted(fam),
                        "p_target": round(sum(v for g, v in w.items() if codecs_of(g)), 3),
                        "p_realized": round(float(np.mean(applied)) if applied else 0.0, 3)}
        elif key not in FITTED and key != "bandwidth":
            out[key] = {"config": f"profile.targets.{key}", "note": "measured only: run synth roundtrip"}
    return out


def targets_vs_realized(cfg: dict, items: list[dict]) -> dict:
    out = fitted_vs_realized(cfg, items)
    for path, key, p_path in QUANTITIES:
        spec = _get(cfg, path)
        if spec is None or (path[0] in ("noise", "room") and (_get(cfg, (path[0], "kind")) or "none") == "none"):
            continue
        try:
            target = as_dist(spec).sample_n(item_rng(0, "card", key), 4000).astype(float)
        except (TypeError, ValueError):
            continue
        if key in out:
            continue
        realized = [it["conditions"][key] for it in items
                    if isinstance(it["conditions"].get(key), (int, float)) and np.isfinite(it["conditions"][key])]
        row = {"config": ".".join(path), "target": _q(target), "n_realized": len(realized)}
        if p_path and _get(cfg, p_path) is not None:
            row["p_target"] = float(_get(cfg, p_path))
            row["p_realized"] = round(len(realized) / max(1, len(items)), 3)
        if realized:
            row["realized"] = _q(realized)
            row["ks"] = round(float(ks_2samp(realized, target).statistic), 3)
        out[key] = row
    return out


def speaker_mix(cfg: dict, items: list[dict]) -> dict:
    """Realized share of talkers per metadata value next to ``scenario.speakers.weights`` (normalized).

    Counted over talkers (one per talker per item), the unit the weights are sampled in."""
    weights = ((cfg.get("scenario") or {}).get("speakers") or {}).get("weights") or {}
    talkers = [t.get("speaker_meta") or {} for it in items for t in it["recipe"]["talkers"]]
    out = {}
    for key, table in weights.items():
        total = sum(float(v) for v in table.values()) or 1.0
        values = ["unknown" if m.get(key) in (None, "", "?") else str(m.get(key)) for m in talkers]
        out[key] = {str(v): {"target": round(float(w) / total, 3),
                             "realized": round(values.count(str(v)) / max(1, len(values)), 3)}
                    for v, w in table.items()}
    return out
