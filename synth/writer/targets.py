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
from .card import SetSummary

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


def _q(x, mean: float | None = None) -> dict:
    x = np.asarray(x, dtype=float)
    return {"mean": round(float(x.mean() if mean is None else mean), 3), "p10": round(float(np.quantile(x, 0.1)), 3),
            "p50": round(float(np.quantile(x, 0.5)), 3), "p90": round(float(np.quantile(x, 0.9)), 3)}


def quantity_keys() -> tuple[str, ...]:
    """The condition keys whose realized values the card compares with their targets."""
    return tuple(key for _, key, _ in QUANTITIES)


def speaker_keys(cfg: dict) -> tuple[str, ...]:
    return tuple(((cfg.get("scenario") or {}).get("speakers") or {}).get("weights") or {})


def targets_vs_realized(cfg: dict, summary: SetSummary) -> dict:
    """Realized quantiles (from the summary's deterministic sketch: exact below 20,000 items) and KS."""
    out = {}
    for path, key, p_path in QUANTITIES:
        spec = _get(cfg, path)
        if spec is None or (path[0] in ("noise", "room") and (_get(cfg, (path[0], "kind")) or "none") == "none"):
            continue
        try:
            target = as_dist(spec).sample_n(item_rng(0, "card", key), 4000).astype(float)
        except (TypeError, ValueError):
            continue
        sketch = summary.quantities[key]
        realized = sketch.values()
        row = {"config": ".".join(path), "target": _q(target), "n_realized": sketch.n}
        if p_path and _get(cfg, p_path) is not None:
            row["p_target"] = float(_get(cfg, p_path))
            row["p_realized"] = round(sketch.n / max(1, summary.n_items), 3)
        if realized:
            row["realized"] = _q(realized, sketch.mean)
            row["ks"] = round(float(ks_2samp(realized, target).statistic), 3)
        out[key] = row
    return out


def speaker_mix(cfg: dict, summary: SetSummary) -> dict:
    """Realized share of talkers per metadata value next to ``scenario.speakers.weights`` (normalized).

    Counted over talkers (one per talker per item), the unit the weights are sampled in."""
    weights = ((cfg.get("scenario") or {}).get("speakers") or {}).get("weights") or {}
    out = {}
    for key, table in weights.items():
        total = sum(float(v) for v in table.values()) or 1.0
        counts = summary.speaker_values[key]
        out[key] = {str(v): {"target": round(float(w) / total, 3),
                             "realized": round(counts[str(v)] / max(1, summary.n_talkers), 3)}
                    for v, w in table.items()}
    return out
