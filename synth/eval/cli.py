"""``synth eval <set dir> asr=<engine> [key=value ...]``: score an ASR engine on a built set.

Overrides use Hydra's ``key=value`` syntax but are parsed here against typed dataclasses (no Hydra
composition: the defaults are the dataclass defaults below, mirrored in ``conf/eval/default.yaml`` and
kept equal by a test). An unknown key or a value of the wrong type is a one-line error naming the key.

Keys (defaults in brackets):

* ``asr=<pocketsphinx|faster_whisper|command|openai_compatible|hypotheses>`` [pocketsphinx]
  and ``asr.<field>=...`` for :class:`synth.eval.engines.EngineSpec` fields: ``asr.model``,
  ``asr.command="prog --in {audio}"``, ``asr.url=http://127.0.0.1:8000/v1/audio/transcriptions``,
  ``asr.hypotheses=hyps.jsonl``, ``asr.language`` [en], ``asr.vad_filter`` [false],
  ``asr.condition_on_previous_text`` [true], ``asr.beam_size`` [5], ``asr.device`` [cpu],
  ``asr.compute_type`` [int8], ``asr.cpu_threads`` [0], ``asr.num_workers`` [1], ``asr.sample_rate``, ``asr.timeout_s`` [600], ``asr.api_key_env``.
* ``workers`` [1], ``out`` [<set>/eval/<engine-key>], ``cache_dir`` [<set>/eval], ``seed`` [0],
  ``n_boot`` [1000], ``ref_slice`` [auto: the slice named/labelled "clean"].
* ``normalize.<flag>`` (see :mod:`synth.eval.normalize`), e.g. ``normalize.numbers=keep``;
  ``normalize.fillers=uh,um`` takes a comma-separated list.
* ``gate.baseline=<results.json>``, ``gate.max_wer_increase`` [0.02], ``gate.mode`` [absolute|relative],
  ``gate.metric`` [wer] (see :mod:`synth.eval.gate`).
* ``report`` [true], ``report.worst_n`` [5], ``report.copy_audio`` [true].
* ``terms=<file>``: domain terms, one per line (multi-word allowed); adds term recall and term error
  rate per slice next to WER (definitions in :func:`synth.eval.metrics.term_counts`), in results.json
  under ``summary.terms`` and in the report.

``--real <manifest.jsonl | file.stm>``: real recordings with references, scored with the same engine and
normalizer; the report shows REAL and synthetic WER and their ratio, per value of every manifest key the
synthetic items carry as a slice label (e.g. ``device`` for a set built from a ``synth fit --by device``
mixture), and with ``terms=`` term recall / TER of the real recordings too (see :mod:`synth.eval.real`).

Exit codes: 0 success (gate passed or no gate), 1 gate failed, 2 bad input or config (one-line error).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from ..audio import atomic_write_text
from ..errors import ConfigError, SynthError
from .engines import EngineSpec
from .gate import GateConfig, load_results, run_gate
from .metrics import SummaryConfig, load_terms, summarize_terms
from .normalize import NormalizerConfig


@dataclass(frozen=True)
class ReportConfig:
    enabled: bool = True
    worst_n: int = 5
    copy_audio: bool = True


@dataclass(frozen=True)
class EvalConfig:
    asr: EngineSpec = field(default_factory=EngineSpec)
    normalize: NormalizerConfig = field(default_factory=NormalizerConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    workers: int = 1
    out: str | None = None
    cache_dir: str | None = None
    seed: int = 0
    n_boot: int = 1000
    ref_slice: str | None = None
    terms: str | None = None


_SECTIONS = {"asr": EngineSpec, "normalize": NormalizerConfig, "gate": GateConfig, "report": ReportConfig}
_SHORTHAND = {"asr": "asr.name", "report": "report.enabled"}  # `asr=x` picks the engine, `report=false`


def _coerce(key: str, raw: str, typ):
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and raw.lower() in ("null", "none", "~", ""):
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(key, raw, inner[0])
    if typ is bool:
        low = raw.lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{key}={raw!r} is not a boolean; use true or false")
    if typ in (int, float):
        try:
            return typ(raw)
        except ValueError:
            raise ConfigError(f"{key}={raw!r} is not a{'n integer' if typ is int else ' number'}") from None
    if origin is tuple or typ is tuple:
        return tuple(s.strip() for s in raw.split(",") if s.strip())
    if origin is dict or typ is dict:
        try:
            val = json.loads(raw)
        except ValueError:
            val = None
        if not isinstance(val, dict):
            raise ConfigError(f"{key}={raw!r} is not a JSON object, e.g. {key}='{{\"temperature\": 0}}'")
        return val
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]  # quoted as for `synth build` (Hydra): 'asr.command="my_asr {audio}"'
    return raw


def parse_overrides(overrides: list[str]) -> EvalConfig:
    """Apply ``key=value`` overrides to the defaults; unknown keys and bad values raise ConfigError."""
    top_hints = typing.get_type_hints(EvalConfig)
    sections: dict[str, dict] = {s: {} for s in _SECTIONS}
    top: dict = {}
    for ov in overrides:
        if "=" not in ov:
            raise ConfigError(f"argument {ov!r} is not key=value (e.g. asr=pocketsphinx workers=2)")
        key, raw = ov.split("=", 1)
        key = _SHORTHAND.get(key.lstrip("+"), key.lstrip("+"))
        if "." in key:
            sec, name = key.split(".", 1)
            if sec not in _SECTIONS:
                raise ConfigError(f"unknown key {key!r}; sections are {', '.join(_SECTIONS)}")
            hints = typing.get_type_hints(_SECTIONS[sec])
            if name not in hints:
                raise ConfigError(f"unknown key {key!r}; {sec} keys are "
                                  f"{', '.join(f.name for f in dataclasses.fields(_SECTIONS[sec]))}")
            sections[sec][name] = _coerce(key, raw, hints[name])
        else:
            if key not in top_hints or key in _SECTIONS:
                allowed = [k for k in top_hints if k not in _SECTIONS] + ["asr", "report"]
                raise ConfigError(f"unknown key {key!r}; top-level keys are {', '.join(sorted(allowed))}")
            top[key] = _coerce(key, raw, top_hints[key])
    try:
        built = {s: cls(**sections[s]) for s, cls in _SECTIONS.items()}
    except TypeError as e:  # pragma: no cover - guarded by the key checks above
        raise ConfigError(str(e)) from None
    cfg = EvalConfig(**built, **top)
    if cfg.workers < 1:
        raise ConfigError(f"workers={cfg.workers} must be >= 1")
    if cfg.n_boot < 100:
        raise ConfigError(f"n_boot={cfg.n_boot} is too few resamples for a 95% interval; use >= 100")
    if cfg.report.worst_n < 0:
        raise ConfigError(f"report.worst_n={cfg.report.worst_n} must be >= 0")
    return cfg


def config_defaults() -> dict:
    """The defaults as a nested dict (what conf/eval/default.yaml must contain)."""
    d = dataclasses.asdict(EvalConfig())
    d["normalize"]["fillers"] = list(d["normalize"]["fillers"])
    return d


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
    """Entry point for ``synth eval``; returns the exit code (0 ok, 1 gate failed, 2 bad input)."""
    ap = argparse.ArgumentParser(prog="synth eval", description="Score an ASR engine on a built synth set, "
                                 "per slice, with bootstrap intervals, an optional regression gate and an HTML report.")
    ap.add_argument("set_dir", help="folder of a built set (holds manifest.jsonl)")
    ap.add_argument("overrides", nargs="*", help="key=value, e.g. asr=pocketsphinx workers=2 gate.baseline=old.json")
    ap.add_argument("--real", help="real recordings with references (NeMo manifest .jsonl or .stm), scored the same "
                    "way and reported next to the set (see synth.eval.real)")
    args = ap.parse_intermixed_args(argv)
    try:
        from .report import make_report
        from .run import evaluate

        cfg = parse_overrides(args.overrides)
        set_dir = Path(args.set_dir)
        if not (set_dir / "manifest.jsonl").is_file():
            raise ConfigError(f"{set_dir} is not a built set (no manifest.jsonl); give the set folder")
        baseline = load_results(cfg.gate.baseline) if cfg.gate.baseline else None
        terms = load_terms(cfg.terms, cfg.normalize) if cfg.terms else None
        scfg = SummaryConfig(seed=cfg.seed, n_boot=cfg.n_boot)
        results = evaluate(set_dir, cfg.asr, workers=cfg.workers, cache_dir=cfg.cache_dir, out_dir=cfg.out,
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
    except SynthError as e:
        print(f"synth eval: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
