"""The build config from ``key=value`` overrides: Hydra's compose API, a profile file on top, and Hydra's
errors turned into one line. Used by the CLI, the Augmenter, ``synth roundtrip`` and scripts.
"""

from __future__ import annotations

import re
from pathlib import Path

from .confdir import conf_dir
from .errors import ConfigError, SynthError


def split_profile_file(overrides: list[str]) -> tuple[list[str], str | None]:
    """``profile=<path to a .yaml file>`` (e.g. from ``synth fit``) is applied after composing; built-in
    profiles (``profile=call_center_narrowband``) stay ordinary group overrides."""
    rest, path = [], None
    for o in overrides:
        key, _, value = o.partition("=")
        if key == "profile" and (value.endswith((".yaml", ".yml")) or "/" in value):
            if not Path(value).is_file():
                raise SynthError(f"profile file {value} not found; pass a file written by `synth fit` "
                                 "or a built-in profile name from conf/profile/")
            path = value
        else:
            rest.append(o)
    return rest, path


def profile_key_overrides(overrides: list[str], profile_file: str) -> list[str]:
    """A plain ``key=value`` for a key the profile file sets (or one under it) becomes ``++key=value``, so it
    overrides the profile even where the composed defaults lack the key (``scenario.duration_s=[1,20]`` next
    to a fitted profile; the single_talker defaults have no ``duration_s``). Group selections stay as given."""
    from .profiles.apply import profile_keys

    keys = profile_keys(profile_file)
    out = []
    for o in overrides:
        key, eq, _ = o.partition("=")
        if eq and "." in key and not key.startswith(("+", "~", "-")) and (
                key in keys or any(key.startswith(k + ".") or k.startswith(key + ".") for k in keys)):
            o = "++" + o
        out.append(o)
    return out


def config_error_line(e: Exception, keys_hint: str = "see the keys with `synth build --cfg job`, the groups "
                      "and options in conf/") -> str:
    """Hydra's or OmegaConf's error text as one line naming the key, without ``HYDRA_FULL_ERROR`` advice,
    ending with where to see the keys."""
    text = str(e)
    lines = [l.strip() for l in text.splitlines() if l.strip() and "HYDRA_FULL_ERROR" not in l
             and not l.strip().startswith(("full_key", "object_type", "reference_type"))]
    msg = " ".join(" ".join(lines[:2]).split())
    m = re.match(r"Could not override '([^']+)'", msg)
    if m:
        msg = f"unknown key {m.group(1)!r}"
    m = re.search(r"Could not find '([^'/]+)/([^']+)'", text)
    if m:  # a group option that does not exist: name the options Hydra listed (tab-indented lines)
        options = [l.strip() for l in text.split("Config search path")[0].splitlines() if l.startswith("\t")]
        msg = f"{m.group(1)}={m.group(2)} is not an option of {m.group(1)}/ (options: {', '.join(options)})"
    return f"config error: {msg}; {keys_hint}"


def hydra_errors() -> tuple[type, ...]:
    """The exception types Hydra and OmegaConf raise for a bad override, group option or value."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    return HydraException, OmegaConfBaseException


def hydra_compose(config_dir: Path, name: str, overrides: list[str]):
    """Hydra's compose API on one conf folder (its global state cleared first): build's and eval's configs."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        return compose(name, overrides=overrides)


def _compose(overrides: list[str]):
    from omegaconf import OmegaConf

    from .config import check_keys, register_configs
    from .overrides import override_keys

    overrides, profile_file = split_profile_file(overrides)
    if profile_file:
        overrides = profile_key_overrides(overrides, profile_file)
    register_configs()
    cfg = hydra_compose(conf_dir(), "config", overrides)
    if profile_file:
        from .profiles.apply import apply_profile_file

        cfg = OmegaConf.create(apply_profile_file(OmegaConf.to_container(cfg, resolve=True), profile_file,
                                                  override_keys(overrides)))
    check_keys(OmegaConf.to_container(cfg, resolve=True), "config")
    return cfg


def compose_config(overrides: list[str]):
    """The build config of ``synth build <overrides>`` (an OmegaConf DictConfig), composed with Hydra's
    compose API.

    A profile file is applied on top of the composed config, then the keys the command line set are put
    back (they win over the profile). Unknown keys, from the command line (``+foo=1``) or the profile file,
    and any other composition error stop with one :class:`ConfigError` line naming the key."""
    try:
        return _compose(list(overrides))
    except SynthError:
        raise
    except hydra_errors() as e:
        raise ConfigError(config_error_line(e)) from None
