"""Mixture profiles: one fitted profile per slice of real recordings (``synth fit --by device``), built as one set.

A mixture profile file names its component profiles and their shares::

    # written by synth fit <calls> --by device --out calls.yaml
    mixture:
      by: device                       # the slice label every item carries (slice.device)
      components:
        - {value: landline, weight: 0.574, profile: calls_landline.yaml}   # path relative to this file
        - {value: cellphone, weight: 0.364, profile: calls_cellphone.yaml}

Composing (``apply_mixture``) applies each component profile to the composed command-line config exactly as a
single profile is applied (the command line wins in every component) and keeps the full stage configs
(sources, scenario, room, noise, level, channel, output) of each under ``profile.mixture.components[*].config``;
the set's config.yaml therefore holds everything. Building (``plan_mixture``) makes one plan per component and
draws each item's component from its own rng (``item_rng(seed, item id, "mixture")``) with the weights, so an
item's component, like every other draw, depends only on the seed and its id. Items carry the component's
value as a slice label (``slice.<by>``, also in the recipe's ``labels``) and the mixture's name as their
profile. A single profile builds as before, byte for byte: none of this runs without ``mixture:``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from pathlib import Path

from ..errors import BadInput, ConfigError
from ..rng import item_rng

STAGE_KEYS = ("sources", "scenario", "room", "noise", "level", "channel", "output", "sample_rate", "profile")


def components(path: str | Path, data: dict) -> list[dict]:
    """The checked components of mixture profile ``path``: value, weight and the component file's path."""
    mix = data.get("mixture") or {}
    by, comps = mix.get("by"), mix.get("components")
    if not isinstance(by, str) or not by or not isinstance(comps, list) or not comps:
        raise BadInput(path, "mixture: needs `by: <metadata key>` and a list of `components`",
                       "write it with synth fit --by <key>, or see synth/profiles/mixture.py")
    out = []
    for i, c in enumerate(comps):
        if not isinstance(c, dict) or "value" not in c or "profile" not in c:
            raise BadInput(path, f"mixture.components[{i}] needs `value` and `profile`", "see synth/profiles/mixture.py")
        w = c.get("weight", 1.0)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not w >= 0:
            raise BadInput(path, f"mixture.components[{i}].weight={w!r} must be a number >= 0", "give the share")
        p = Path(c["profile"])
        p = p if p.is_absolute() else Path(path).parent / p
        if not p.is_file():
            raise BadInput(path, f"mixture.components[{i}].profile {c['profile']} not found",
                           "keep the component profiles next to the mixture file (paths are relative to it)")
        out.append({"value": str(c["value"]), "weight": float(w), "path": p})
    if sum(c["weight"] for c in out) <= 0:
        raise BadInput(path, "mixture weights sum to 0", "give each component its share")
    if len({c["value"] for c in out}) != len(out):
        raise BadInput(path, "mixture components repeat a value", "one component per value")
    return out


def mixture_keys(path: str | Path, data: dict, profile_keys) -> set[str]:
    """Every key a component profile sets (``profile_keys`` of each; synth.compose turns plain overrides of them
    into ``++key=value``)."""
    return set().union(*(profile_keys(c["path"]) for c in components(path, data)))


def apply_mixture(cfg: dict, path: str | Path, data: dict, cli_keys: list[str], apply_profile_file) -> dict:
    """``cfg`` (the composed command line) with the mixture's components: each component profile applied to a
    copy of ``cfg`` by ``apply_profile_file`` as a single profile would be (synth.profiles.apply), its stage
    configs kept under ``profile.mixture.components``; the top-level stage keys stay those of the command line."""
    from ..config import check_keys

    name = Path(path).stem
    comps = []
    for c in components(path, data):
        sub = apply_profile_file(copy.deepcopy(cfg), c["path"], cli_keys)
        check_keys(sub, f"profile file {c['path']}")
        stages = {k: sub[k] for k in STAGE_KEYS if k in sub}
        if (sub.get("behavior") or {}).get("name", "none") != "none":  # a component's own rates (fit --by --refs)
            stages["behavior"] = sub["behavior"]
        stages["profile"] = {**stages.get("profile", {}), "component": c["path"].stem, "name": name}
        comps.append({"value": c["value"], "weight": c["weight"], "profile": c["path"].name, "config": stages})
    total = sum(c["weight"] for c in comps)
    for c in comps:
        c["weight"] = round(c["weight"] / total, 6)
    out = copy.deepcopy(cfg)
    cli = sorted(k for k in cli_keys if k != "profile")
    out["profile"] = {"name": name, "mixture": {"by": data["mixture"]["by"], "components": comps},
                      "set_on_command_line": cli}
    return out


def component_of(seed: int, item_id: str, weights: list[float]) -> int:
    """The component item ``item_id`` is built from: drawn from its own rng with the mixture weights."""
    rng = item_rng(seed, item_id, "mixture")
    u = float(rng.uniform())
    acc = 0.0
    for k, w in enumerate(weights):
        acc += w
        if u < acc:
            return k
    return len(weights) - 1


def plan_mixture(c: dict, verify_sources: bool = False):
    """A mixture set's plans: the whole set's (its config and card), one per component, the jobs (each tagged
    with its component) and the card's mixture block. :func:`synth.build.build` builds them like any set."""
    from ..plan import make_plan
    from ..writer.item import Job

    if c.get("suite"):
        raise ConfigError("a suite and a mixture profile cannot be combined; build the suite with one component "
                          "profile at a time")
    mix = c["profile"]["mixture"]
    by = mix["by"]
    plans = {}
    for comp in mix["components"]:
        sub = {**{k: v for k, v in c.items() if k not in STAGE_KEYS and k != "behavior"}, **copy.deepcopy(comp["config"])}
        plan = make_plan(sub, verify_sources)
        plans[comp["value"]] = replace(plan, extra_slices={by: comp["value"]})
    # one set, one provenance hash: items are tagged with the hash of every component's config and the weights
    mix_hash = hashlib.blake2b(json.dumps(sorted((v, p.config_hash, comp["weight"]) for (v, p), comp in
                                                 zip(plans.items(), mix["components"]))).encode(),
                               digest_size=8).hexdigest()
    plans = {v: replace(p, config_hash=mix_hash) for v, p in plans.items()}
    first = next(iter(plans.values()))
    whole = replace(first, cfg=c, extra_slices={})
    values = list(plans)
    weights = [float(comp["weight"]) for comp in mix["components"]]
    seed = int(c.get("seed", 0))
    jobs = []
    for i in range(int(c["n_items"])):
        item_id = f"{first.id_prefix}-{i:06d}"
        jobs.append(Job(item_id, part=values[component_of(seed, item_id, weights)]))
    card = {"mixture": {"by": by, "components": [{"value": comp["value"], "weight": comp["weight"],
                                                  "profile": comp["profile"]} for comp in mix["components"]]}}
    return whole, plans, jobs, card
