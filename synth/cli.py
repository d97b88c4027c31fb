"""``synth <command>``: a thin dispatcher. Each command lives in the module named after what it does.

``build`` is a Hydra app (overrides, ``-m`` multirun); the others take ordinary flags. Errors from
bad input or config print as one line and exit with code 2; Ctrl-C and SIGTERM stop with one line and
exit 130 / 143; anything unexpected prints one line ("internal error: ...", exit 1), and ``--debug``
anywhere in the arguments shows the traceback. Overrides may not instantiate code other than synth's
own classes (no foreign Hydra callbacks; see :mod:`synth.overrides`).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

from .compose import compose_config  # synth.cli.compose_config still names it (tests, scripts)
from .confdir import conf_dir  # lives in synth.confdir; synth.cli.conf_dir still names it
from .errors import ConfigError, SynthError
from .stops import Interrupted, signals_interrupt

COMMANDS = {
    "build": (None, "build a set from the config (Hydra overrides, -m for multirun)"),
    "render": ("synth.rerender", "re-render a set bit-exactly from its manifest.jsonl"),
    "validate": ("synth.validate", "check a built set against its manifest"),
    "codecs": ("synth.channel.codec", "list the codecs and modes this install supports"),
    "stats": ("synth.stats", "realized turn-taking statistics of a set next to the targets"),
    "fit-turns": ("synth.scene.fit_turns", "fit turn-taking histograms from RTTM files"),
    "eval": ("synth.eval.cli", "score an ASR engine on a set, per slice, with CIs and gates"),
    "fit": ("synth.profiles.fit", "fit a production profile from real recordings (a folder or a NeMo manifest; --by <key>: one per slice)"),
    "compare": ("synth.profiles.compare", "compare real recordings and a synthetic set, feature by feature"),
    "export": ("synth.writer.export", "write a set in the formats training stacks read (Lhotse, HF, NeMo tarred, WebDataset, ...)"),
    "leakage": ("synth.leakage", "speakers, utterances, noise and RIR files shared by two sets (exit 1 if any)"),
    "target": ("synth.target", "augmentation plan (a profile file) from eval results: weight failing slices"),
    "align": ("synth.align.cli", "word alignments for a transcribed corpus (pocketsphinx), checked, into a new manifest"),
    "roundtrip": ("synth.profiles.roundtrip", "fit real recordings, build from the fit, refit: per-feature pass/fail"),
}


def out_flag(args: list[str]) -> list[str]:
    """``--out DIR`` (the flag every command writes its output with) is ``out_dir=DIR`` for build."""
    out, it = [], iter(args)
    for a in it:
        if a == "--out":
            out.append(f"out_dir={next(it, '')}")
        elif a.startswith("--out="):
            out.append("out_dir=" + a.split("=", 1)[1])
        else:
            out.append(a)
    return out


def sweep_jobs(args: list[str]) -> list[list[str]]:
    """The overrides of each job of ``synth build -m <sweeps>``, as Hydra's basic sweeper splits them. A
    profile *file* cannot be swept (Hydra sweeps group options): one line saying so."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from .compose import config_error_line, hydra_errors, split_profile_file

    plain = [a for a in args if not a.startswith("-") and "=" in a]
    try:
        jobs = [job for batch in BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(plain), None)
                for job in batch]
    except hydra_errors() as e:
        raise ConfigError(config_error_line(e)) from None
    for job in jobs:
        if split_profile_file(job)[1]:
            raise ConfigError("profile=<file> cannot be used with -m (Hydra sweeps the built-in options of "
                              "conf/profile/ only); run one `synth build profile=<file> out_dir=<dir>` per file")
    return jobs


def ignored_keys_note(cfg, args: list[str]) -> str | None:
    """The line to print when the command line set a key this build ignores: ``n_items`` under a suite."""
    from .overrides import override_keys

    suite = cfg.get("suite")
    if suite and suite.get("n_sources") is not None and "n_items" in override_keys(args):
        return (f"note: n_items is ignored under a suite: suite {suite.get('name')} renders suite.n_sources="
                f"{suite.get('n_sources')} source items in each of its {len(suite.get('slices') or {})} slices; "
                "set suite.n_sources=N instead")
    return None


