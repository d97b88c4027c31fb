"""Using a profile file in a build: ``synth build profile=<file.yaml>``.

Built-in profiles are config-group options (``conf/profile/<name>.yaml``, bundles of overrides). A profile
*file* is either such a bundle (top-level config keys) or what ``synth fit`` writes: a ``fitted:`` block
of measured distributions, mapped onto build keys here:

===================  ========================================================================
fitted key           build key
===================  ========================================================================
level_dbov           ``level.speech_dbov`` (P.56 active speech level per talker)
snr_db               ``noise.snr_db`` (recorded noise, SNR re active speech level)
noise_bank           ``sources.noise``: the noise harvested from the real recordings themselves
effective_bandwidth  a ``bandlimit`` stage for the share of recordings whose measured band edge shows a
                     telephone band: edge <= 4.6 kHz -> narrowband (G.712), 4.6-7.5 kHz -> wideband
                     (G.722 7 kHz); above 7.5 kHz the audio is only as band-limited as its sample rate
bandwidth            (class weights, used when no effective_bandwidth_hz was fitted)
sample_rate          ``output.sample_rate``: the most common measured rate
clipping.p           ``level.clipping.p``
reverb.p, rt60_s     ``room``: simulated rooms with that probability and RT60 distribution
turns                ``scenario.turns`` when the profile's scenario is a conversation or meeting
===================  ========================================================================

The profile's own distributions are kept in ``profile.targets`` so the dataset card can put the realized
values next to them.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import yaml

from ..dist import as_dist
from ..errors import BadInput
from ..rng import item_rng


def load_profile(path: str | Path) -> dict:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise BadInput(p, f"cannot be read as a profile YAML ({str(e).splitlines()[0]})",
                       "pass a file written by synth fit or a conf/profile-style bundle") from None
    if not isinstance(data, dict):
        raise BadInput(p, "is not a YAML mapping", "pass a file written by synth fit")
    return data


def overrides_from_fitted(fitted: dict, name: str, scenario: dict | None = None) -> dict:
    o: dict = {"profile": {"name": name, "fitted": True, "targets": {}}}
    t = o["profile"]["targets"]
    if fitted.get("level_dbov") is not None:
        o["level"] = {"speech_dbov": fitted["level_dbov"]}
        t["speech_level_dbov"] = fitted["level_dbov"]
    if fitted.get("snr_db") is not None:
        o["noise"] = {"kind": "recorded", "snr_db": fitted["snr_db"], "walk_sd_db": 0.0, "bursts_per_min": 0.0}
        t["snr_db"] = fitted["snr_db"]
        if fitted.get("noise_bank") and Path(fitted["noise_bank"]).is_dir():
            o["sources"] = {"noise": str(fitted["noise_bank"])}  # real noise carries its own level changes
    bw = fitted.get("bandwidth") or {}
    shares = None
    if fitted.get("effective_bandwidth_hz") is not None:
        edges = as_dist(fitted["effective_bandwidth_hz"]).sample_n(item_rng(0, "profile", "bandwidth"), 4000)
        shares = {"narrowband": float(np.mean(edges <= 4600)),
                  "wideband": float(np.mean((edges > 4600) & (edges <= 7500)))}
    elif bw.get("choice"):  # class weights only: narrowband is telephone band, wider classes are rate-limited
        w = dict(zip(bw["choice"], bw.get("weights") or [1.0] * len(bw["choice"])))
        shares = {"narrowband": w.get("narrowband", 0.0) / sum(w.values()), "wideband": 0.0}
    if shares is not None:
        limited = shares["narrowband"] + shares["wideband"]
        chain = []
        if limited > 0:
            chain.append({"name": "bandlimit", "p": round(limited, 6),
                          "band": {"choice": ["narrowband", "wideband"],
                                   "weights": [shares["narrowband"], shares["wideband"]]}})
        o["channel"] = {"name": f"{name}_bandwidth", "legs": [{"name": "mono", "chain": chain}]}
        t["bandwidth"] = bw
    sr = fitted.get("sample_rate") or {}
    if sr.get("choice"):
        weights = sr.get("weights") or [1.0] * len(sr["choice"])
        o["output"] = {"sample_rate": int(sr["choice"][max(range(len(weights)), key=weights.__getitem__)])}
    clip = fitted.get("clipping") or {}
    if clip.get("p") is not None:
        o.setdefault("level", {})["clipping"] = {"p": float(clip["p"])}
    reverb = fitted.get("reverb") or {}
    if reverb.get("p"):
        o["room"] = {"kind": "simulated", "p": float(reverb["p"]), "rt60_s": reverb.get("rt60_s") or [0.3, 0.8]}
        t["rt60_s"] = reverb.get("rt60_s")
    else:
        o["room"] = {"kind": "none"}
    if fitted.get("turns") and scenario and scenario.get("name") in ("conversation", "meeting"):
        o["scenario"] = {"turns": fitted["turns"]}
    return o


def profile_overrides(path: str | Path, scenario: dict | None = None) -> dict:
    data = load_profile(path)
    name = Path(path).stem
    if "fitted" in data:
        return overrides_from_fitted(data["fitted"] or {}, name, scenario)
    data = {k: v for k, v in data.items() if k != "defaults"}
    data.setdefault("profile", {"name": name})
    return data


DIST_KEYS = {"const", "uniform", "loguniform", "normal", "lognormal", "gamma", "exponential", "choice",
             "histogram", "clip", "weights"}


def is_dist(v) -> bool:
    return isinstance(v, dict) and bool(v) and set(v) <= DIST_KEYS


def deep_update(dst: dict, src: dict) -> dict:
    """Merge ``src`` into ``dst``: nested config sections merge, distributions and other values replace."""
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict) and not is_dist(v) and not is_dist(dst[k]):
            deep_update(dst[k], v)
        else:
            dst[k] = v
    return dst


def set_dotted(cfg: dict, key: str, value) -> None:
    node = cfg
    *path, last = key.lstrip("+").split(".")
    for p in path:
        node = node.setdefault(p, {})
    node[last] = value


def get_dotted(cfg: dict, key: str, missing=None):
    node = cfg
    for p in key.split("."):
        if not isinstance(node, dict) or p not in node:
            return missing
        node = node[p]
    return node


def apply_profile_file(cfg: dict, path: str | Path, cli_keys: list[str]) -> dict:
    """``cfg`` (composed with the command line) with the profile applied, then every key in ``cli_keys``
    (the keys the command line set) put back as the command line had it: the command line wins over the
    profile, group selections (``noise=none``) included. The profile block lists those keys
    (``set_on_command_line``) for the dataset card."""
    from ..config import check_keys

    extra = profile_overrides(path, cfg.get("scenario"))
    check_keys(extra, f"profile file {path}")
    gone = object()
    cli = {k: copy.deepcopy(get_dotted(cfg, k, gone)) for k in cli_keys if k != "profile"}
    for key in ("channel", "room"):  # a profile's channel and room replace the defaults whole
        if key in extra:
            cfg[key] = extra.pop(key)
    deep_update(cfg, extra)
    for key, value in cli.items():
        if value is gone:  # deleted on the command line (~key)
            *parent, last = key.split(".")
            node = get_dotted(cfg, ".".join(parent)) if parent else cfg
            if isinstance(node, dict):
                node.pop(last, None)
        else:
            set_dotted(cfg, key, value)
    cfg["profile"] = {**(cfg.get("profile") or {}), "set_on_command_line": sorted(cli)}
    return cfg
