"""The scenario contract and registry.

A scenario is a frozen dataclass built from the ``scenario`` config group (its fields are the group's
keys, ``name`` included) with ``sample(rng, pool, sr) -> scene``: who speaks when, from which source
utterances (sampling only, no audio is read). A scene is ``{"duration_s", "talkers": [{"label", "role",
"leg", "source_speaker", "speaker_meta", "utterances", "effects": []}]}`` (see single_talker.py); its
``LIMITS`` (field -> (lo, hi)) bound what a fitted profile may ask of it (:mod:`synth.profiles.limits`).

Scenarios register by name with ``@register("name", id_prefix="x")`` (item ids ``x-000000``...); configs
reach them only through :func:`build_scenario`, an allow-list, as effects through ``build_effect``.
"""

from __future__ import annotations

from typing import Callable

from ..errors import ConfigError

REGISTRY: dict[str, type] = {}
ID_PREFIXES: dict[str, str] = {}


def register(name: str, id_prefix: str) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        if name in REGISTRY and REGISTRY[name] is not cls:
            raise RuntimeError(f"scenario name {name!r} registered twice")
        REGISTRY[name], ID_PREFIXES[name] = cls, id_prefix
        return cls
    return deco


def scenario_names() -> list[str]:
    return sorted(REGISTRY)


def scenario_class(name: str) -> type:
    if name not in REGISTRY:
        raise ConfigError(f"scenario.name={name!r}: known scenarios are {scenario_names()}")
    return REGISTRY[name]


def id_prefix(name: str) -> str:
    """The item id prefix of scenario ``name`` (``st``, ``conv``...), used when ``id_prefix`` is not set."""
    scenario_class(name)
    return ID_PREFIXES[name]


def build_scenario(cfg: dict | None):
    """The scenario a ``scenario`` config block describes (default: single_talker), with a one-line error
    for an unknown name or key."""
    cfg = dict(cfg or {"name": "single_talker"})
    name = cfg.get("name", "single_talker")
    cls = scenario_class(name)
    try:
        return cls(**cfg)
    except TypeError as e:
        raise ConfigError(f"scenario {name}: {e}") from None
