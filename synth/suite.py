"""Stress suites: one set holding a grid of slices (``conf/suite/<name>.yaml``), every slice rendering the
same source speech with the same draws, so slices differ only in what the slice changes. Format: :func:`plan_suite`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

from omegaconf import OmegaConf

from .confdir import conf_dir
from .errors import ConfigError
from .plan import Plan, make_plan
from .writer.item import Job

SLICE_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


def slice_config(base_cfg: dict, changes: dict, conf_dir: Path) -> dict:
    cfg = OmegaConf.create({k: v for k, v in base_cfg.items() if k != "suite"})
    for key, value in (changes or {}).items():
        if isinstance(value, str):
            option = conf_dir / key / f"{value}.yaml"
            if not option.exists():
                raise ConfigError(f"suite: {key}={value!r} is not an option of group '{key}' ({option} not found)")
            OmegaConf.update(cfg, key, OmegaConf.load(option), merge=False)
        elif isinstance(value, dict) and key in ("channel", "room", "noise") and ("legs" in value or "kind" in value):
            OmegaConf.update(cfg, key, value, merge=False)  # a whole channel/room/noise spec replaces the old one
        elif isinstance(value, dict):
            OmegaConf.update(cfg, key, value, merge=True)
        else:
            OmegaConf.update(cfg, key, value, merge=False)
    return OmegaConf.to_container(cfg, resolve=True)


def plan_suite(c: dict, verify_sources: bool = False) -> tuple[Plan, dict[str, Plan], list[Job], dict]:
    """A suite's plans: the whole set's (its config and card), one per slice, the jobs in slice order and
    the card's suite block. :func:`synth.build.build` builds them like any set.

    A suite config (``conf/suite/<name>.yaml``)::

        name: snr_ladder
        n_sources: 20          # source items; every slice renders each of them (paired)
        reference: clean       # the clean slice paired deltas are measured against (always included)
        base: {room: none}     # applied to every slice
        slices:
          clean: {noise: none}
          snr_20: {noise: {kind: recorded, snr_db: 20}}

    A slice (and ``base``) maps config keys to either a dict, merged into that key, or a string naming an
    option of a config group (``channel: g711_ulaw`` loads ``conf/channel/g711_ulaw.yaml``). Item ``j`` of
    slice ``s`` has id ``<s>-<j>`` and shares ``pair_id`` ``pair-<j>`` across slices; every random draw of an
    item is keyed on its pair id, so slices differ only in what the slice changes (same utterances, same
    noise file and offset, only the SNR differs).
    """
    suite = c["suite"]
    slices = dict(suite.get("slices") or {})
    ref = suite.get("reference", "clean")
    if ref not in slices:
        raise ConfigError(f"suite {suite.get('name')}: the reference slice {ref!r} is missing from its slices")
    bad = [s for s in slices if not SLICE_NAME.match(s)]
    if bad:
        raise ConfigError(f"suite slice names {bad} may only use letters, digits and _ . + -")
    n = int(suite.get("n_sources", c.get("n_items", 20)))
    base = slice_config(c, suite.get("base") or {}, conf_dir())
    plans = {name: make_plan(slice_config(base, changes, conf_dir()), verify_sources)
             for name, changes in slices.items()}
    # one set, one provenance hash: every slice's items are tagged with the hash of all slice configs
    suite_hash = hashlib.blake2b(json.dumps(sorted((k, p.config_hash) for k, p in plans.items())).encode(),
                                 digest_size=8).hexdigest()
    plans = {name: replace(p, config_hash=suite_hash) for name, p in plans.items()}
    # the set as a whole (config.yaml, card) is described by the suite config; sources are shared by slices
    whole = replace(next(iter(plans.values())), cfg=c)
    jobs = [Job(f"{name}-{j:06d}", pair_id=f"pair-{j:06d}", slice=name) for name in plans for j in range(n)]
    card = {"suite": {"name": suite.get("name"), "reference": ref, "n_sources": n, "slices": list(slices),
                      "paired": True}}
    return whole, plans, jobs, card
