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


def targets_vs_realized(cfg: dict, items: list[dict]) -> dict:
    out = {}
    for path, key, p_path in QUANTITIES:
        spec = _get(cfg, path)
        if spec is None or (path[0] in ("noise", "room") and (_get(cfg, (path[0], "kind")) or "none") == "none"):
            continue
        try:
            target = as_dist(spec).sample_n(item_rng(0, "card", key), 4000).astype(float)
        except (TypeError, ValueError):
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
