"""The ranges a build accepts for what ``synth fit`` measures, read from the effects' own validation.

Each fitted key that feeds a build setting names the effect (or scenario) field it feeds; its allowed
range is that class's ``LIMITS`` entry, the table the class's own ``__post_init__`` validates against, so
a fitted profile is clamped to exactly what the build will accept (no copy of the numbers here).
"""

from __future__ import annotations

import math

import numpy as np

# fitted key -> (kind, registered name, field): what build setting the fitted distribution becomes
FEEDS = {
    "level_dbov": ("effect", "speech_level", "target_dbov"),     # and calibrate_level (same LIMITS)
    "snr_db": ("effect", "add_noise", "snr_db"),
    "effective_bandwidth_hz": ("effect", "bandlimit", "high_hz"),
    "reverb.rt60_s": ("effect", "room", "rt60_s"),                # (rt60_s of all recordings: reference only)
    "duration_s": ("scenario", None, "duration_s"),                 # the scenario the profile builds
}


def build_range(key: str, scenario: str = "single_talker") -> tuple[float, float, str] | None:
    """(lo, hi, "<effect>.<field>") the build accepts for fitted ``key``; None when no build setting takes it."""
    feed = FEEDS.get(key)
    if feed is None:
        return None
    kind, name, fld = feed
    if kind == "scenario":
        lo, hi = scenario_limits(scenario, fld)
        return lo, hi, f"scenario.{fld}"
    from .. import channel  # noqa: F401  (registers every effect)
    from ..channel.base import REGISTRY

    lo, hi = REGISTRY[name].LIMITS[fld]
    return float(lo), float(hi), f"{name}.{fld}"


def scenario_limits(scenario: str, fld: str) -> tuple[float, float]:
    """The range scenario ``scenario`` (single_talker, conversation, meeting) accepts for ``fld``."""
    from ..scene.base import scenario_class

    lo, hi = scenario_class(scenario).LIMITS[fld]
    return float(lo), float(hi)


def clamp_values(values: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, dict | None]:
    """``values`` clipped to [lo, hi] and a note of how many were below / above (None if none were)."""
    below, above = int((values < lo).sum()), int((values > hi).sum())
    if not below and not above:
        return values, None
    return np.clip(values, lo, hi), {"below": below, "above": above, "min": float(values.min()),
                                     "max": float(values.max())}


def clamp_spec(spec, lo: float, hi: float):
    """A synth.dist config value limited to [lo, hi]: histogram edges clipped (bins outside merged into
    the end bins), a normal's ``clip`` narrowed. Returns (spec, changed)."""
    if not isinstance(spec, dict):
        return spec, False
    if "histogram" in spec:
        e = np.asarray(spec["histogram"]["edges"], float)
        c = np.asarray(spec["histogram"]["counts"], float)
        if e[0] >= lo and e[-1] <= hi:
            return spec, False
        mids = np.clip((e[:-1] + e[1:]) / 2, lo, hi)
        ce = np.unique(np.clip(e, lo, hi))
        if len(ce) < 2:
            v = float(ce[0])
            return {"normal": [v, 0.0], "clip": [v, v]}, True
        k = np.clip(np.searchsorted(ce, mids, side="right") - 1, 0, len(ce) - 2)
        counts = np.bincount(k, weights=c, minlength=len(ce) - 1)
        return {"histogram": {"edges": [_r(x) for x in ce], "counts": [_num(x) for x in counts]}}, True
    if "clip" in spec or any(k in spec for k in ("normal", "lognormal", "gamma", "exponential")):
        clip = spec.get("clip") or [lo, hi]
        a, b = max(lo, float(clip[0])), min(hi, float(clip[1]))
        if a > b:  # the whole range lies outside: pin to the nearer bound
            a = b = lo if float(clip[1]) < lo else hi
        new = {**spec, "clip": [_r(a), _r(b)]}
        return new, new != spec
    return spec, False


def _r(x: float) -> float:
    return float(round(float(x), 4))


def _num(x: float):
    return int(x) if float(x).is_integer() else float(x)


def finite(values) -> np.ndarray:
    return np.asarray([float(v) for v in values if v is not None and isinstance(v, (int, float))
                       and not isinstance(v, bool) and math.isfinite(v)], float)
