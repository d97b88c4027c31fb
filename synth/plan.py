"""From a composed config to a build plan: pools, scenario, effects per talker and per leg, RIR bank.

Everything here is validated before the first item is rendered, so a bad key or value stops the
build with a one-line message. ``sample_recipe`` is the only place recipes are made.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from . import __version__
from .behavior.bank import read_bank
from .behavior.config import build_behavior
from .behavior.draw import apply_behavior
from .channel.base import Effect, build_effect, json_ready, params_to_dict
from .context import ItemContext
from .errors import ConfigError
from .rng import item_rng
from .scene.base import build_scenario, id_prefix
from .room.bank import RoomBank
from .sources.pools import Pools, build_pools

# keys that do not change a single output byte
NON_OUTPUT_KEYS = ("out_dir", "workers", "n_items", "executor")


def plain(cfg: Any) -> Any:
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else copy.deepcopy(cfg)


def config_hash(cfg: dict) -> str:
    c = {k: v for k, v in cfg.items() if k not in NON_OUTPUT_KEYS}
    # where the sources are is not what they are; sources.check at its default keeps older sets' hashes
    c["sources"] = {k: v for k, v in (c.get("sources") or {}).items()
                    if k != "root" and not (k == "check" and v == "auto")}
    if isinstance(c.get("profile"), dict):  # provenance for the card, not a setting
        c["profile"] = {k: v for k, v in c["profile"].items()
                        if k not in ("set_on_command_line", "replaced_on_command_line")}
    c["output"] = {k: v for k, v in (c.get("output") or {}).items() if k not in ("shard_size", "container")}  # how stored
    return hashlib.blake2b(json.dumps(c, sort_keys=True, default=str).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Step:
    """An effect in a chain, with the config it was built from (JSON values; every recipe stores it)."""

    effect: Effect
    config: dict


def make_step(spec: dict, where: str) -> Step:
    spec = dict(spec)
    try:
        effect = build_effect(spec)
    except (ConfigError, TypeError) as e:  # TypeError: a field of the wrong kind for the effect
        raise ConfigError(f"{where}: {e}") from None
    return Step(effect, json_ready({k: v for k, v in spec.items() if k != "name"}))


def talker_steps(cfg: dict) -> list[Step]:
    steps = []
    room = dict(cfg.get("room") or {"kind": "none"})
    if room.get("kind", "none") != "none":
        steps.append(make_step({"name": "room", **room}, "room"))
    level = dict(cfg.get("level") or {})
    if "speech_dbov" in level and level["speech_dbov"] is None:
        return steps  # level.speech_dbov=null: each talker keeps its recording's own level (augmentation)
    steps.append(make_step({"name": "speech_level", "target_dbov": level.get("speech_dbov", -26.0)}, "level.speech_dbov"))
    return steps


def leg_chains(cfg: dict) -> list[tuple[str, list[Step]]]:
    """Per channel leg: its acoustic noise, gain, clipping, then the channel's own chain.

    Every leg draws its own noise from the ``noise`` group's settings; ``noise.per_leg.<leg name>``
    changes them for one leg (a quiet agent headset next to a customer in the street), and a channel leg's
    own ``noise:`` block replaces them.
    """
    level = dict(cfg.get("level") or {})
    channel = dict(cfg.get("channel") or {})
    legs = channel.get("legs") or [{"name": "mono", "chain": []}]
    out = []
    for i, leg in enumerate(legs):
        noise = dict(cfg.get("noise") or {"kind": "none"})
        noise.update((noise.pop("per_leg", None) or {}).get(leg.get("name"), {}))
        noise = dict(leg.get("noise") or noise)
        head: list[dict] = []
        if noise.pop("kind", "none") != "none":
            head.append({"name": "add_noise", **noise})
        head.append({"name": "gain", "gain_db": level.get("gain_db", 0.0)})
        if level.get("clipping"):
            head.append({"name": "clipping", **dict(level["clipping"])})
        steps = [make_step(s, f"noise/level ({s['name']})") for s in head]
        steps += [make_step(dict(s), f"channel.legs[{i}].chain") for s in (leg.get("chain") or [])]
        out.append((leg.get("name", f"leg{i}"), steps))
    return out


@dataclass
class Plan:
    cfg: dict
    pools: Pools
    scenario: Any
    talker_steps: list[Step]
    legs: list[tuple[str, list[Step]]]
    rooms: RoomBank | None
    recorder: list[Step]
    config_hash: str
    id_prefix: str
    extra_slices: dict = field(default_factory=dict)   # labels every item of this plan carries (mixtures)
    behavior: Any = None          # synth.behavior.config.Behavior; None: behavior=none
    fillers: Any = None           # its filler bank (synth.behavior.bank.FillerBank), when it names one

    @property
    def seed(self) -> int:
        return int(self.cfg["seed"])

    @property
    def sr(self) -> int:
        return int(self.cfg.get("sample_rate", 16000))

    def generator(self) -> dict:
        return {"name": "synth", "version": __version__, "config_hash": self.config_hash, "seed": self.seed}


def make_plan(cfg: DictConfig | dict, verify_sources: bool = False, need_speech: bool = True) -> Plan:
    """``verify_sources``: ask the filesystem about every source file (a resumed build must not finish a
    set from sources that changed since it started), rather than trust the source index until first use.
    ``need_speech=False`` for a plan whose speech comes from elsewhere (the Augmenter): no speech pool."""
    c = plain(cfg)
    if (c.get("profile") or {}).get("mixture"):
        raise ConfigError(f"profile {c['profile'].get('name')!r} is a mixture of profiles: `synth build` builds it "
                          "(one component per item); elsewhere use one of its component profiles "
                          f"({', '.join(str(x.get('profile')) for x in c['profile']['mixture']['components'])})")
    out = c.get("output") or {}
    if out.get("format", "flac") not in ("flac", "wav"):
        raise ConfigError(f"output.format={out.get('format')!r}: allowed values are 'flac' and 'wav'")
    if out.get("layout", "mono") not in ("mono", "stereo"):
        raise ConfigError(f"output.layout={out.get('layout')!r}: allowed values are 'mono' and 'stereo'")
    if int(c.get("workers", 1)) < 1 or int(c.get("n_items", 1)) < 0:
        raise ConfigError("workers must be >= 1 and n_items >= 0")
    for key, rate in (("sample_rate", c.get("sample_rate", 16000)), ("output.sample_rate", out.get("sample_rate"))):
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or not 8000 <= rate <= 192000):
            raise ConfigError(f"{key}={rate!r}: must be a rate in Hz from 8000 to 192000 (e.g. 8000, 16000, 48000)")
    scen = c.get("scenario") or {}
    if isinstance(scen.get("turns"), str):  # a `synth fit-turns` file: its block, not its path, is the config
        from .scene.turns import read_turns_file
        scen["turns"] = read_turns_file(scen["turns"])
    scenario = build_scenario(c.get("scenario"))
    behavior = build_behavior(c.get("behavior"))
    if behavior is None:
        c.pop("behavior", None)  # behavior=none: the config (hash, config.yaml) of a build without the group
    t_steps = talker_steps(c)
    legs = leg_chains(c)
    room = dict(c.get("room") or {"kind": "none"})
    noise_kind = (c.get("noise") or {}).get("kind", "none")
    channel = c.get("channel") or {}
    chains = [leg.get("chain") or [] for leg in channel.get("legs") or []] + [channel.get("recorder") or []]
    noise_in_chain = any(s.get("name") == "add_noise" for chain in chains for s in chain)
    src = c.get("sources") or {}
    pools = build_pools(src.get("root", "."), src.get("speech"), src.get("noise"), src.get("rir"),
                        on_bad_input=c.get("on_bad_input", "error"), need_noise=noise_kind != "none" or noise_in_chain,
                        need_rir=room.get("kind") == "measured", exclude=src.get("exclude"),
                        check=src.get("check") or "auto", verify=verify_sources, need_speech=need_speech)
    rooms = None
    room_step = next((s for s in t_steps if s.effect.name == "room"), None)
    if room_step is not None:
        e = room_step.effect
        rooms = (RoomBank.measured(pools.rirs, int(c.get("sample_rate", 16000))) if e.kind == "measured" else
                 RoomBank.simulated(int(c["seed"]), int(c.get("sample_rate", 16000)), int(e.pool_size), e.rt60_s,
                                    e.room_x_m, e.room_y_m, e.room_z_m, e.distance_m))
    prefix = c.get("id_prefix") or id_prefix(getattr(scenario, "name", "single_talker"))
    recorder = [make_step(dict(s), "channel.recorder") for s in ((c.get("channel") or {}).get("recorder") or [])]
    return Plan(cfg=c, pools=pools, scenario=scenario, talker_steps=t_steps, legs=legs, rooms=rooms,
                recorder=recorder, config_hash=config_hash(c), id_prefix=prefix, behavior=behavior,
                fillers=read_bank(behavior.fillers) if behavior is not None and behavior.fillers else None)


def sample_step(step: Step, rng, ctx: ItemContext) -> dict:
    params = step.effect.sample(rng, ctx)
    return {"name": step.effect.name, "config": step.config, "params": params_to_dict(params)}


# The determinism contract: every effect draw of a build item or an augmented utterance comes from
# item_rng(seed, key, "<part>/<k>:<effect name>"), where <part> is talker-<label>, leg-<i> or recorder and
# <k> the step's index in that part. The Augmenter's own draw of its overall probability is AUGMENT_P.
AUGMENT_P = "augment/p"


def draw_steps(steps: list[Step], seed: int, key: str, part: str, ctx: ItemContext) -> list[dict]:
    """The params of every step of one part of a chain, each from its own stage ``{part}/{k}:{name}``."""
    return [sample_step(s, item_rng(seed, key, f"{part}/{k}:{s.effect.name}"), ctx) for k, s in enumerate(steps)]


def draw_chain(plan: Plan, key: str, ctx: ItemContext, talkers: list[str],
               legs: list[tuple[int, list[Step]]]) -> tuple[dict[str, list[dict]], list[list[dict]], list[dict]]:
    """Every effect draw of one item, in render's order: the talker steps of each talker label in
    ``talkers``, the steps of each ``(leg index, steps)`` in ``legs``, and the recorder's. Builds
    (:func:`sample_recipe`) and the Augmenter both draw through here, so the same key draws the same chain."""
    talker = {label: draw_steps(plan.talker_steps, plan.seed, key, f"talker-{label}", ctx) for label in talkers}
    leg = [draw_steps(steps, plan.seed, key, f"leg-{i}", ctx) for i, steps in legs]
    return talker, leg, draw_steps(plan.recorder, plan.seed, key, "recorder", ctx)


MAX_REDRAWS = 20


def sample_scene(plan: Plan, key: str) -> tuple[dict, list[dict]]:
    """The item's scene, and the speech files it passed over: a file first checked when an item draws it
    (``sources.check=used``) and found unusable is skipped (``on_bad_input=skip``) by drawing the scene
    again from the next stage key. Whether a file is usable depends on the file alone, so every worker
    makes the same draws."""
    pool = plan.pools.speech
    passed_over: list[dict] = []
    for attempt in range(MAX_REDRAWS + 1):
        stage = "scene" if attempt == 0 else f"scene/redraw-{attempt}"
        scene = plan.scenario.sample(item_rng(plan.seed, key, stage), pool, plan.sr)
        bad = pool.unusable(scene)
        if not bad:
            return scene, passed_over
        passed_over += [{"path": e.path, "problem": e.problem} for e in bad]
    raise ConfigError(f"item {key}: {MAX_REDRAWS + 1} draws in a row used unusable speech files (e.g. "
                      f"{passed_over[-1]['path']}: {passed_over[-1]['problem']}); fix the corpus or check it whole "
                      "with sources.check=all")


def sample_recipe(plan: Plan, item_id: str, pair_id: str | None = None) -> dict:
    """Every random decision for one item. ``pair_id`` (suites) makes slices share their source speech."""
    key = pair_id or item_id  # every draw keyed on the pair id, so paired slices differ only by their change
    scene, passed_over = sample_scene(plan, key)
    if plan.behavior is not None:  # scene -> behavior: disfluencies drawn per talker, the timeline moved
        pool = plan.pools.speech   # full alignments of turns cut inside a word (the scene keeps the kept words)
        apply_behavior(plan.behavior, plan.fillers, scene, plan.seed, key,
                       lambda sid: pool.utterance(pool.index_of(sid)).words)
    ctx = ItemContext(item_id=item_id, sr=plan.sr, duration_s=scene["duration_s"], pools=plan.pools, rooms=plan.rooms)
    n_legs = max(t["leg"] for t in scene["talkers"]) + 1
    by_name = {name: (name, steps) for name, steps in plan.legs}
    leg_names, leg_steps = [], []
    for i in range(n_legs):
        roles = [t.get("role") for t in scene["talkers"] if t["leg"] == i]
        # a channel leg named after the talker's role (agent/customer) serves it; else legs by position
        name, steps = next((by_name[r] for r in roles if r in by_name), plan.legs[min(i, len(plan.legs) - 1)])
        leg_names.append(f"leg{i}" if n_legs > 1 and name == "mono" else name)
        leg_steps.append((i, steps))
    talker_fx, leg_fx, recorder = draw_chain(plan, key, ctx, [t["label"] for t in scene["talkers"]], leg_steps)
    for t in scene["talkers"]:
        t["effects"] = talker_fx[t["label"]]
    legs = [{"name": name, "effects": fx} for name, fx in zip(leg_names, leg_fx)]
    out = plan.cfg.get("output") or {}
    return {"scenario": getattr(plan.scenario, "name", "single_talker"), "sample_rate": plan.sr,
            "duration_s": scene["duration_s"],
            **({"target_duration_s": scene["target_duration_s"]} if "target_duration_s" in scene else {}),
            "talkers": scene["talkers"], "legs": legs, "recorder": recorder,
            **({"labels": dict(plan.extra_slices)} if plan.extra_slices else {}),
            "sources_root": str(plan.pools.root),
            "output": {"layout": out.get("layout", "mono"), "sample_rate": out.get("sample_rate")},
            **({"pair_id": pair_id} if pair_id else {}),
            **({"unusable_sources": passed_over} if passed_over else {})}
