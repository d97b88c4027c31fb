"""Realized vs target: does a built set have the conditions its config (or profile) asked for?

For each drawn quantity the card shows the target distribution's quantiles (sampled from the config's
distribution) next to the realized values' quantiles and their two-sample KS distance. Rooms record the
RT60 measured on the RIR used, so their realized values are measurements, not requests. For a profile
fitted by ``synth fit``, every fitted feature's target is listed next to what the items were built with.

Realized values are streamed: :func:`quantities` names what to pick from each manifest line, and the
card's :class:`synth.writer.card.SetSummary` keeps a deterministic sketch of each (exact below 20,000 items).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.stats import ks_2samp

from ..dist import as_dist
from ..profiles.apply import get_dotted
from ..rng import item_rng
from .card import SetSummary

# (config path, condition key, effect probability path)
QUANTITIES = [(("level", "speech_dbov"), "speech_level_dbov", None),
              (("noise", "snr_db"), "snr_db", ("noise", "p")),
              (("room", "rt60_s"), "rt60_s", ("room", "p"))]


def _get(cfg: dict, path: tuple):
    return get_dotted(cfg, ".".join(path))


def _q(x, mean: float | None = None) -> dict:
    x = np.asarray(x, dtype=float)
    return {"mean": round(float(x.mean() if mean is None else mean), 3), "p10": round(float(np.quantile(x, 0.1)), 3),
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


# a profile fitted per leg (stereo calls): the same features per leg, read from that leg's conditions
LEG_FITTED = {
    "speech_level_dbov": lambda c: c.get("speech_level_dbov"),
    "snr_db": lambda c: c.get("snr_db"),
    "effective_bandwidth_hz": lambda c: (c.get("band_hz") or [None, None])[1],
}


def _fitted_targets(cfg: dict) -> dict:
    """The fitted profile's targets by key; a per-leg profile's leg targets as ``legs.<leg>.<key>``."""
    profile = cfg.get("profile") or {}
    targets = dict(profile.get("targets") or {}) if profile.get("fitted") else {}
    for leg, block in (targets.pop("legs", None) or {}).items():
        targets.update({f"legs.{leg}.{k}": v for k, v in block.items()})
    return targets


def _leg(key: str) -> tuple[str | None, str]:
    """(leg, feature) of a target key (leg None for a whole-item key)."""
    if key.startswith("legs."):
        _, leg, feature = key.split(".", 2)
        return leg, feature
    return None, key


def _accessor(key: str):
    """The value an item was built with for fitted target ``key`` (None: not a drawn quantity)."""
    leg, feature = _leg(key)
    if leg is None:
        return FITTED.get(key)
    f = LEG_FITTED.get(feature)
    return None if f is None else (lambda it: f((it["conditions"].get("legs") or {}).get(leg) or {}))


def _codec_chain(it: dict, key: str) -> str:
    leg, _ = _leg(key)
    cond = it["conditions"] if leg is None else (it["conditions"].get("legs") or {}).get(leg) or {}
    return str(cond.get("codec_chain") or "")


def _codec_families(spec: dict) -> tuple[dict, set]:
    from ..profiles.apply import codecs_of

    w = dict(zip(spec.get("choice") or [], spec.get("weights") or []))
    return w, {c for g in w for c in codecs_of(g)}


def quantities(cfg: dict) -> dict[str, Callable[[dict], float | None]]:
    """What the card compares with a target, as ``name -> value of a manifest line`` (None: not applied)."""
    out: dict[str, Callable] = {f"config:{key}": (lambda it, key=key: it["conditions"].get(key))
                                for _, key, _ in QUANTITIES}
    for key, spec in _fitted_targets(cfg).items():
        if _accessor(key) is not None and spec:
            out[f"fitted:{key}"] = _accessor(key)
        elif _leg(key)[1] == "codec_family" and spec:
            fam = _codec_families(spec)[1]
            out[f"fitted:{key}"] = lambda it, fam=fam, key=key: float(any(
                h.split("@")[0] in fam for h in _codec_chain(it, key).split(">")))
        elif _leg(key)[1] == "codec_chain" and spec:
            out[f"fitted:{key}"] = lambda it, key=key: _vocoded(_codec_chain(it, key))
    return out


def _vocoded(chain: str) -> float:
    """1 when a codec chain (``amr_nb@12200>g711_ulaw``) has a vocoder hop (synth.profiles.codec_chain.VOCODERS)."""
    from ..profiles.codec_chain import VOCODERS

    names = {c for c, _ in VOCODERS.values()}
    return float(any(h.split("@")[0] in names for h in chain.split(">")))


def fitted_vs_realized(cfg: dict, summary: SetSummary) -> dict:
    """For a profile fitted by ``synth fit``: every fitted feature's target next to what the items were built
    with (features only a measurement can show, e.g. noise tilt, are listed as such: ``synth roundtrip``)."""
    out = {}
    for key, spec in _fitted_targets(cfg).items():
        sketch = summary.quantities.get(f"fitted:{key}")
        if _accessor(key) is not None and spec:
            target = as_dist(spec).sample_n(item_rng(0, "card", key), 4000).astype(float)
            vals = sketch.values()
            row = {"config": f"profile.targets.{key}", "target": _q(target), "n_realized": sketch.n}
            if vals:
                row |= {"realized": _q(vals, sketch.mean), "ks": round(float(ks_2samp(vals, target).statistic), 3)}
            out[key] = row
        elif _leg(key)[1] == "codec_family" and spec:
            from ..profiles.apply import codecs_of

            w, fam = _codec_families(spec)
            out[key] = {"config": f"profile.targets.{key}", "families": sorted(fam),
                        "p_target": round(sum(v for g, v in w.items() if codecs_of(g)), 3),
                        "p_realized": round(sketch.mean if sketch.n else 0.0, 3)}
        elif _leg(key)[1] == "codec_chain" and spec:
            from ..profiles.codec_chain import VOCODERS, vocoded_share

            out[key] = {"config": f"profile.targets.{key}",
                        "families": [f"{VOCODERS[f][0]} before the last hop" for f in spec.get("choice") or []
                                     if f in VOCODERS],
                        "p_target": round(vocoded_share(spec), 3),
                        "p_realized": round(sketch.mean if sketch.n else 0.0, 3)}
        elif _accessor(key) is None and _leg(key)[1] != "bandwidth":
            out[key] = {"config": f"profile.targets.{key}", "note": "measured only: run synth roundtrip"}
    return out


def speaker_keys(cfg: dict) -> tuple[str, ...]:
    return tuple(((cfg.get("scenario") or {}).get("speakers") or {}).get("weights") or {})


def targets_vs_realized(cfg: dict, summary: SetSummary) -> dict:
    """Realized quantiles (from the summary's deterministic sketch: exact below 20,000 items) and KS."""
    out = fitted_vs_realized(cfg, summary)
    for path, key, p_path in QUANTITIES:
        spec = _get(cfg, path)
        if key in out or spec is None or any(k.startswith("legs.") and k.endswith("." + key) for k in out) or \
                (path[0] in ("noise", "room") and (_get(cfg, (path[0], "kind")) or "none") == "none"):
            continue
        try:
            target = as_dist(spec).sample_n(item_rng(0, "card", key), 4000).astype(float)
        except (TypeError, ValueError):
            continue
        sketch = summary.quantities[f"config:{key}"]
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