# Hydra runs one of these modes per call (several are its "Only one of --run, --multirun, --cfg..." error)
HYDRA_MODES = {"-m": "-m", "--multirun": "-m", "-c": "--cfg", "--cfg": "--cfg", "-i": "--info", "--info": "--info",
               "-r": "--run", "--run": "--run", "-sc": "--shell-completion", "--shell-completion": "--shell-completion"}


def check_modes(args: list[str]) -> None:
    """One Hydra mode per ``synth build`` call, or one line saying which to drop."""
    modes = sorted({HYDRA_MODES[a] for a in args if a in HYDRA_MODES})
    if len(modes) > 1:
        raise ConfigError(f"synth build: {' and '.join(modes)} cannot go together (Hydra runs one of them); "
                          "`synth build --cfg job <overrides>` prints one job's config, `synth build -m <sweep>` "
                          "runs the sweep")


def _build(args: list[str]) -> int:
    import hydra
    from omegaconf import DictConfig, OmegaConf

    from .config import check_keys, register_configs
    from .overrides import check_overrides

    args = out_flag(args)
    check_overrides(args)
    check_modes(args)
    multirun = any(a in ("-m", "--multirun") for a in args)
    hydra_flags = any(a.startswith("-") for a in args)
    if not hydra_flags:  # validate first so a typo gives one line and exit code 2, not a Hydra traceback
        cfg = compose_config(args)
        note = ignored_keys_note(cfg, args)
        if note:
            print(note, file=sys.stderr)
        from .build import build
        build(cfg)
        return 0
    if multirun:  # every job's config composes, or one line before any job runs
        notes = {ignored_keys_note(compose_config(job), job) for job in sweep_jobs(args)} - {None}
        for note in sorted(notes):
            print(note, file=sys.stderr)

    register_configs()
    status: dict = {"code": 0, "error": None}

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
            check_keys(OmegaConf.to_container(cfg, resolve=True), "config")
            build(cfg)
        except SynthError as e:  # this job fails; the other jobs of a multirun still run
            print(str(e), file=sys.stderr)
            status["code"] = 2
        except Exception as e:  # reported by main() once Hydra has returned, not by Hydra
            status["error"] = status["error"] or e

    sys.argv = ["synth build", *args]
    try:
        app()
    except SystemExit as e:
        return int(e.code or 0)
    if status["error"] is not None:
        raise status["error"]
    return status["code"]


HYDRA_COMMANDS = ("build", "eval")         # settings are key=value; the argparse commands take flags
ON_BAD_INPUT_FLAG = ("fit", "align")       # the argparse commands that take --on-bad-input


def advice_for(cmd: str, line: str) -> str:
    """An error line's advice in the spelling ``cmd`` accepts: the readers' ``set on_bad_input=skip`` is
    ``pass --on-bad-input skip`` for fit and align, and is dropped where the command has no such setting."""
    if "on_bad_input=skip" not in line or cmd == "build":
        return line
    if cmd in ON_BAD_INPUT_FLAG:
        return line.replace("set on_bad_input=skip", "pass --on-bad-input skip")
    return line.replace(", or set on_bad_input=skip", "").replace(" or set on_bad_input=skip", "")


def _run(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage: synth [--debug] <command> [args]\n\ncommands:")
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
    module = importlib.import_module(COMMANDS[cmd][0])
    return int(module.main(rest) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run one command; whatever happens, the user sees one line (``--debug``: and the traceback)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    cmd = next((a for a in argv if not a.startswith("-")), "")
    with signals_interrupt():
        try:
            return _run(argv)
        except SynthError as e:
            err, line, code = e, advice_for(cmd, str(e)), 2
        except Interrupted as e:
            err, line, code = e, str(e), e.exit_code
        except OSError as e:  # a path the command was given cannot be made, read or written
            if e.filename is None:
                err, line, code = e, f"internal error: {type(e).__name__}: {e}; rerun with --debug", 1
            else:
                err, line, code = e, (f"cannot use {e.filename}: {e.strerror or e}; check the path you gave "
                                      "(a folder that can be created, a file that can be read) and its permissions"), 2
        except Exception as e:
            err, line, code = e, (f"internal error: {type(e).__name__}: {' '.join(str(e).split())}; "
                                  "rerun with --debug for the traceback and report it"), 1
        if debug:
            traceback.print_exception(err)
        print(line, file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
