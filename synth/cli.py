"""``synth <command>``: a thin dispatcher. Each command lives in the module named after what it does.

``build`` is a Hydra app (overrides, ``-m`` multirun); the others take ordinary flags. Errors from
bad input or config print as one line and exit with code 2.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from .confdir import conf_dir  # lives in synth.confdir; synth.cli.conf_dir still names it
from .errors import SynthError

COMMANDS = {
    "build": (None, "build a set from the config (Hydra overrides, -m for multirun)"),
    "render": ("synth.rerender", "re-render a set bit-exactly from its manifest.jsonl"),
    "validate": ("synth.validate", "check a built set against its manifest"),
    "codecs": ("synth.channel.codec", "list the codecs and modes this install supports"),
    "stats": ("synth.stats", "realized turn-taking statistics of a set next to the targets"),
    "fit-turns": ("synth.scene.fit_turns", "fit turn-taking histograms from RTTM files"),
    "eval": ("synth.eval.cli", "score an ASR engine on a set, per slice, with CIs and gates"),
    "fit": ("synth.profiles.fit", "fit a production profile from a folder of real recordings"),
    "compare": ("synth.profiles.compare", "compare real recordings and a synthetic set, feature by feature"),
}


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


def compose_config(overrides: list[str]):
    """Compose the build config with Hydra's compose API (used for validation, tests and scripts)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from .config import register_configs

    overrides, profile_file = split_profile_file(overrides)
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    if profile_file:
        from .profiles.apply import apply_profile_file

        groups = {g.name for g in conf_dir().iterdir() if g.is_dir()}
        cfg = OmegaConf.create(apply_profile_file(OmegaConf.to_container(cfg, resolve=True), profile_file,
                                                  [o for o in overrides if "." in o.split("=")[0]
                                                   or o.split("=")[0] not in groups]))
    return cfg


def _config_error_line(e: Exception) -> str:
    lines = [l.strip() for l in str(e).splitlines() if l.strip() and "HYDRA_FULL_ERROR" not in l
             and not l.strip().startswith(("full_key", "object_type", "reference_type"))]
    msg = " ".join(" ".join(lines[:2]).split())
    import re
    m = re.match(r"Could not override '([^']+)'", msg)
    if m:
        msg = f"unknown key {m.group(1)!r}"
    return (f"config error: {msg}; see the keys with `synth build --cfg job`, "
            "the groups and options in conf/")


def _build(args: list[str]) -> int:
    import hydra
    from omegaconf import DictConfig

    from .config import register_configs

    multirun = any(a in ("-m", "--multirun") for a in args)
    hydra_flags = any(a.startswith("-") for a in args)
    if not hydra_flags:  # validate first so a typo gives one line and exit code 2, not a Hydra traceback
        try:
            cfg = compose_config(args)
        except Exception as e:
            print(_config_error_line(e), file=sys.stderr)
            return 2
        from .build import build
        try:
            build(cfg)
        except SynthError as e:
            print(str(e), file=sys.stderr)
            return 2
        return 0

    register_configs()
    status = {"code": 0}

    @hydra.main(config_path=str(conf_dir()), config_name="config", version_base="1.3")
    def app(cfg: DictConfig) -> None:
        from hydra.core.hydra_config import HydraConfig
        from omegaconf import open_dict

        from .build import build
        if multirun:  # one set per job, in a folder named after the job's overrides
            hc = HydraConfig.get()
            with open_dict(cfg):
                cfg.out_dir = str(Path(cfg.out_dir) / (hc.job.override_dirname or f"job{hc.job.num}"))
        try:
            build(cfg)
        except SynthError as e:
            print(str(e), file=sys.stderr)
            status["code"] = 2

    sys.argv = ["synth build", *args]
    try:
        app()
    except SystemExit as e:
        return int(e.code or 0)
    return status["code"]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage: synth <command> [args]\n\ncommands:")
        for name, (_, doc) in COMMANDS.items():
            print(f"  {name:<10} {doc}")
        print("\nsynth build [key=value ...]   e.g. synth build n_items=100 room=measured sources.root=/data/corpus")
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        print(f"synth: unknown command {cmd!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    if cmd == "build":
        return _build(rest)
    try:
        module = importlib.import_module(COMMANDS[cmd][0])
        return int(module.main(rest) or 0)
    except SynthError as e:
        print(str(e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
