"""``synth eval <set> [key=value ...] [--out DIR] [--real FILE]``: score an ASR engine on a built set.

The configuration is composed like build's: Hydra's compose API on ``conf/eval/default.yaml`` (the one
file of defaults, every key commented there) with ``key=value`` overrides; ``asr=<engine>`` is shorthand
for ``asr.name``, ``report=false`` for ``report.enabled``. Values are then checked against the types of
:class:`EvalConfig`'s sections; a bad key or value is one line (exit 2) through :func:`synth.cli.main`.
Runs go to ``<set>/eval/<engine-key>`` (``-2``, ``-3``... when that run folder holds results already).
Exit codes: 0 success (gate passed or no gate), 1 gate failed, 2 bad input or config.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from ..audio import atomic_write_text
from ..errors import ConfigError
from .engines import EngineSpec
from .gate import GateConfig, load_results, run_gate
from .metrics import SummaryConfig, load_terms, summarize_terms
from .normalize import NormalizerConfig


@dataclass(frozen=True)
class ReportConfig:
    enabled: bool
    worst_n: int
    copy_audio: bool


@dataclass(frozen=True)
class EvalConfig:
    """The composed eval config, typed; its defaults live in conf/eval/default.yaml only."""

    asr: EngineSpec
    normalize: NormalizerConfig
    gate: GateConfig
    report: ReportConfig
    workers: int
    cache_dir: str | None
    seed: int
    n_boot: int
    ref_slice: str | None
    terms: str | None


SECTIONS = {"asr": EngineSpec, "normalize": NormalizerConfig, "gate": GateConfig, "report": ReportConfig}
SHORTHAND = {"asr": "asr.name", "report": "report.enabled"}  # `asr=x` picks the engine, `report=false`
KEYS_HINT = "see the keys with `synth eval --help`"


def _hint(key: str):
    """The declared type of ``key`` (``workers``, ``asr.model``)."""
    sec, _, name = key.rpartition(".")
    return typing.get_type_hints(SECTIONS[sec] if sec else EvalConfig).get(name)


def _base(typ):
    """(the type without Optional, whether None is allowed)."""
    if typing.get_origin(typ) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(typ) if a is not type(None)]
        return inner[0], len(inner) < len(typing.get_args(typ))
    return typ, False


def hydra_spelling(overrides: list[str]) -> tuple[list[str], dict]:
    """The command line as Hydra's override grammar takes it, the spellings eval has always accepted kept:
    shorthands, a leading ``+``, free text (``asr.command=my_asr --wav {audio}``: quoted for Hydra),
    ``normalize.fillers=uh,um`` (a list) and JSON objects (``asr.extra={"temperature": 0}``, set after
    composing, as the second value returned)."""
    out, late = [], {}
    for ov in overrides:
        if "=" not in ov:
            raise ConfigError(f"argument {ov!r} is not key=value (e.g. asr=pocketsphinx workers=2)")
        key, raw = ov.split("=", 1)
        key = SHORTHAND.get(key.lstrip("+"), key.lstrip("+"))
        sec = key.rpartition(".")[0]
        typ = _hint(key) if (not sec or sec in SECTIONS) else None
        base, _ = _base(typ) if typ else (None, False)
        quoted = raw[:1] in ("'", '"') and raw[-1:] == raw[:1] and len(raw) >= 2
        if base is str and not quoted and raw.lower() not in ("null", "~") and not raw.startswith("${"):
            raw = "'" + raw.replace("\\", "\\\\").replace("'", "\\'") + "'"
        elif base in (tuple, list) or typing.get_origin(base) is tuple:
            raw = raw if raw.startswith("[") else f"[{raw}]"
        elif base is dict and raw.lstrip().startswith("{"):
            try:
                late[key] = json.loads(raw)
                continue
            except ValueError:
                pass  # Hydra's own dict syntax: {temperature: 0}
        out.append(f"{key}={raw}")
    return out, late


def _typed(key: str, value, typ):
    base, optional = _base(typ)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key}=null is not allowed; {KEYS_HINT}")
    if base is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}={value!r} is not a boolean; use true or false")
    if base in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (base is int and isinstance(value, float)):
            raise ConfigError(f"{key}={value!r} is not a{'n integer' if base is int else ' number'}")
        return base(value)
    if base is tuple or typing.get_origin(base) is tuple:
        values = value if isinstance(value, list) else [value]
        return tuple(str(v).strip() for v in values if str(v).strip())
    if base is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}={value!r} is not a JSON object, e.g. {key}='{{\"temperature\": 0}}'")
        return value
    if isinstance(value, (dict, list)):
        raise ConfigError(f"{key}={value!r} is not a single value")
    return str(value)


def compose_eval(overrides: list[str]) -> EvalConfig:
    """The eval config of ``synth eval <set> <overrides>``: conf/eval/default.yaml composed with the
    overrides (Hydra), then typed; unknown keys and bad values raise one-line ConfigErrors."""
    from omegaconf import OmegaConf

    from ..compose import config_error_line, hydra_compose, hydra_errors
    from ..confdir import conf_dir

    hydra_overrides, late = hydra_spelling(overrides)
    try:
        d = OmegaConf.to_container(hydra_compose(conf_dir() / "eval", "default", hydra_overrides), resolve=True)
    except hydra_errors() as e:
        raise ConfigError(config_error_line(e, KEYS_HINT)) from None
    for key, value in late.items():
        sec, _, name = key.rpartition(".")
        if sec not in d or not isinstance(d[sec], dict) or name not in d[sec]:
            raise ConfigError(f"unknown key {key!r}; {KEYS_HINT}")
        d[sec][name] = value
    fields = {}
    for key, value in d.items():
        if key in SECTIONS:
            fields[key] = SECTIONS[key](**{n: _typed(f"{key}.{n}", v, _hint(f"{key}.{n}")) for n, v in value.items()})
        elif _hint(key) is not None:
            fields[key] = _typed(key, value, _hint(key))
        else:
            raise ConfigError(f"conf/eval/default.yaml: key {key!r} is not an eval setting")
    cfg = EvalConfig(**fields)
    if cfg.workers < 1:
        raise ConfigError(f"workers={cfg.workers} must be >= 1")
    if cfg.n_boot < 100:
        raise ConfigError(f"n_boot={cfg.n_boot} is too few resamples for a 95% interval; use >= 100")
    if cfg.report.worst_n < 0:
        raise ConfigError(f"report.worst_n={cfg.report.worst_n} must be >= 0")
    return cfg


def help_epilog() -> str:
    """The engines (from the registry) and every key with its default (from conf/eval/default.yaml)."""
    import yaml

    from ..confdir import conf_dir
    from .engines import engine_names

    d = yaml.safe_load((conf_dir() / "eval" / "default.yaml").read_text(encoding="utf-8"))
    def text(v) -> str:
        return yaml.safe_dump(v, default_flow_style=True, width=1000).strip().removesuffix("\n...").strip()

    keys = [f"{s}.{k}={text(v)}" for s, sec in d.items() if isinstance(sec, dict) for k, v in sec.items()]
    keys += [f"{k}={text(v)}" for k, v in d.items() if not isinstance(v, dict)]
    return (f"engines (asr=<name>): {', '.join(engine_names())}\n\n"
            "keys and defaults (conf/eval/default.yaml explains each):\n  " + "\n  ".join(keys))


def run_folder(set_dir: Path, cache_dir: str | None, engine: EngineSpec) -> Path:
    """``<cache>/<engine-key>``, or the first of ``<engine-key>-2``, ``-3``... without results yet: a second
    eval with the same engine never overwrites the first."""
    from .engines import engine_key

    root = Path(cache_dir) if cache_dir else set_dir / "eval"
    key = engine_key(engine)
    k = 1
    while (root / (key if k == 1 else f"{key}-{k}") / "results.json").exists():
        k += 1
    return root / (key if k == 1 else f"{key}-{k}")


def _print_table(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    def pct(x):
        return "–" if x is None else f"{100 * x:.1f}"

    def ci(c):
        return "" if not c else f"[{100 * c[0]:.1f}, {100 * c[1]:.1f}]"

    summ = results["summary"]
    t = Table(title=f"WER (%) per slice — {results['engine']['key']} — SYNTHETIC test set")
    for col in ("slice", "items", "ref words", "WER", "95% CI", "Δ vs ref", "Δ 95% CI", "lost words"):
        t.add_column(col, justify="left" if col == "slice" else "right",
                     overflow="fold" if col == "slice" else "ellipsis")  # a slice name is never cut
    for name, s in [("all", summ["overall"])] + list(summ["slices"].items()):
        pd = s.get("paired_vs_ref") or {}
        t.add_row(name, str(s["n_items"]), str(s["ref_words"]), pct(s["wer"]), ci(s["wer_ci"]),
                  "" if pd.get("delta") is None else f"{100 * pd['delta']:+.1f}", ci(pd.get("delta_ci")),
                  str(s["lost_words"]))
    Console(width=120).print(t)
    terms = summ.get("terms")
    if terms:
        t = Table(title=f"Domain terms ({len(terms['terms'])} terms) — recall and term error rate (%)")
        for col in ("slice", "term occurrences", "recall", "TER", "95% CI", "Δ TER vs ref", "Δ 95% CI"):
            t.add_column(col, justify="left" if col == "slice" else "right",
                         overflow="fold" if col == "slice" else "ellipsis")
        for name, s in [("all", terms["overall"])] + list(terms["slices"].items()):
            pd = s.get("paired_vs_ref") or {}
            t.add_row(name, str(s["ref"]), pct(s["recall"]), pct(s["ter"]), ci(s["ter_ci"]),
                      "" if pd.get("delta") is None else f"{100 * pd['delta']:+.1f}", ci(pd.get("delta_ci")))
        Console(width=120).print(t)


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``synth eval``; returns the exit code (0 ok, 1 gate failed); bad input or config raise
    one-line errors, which :func:`synth.cli.main` prints (exit 2)."""
    ap = argparse.ArgumentParser(prog="synth eval", description="Score an ASR engine on a built synth set, "
                                 "per slice, with bootstrap intervals, an optional regression gate and an HTML "
                                 "report.", epilog=help_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir", help="folder of a built set (holds manifest.jsonl)")
    ap.add_argument("overrides", nargs="*", help="key=value, e.g. asr=pocketsphinx workers=2 gate.baseline=old.json")
    ap.add_argument("--out", help="run folder (default <set>/eval/<engine-key>, -2, -3... when taken)")
    ap.add_argument("--real", help="real recordings with references (NeMo manifest .jsonl or .stm), scored the same "
                    "way and reported next to the set (see synth.eval.real)")
    args = ap.parse_intermixed_args(sys.argv[1:] if argv is None else argv)
    overrides = []
    for ov in args.overrides:  # the old out=DIR
        if ov.startswith(("out=", "+out=")):
            print("hint: synth eval out=DIR is now --out DIR; out= still works", file=sys.stderr)
            args.out = ov.split("=", 1)[1]
        else:
            overrides.append(ov)
    from .report import make_report
    from .run import evaluate

    cfg = compose_eval(overrides)
    set_dir = Path(args.set_dir)
    if not (set_dir / "manifest.jsonl").is_file():
        raise ConfigError(f"{set_dir} is not a built set (no manifest.jsonl); give the set folder")
    baseline = load_results(cfg.gate.baseline) if cfg.gate.baseline else None
    terms = load_terms(cfg.terms, cfg.normalize) if cfg.terms else None
    scfg = SummaryConfig(seed=cfg.seed, n_boot=cfg.n_boot)
    out_dir = Path(args.out) if args.out else run_folder(set_dir, cfg.cache_dir, cfg.asr)
    results = evaluate(set_dir, cfg.asr, workers=cfg.workers, cache_dir=cfg.cache_dir, out_dir=out_dir,
                       normalizer=cfg.normalize, summary=scfg, ref_slice=cfg.ref_slice)
    out = Path(results["out_dir"])
    if terms:
        results["summary"]["terms"] = summarize_terms(results["items"], terms, scfg, cfg.ref_slice)
    if args.real:  # the real side (and its terms) next to the set; writes results.json with both
        from .real import add_real, side_by_side_lines

        add_real(results, args.real, cfg.asr, Path(cfg.cache_dir) if cfg.cache_dir else set_dir / "eval",
                 cfg.workers, cfg.normalize, scfg, terms)
    elif terms:
        atomic_write_text(out / "results.json", json.dumps({k: v for k, v in results.items() if k != "out_dir"},
                                                           ensure_ascii=False, indent=1))
    _print_table(results)
    if args.real:
        print("\n".join(side_by_side_lines(results)))
    print(f"results: {out / 'results.json'}  {out / 'results.csv'}")
    if cfg.report.enabled:
        index = make_report(results, set_dir, out / "report", cfg.report.worst_n, cfg.report.copy_audio)
        print(f"report: {index}")
    if baseline is not None:
        g = run_gate(results, baseline, cfg.gate, seed=cfg.seed)
        atomic_write_text(out / "gate.json", json.dumps(g.to_dict(), indent=1, default=str))
        for line in g.lines():
            print(line)
        return 0 if g.passed else 1
    return 0


if __name__ == "__main__":  # pragma: no cover - errors print as one line through the CLI's main
    from ..cli import main as synth_main

    sys.exit(synth_main(["eval", *sys.argv[1:]]))
