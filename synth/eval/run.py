"""Run an ASR engine over a built set and score it (:func:`evaluate`), with a per-item hypothesis cache so an
interrupted eval resumes and re-scoring never re-runs the engine.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing as mp
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from ..audio import atomic_write_text
from ..errors import ConfigError, SynthError
from ..progress import progress_bar
from ..writer.manifest import audio_files, read_manifest
from .engines import EngineSpec, build_engine, engine_key, preflight
from .behavior import behavior_results
from .metrics import SummaryConfig, score_item, summarize
from .normalize import NormalizerConfig

RESULTS_VERSION = 1


def cache_name(item_id: str) -> str:
    """File-system-safe cache file name for an item id."""
    if re.fullmatch(r"[A-Za-z0-9_.\-]{1,120}", item_id) and not item_id.startswith("."):
        return f"{item_id}.json"
    return f"h-{hashlib.sha256(item_id.encode()).hexdigest()[:24]}.json"


def read_cached(path: Path, item_id: str) -> dict | None:
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or a torn/corrupt file from another tool: recompute
    return rec["hyp"] if isinstance(rec, dict) and rec.get("id") == item_id and "hyp" in rec else None


# One engine per worker process, built by the pool initializer (process-local, not shared state).
_WORKER_ENGINE = None
_WORKER_ERROR: str | None = None


def _init_worker(spec: EngineSpec) -> None:
    global _WORKER_ENGINE, _WORKER_ERROR
    try:
        _WORKER_ENGINE = build_engine(spec)
    except SynthError as e:  # reported by the first task (an initializer error would only break the pool)
        _WORKER_ERROR = str(e)


def _transcribe_in_worker(path: str, item: dict) -> dict:
    if _WORKER_ERROR is not None:
        raise SynthError(_WORKER_ERROR)
    try:
        return _WORKER_ENGINE.transcribe(Path(path), item)
    except SynthError as e:  # subclasses with extra __init__ args do not unpickle; send the message
        raise SynthError(str(e)) from None


def transcribe_all(audio: dict[str, Path], items: list[dict], spec: EngineSpec, hyp_dir: Path, workers: int = 1,
                   show_progress: bool = True) -> tuple[dict[str, dict], int]:
    """Hypotheses for every item (cached ones read back); ``audio``: each item's audio file by id, checked
    by the caller. Returns ({id: hyp}, number computed now)."""
    hyp_dir.mkdir(parents=True, exist_ok=True)
    hyps: dict[str, dict] = {}
    todo = []
    for it in items:
        cached = read_cached(hyp_dir / cache_name(str(it["id"])), str(it["id"]))
        if cached is not None:
            hyps[str(it["id"])] = cached
        else:
            todo.append(it)

    def store(it: dict, hyp: dict) -> None:
        if not isinstance(hyp, dict) or "text" not in hyp:
            hyp = {"text": str(hyp)}
        hyps[str(it["id"])] = hyp
        atomic_write_text(hyp_dir / cache_name(str(it["id"])),
                          json.dumps({"id": str(it["id"]), "hyp": hyp}, ensure_ascii=False))

    engine = None
    if todo:
        preflight(spec)
        if workers <= 1:
            engine = build_engine(spec)
    dur = lambda it: float(it.get("duration") or 0.0)  # noqa: E731
    with progress_bar(len(items), done=len(hyps), label=f"eval {spec.name} ({len(hyps)} cached)", stderr=True,
                      show=show_progress and bool(todo)) as bar:
        if engine is not None:
            for it in todo:
                store(it, engine.transcribe(audio[str(it["id"])], it))
                bar.advance(dur(it))
        elif todo:
            # spawn: workers start clean (no copied locks/threads); each builds the engine once.
            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                     initializer=_init_worker, initargs=(spec,)) as pool:
                futs = {pool.submit(_transcribe_in_worker, str(audio[str(it["id"])]), it): it for it in todo}
                try:
                    for fut in as_completed(futs):
                        store(futs[fut], fut.result())
                        bar.advance(dur(futs[fut]))
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)  # finished items stay cached
                    raise
    return hyps, len(todo)


def _fmt(x) -> str:
    return "" if x is None else (f"{x:.6f}" if isinstance(x, float) else str(x))


def results_csv(summary: dict) -> str:
    """One row per group: overall, each slice (with its paired delta vs the reference slice), each
    condition value."""
    cols = ["group", "name", "n_items", "ref_words", "errors", "wer", "wer_lo", "wer_hi", "cer", "cer_lo",
            "cer_hi", "lost_words", "wer_excl_lost", "delta_vs_ref", "delta_lo", "delta_hi", "cpwer", "orcwer", "der"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)

    def row(group, name, s):
        pd = s.get("paired_vs_ref") or {}
        wci, cci, dci = s.get("wer_ci") or [None, None], s.get("cer_ci") or [None, None], pd.get("delta_ci") or [None, None]
        w.writerow([group, name, s["n_items"], s["ref_words"], s["errors"], _fmt(s["wer"]), _fmt(wci[0]), _fmt(wci[1]),
                    _fmt(s["cer"]), _fmt(cci[0]), _fmt(cci[1]), s["lost_words"], _fmt(s["wer_excl_lost"]),
                    _fmt(pd.get("delta")), _fmt(dci[0]), _fmt(dci[1]), _fmt(s.get("cpwer")), _fmt(s.get("orcwer")),
                    _fmt(s.get("der"))])

    row("overall", "all", summary["overall"])
    for name, s in summary["slices"].items():
        row("slice", name, s)
    for dim, vals in summary["dimensions"].items():
        for v, s in vals.items():
            row(dim, v, s)
    return buf.getvalue()


def items_csv(scored: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "slice", "ref_words", "errors", "substitutions", "deletions", "insertions", "wer",
                "lost_words", "ref_norm", "hyp_norm"])
    for it in scored:
        x = it["wer"]
        w.writerow([it["id"], it["slice"], x["ref_words"], x["errors"], x["substitutions"], x["deletions"],
                    x["insertions"], _fmt(x["errors"] / x["ref_words"] if x["ref_words"] else None),
                    it["lost"]["lost_words"], it["ref_norm"], it["hyp_norm"]])
    return buf.getvalue()


def evaluate(set_dir: str | Path, engine: EngineSpec, workers: int = 1, cache_dir: str | Path | None = None,
             out_dir: str | Path | None = None, normalizer: NormalizerConfig | None = None,
             summary: SummaryConfig | None = None, ref_slice: str | None = None,
             show_progress: bool = True) -> dict:
    """Transcribe (with cache), score and summarize a set; write results.json/.csv; return the results.

    * Hypotheses are cached one file per item, ``<cache_dir>/<engine-key>/hyps/<id>.json`` (``cache_dir``
      defaults to ``<set_dir>/eval``), written atomically, so an interrupted eval resumes where it stopped and
      re-scoring with another normalizer or gate never re-runs the engine. The engine key hashes every engine
      setting that can change the output (see :func:`synth.eval.engines.engine_key`).
    * ``workers > 1`` runs the engine in a process pool (each process builds its own engine once).
      Hypotheses depend only on the item, scoring happens afterwards in manifest order, and bootstrap draws
      come from seeded per-group generators, so results do not depend on the worker count.
    * Outputs in ``out_dir`` (default ``<cache_dir>/<engine-key>/``): ``results.json`` (summary + every scored
      item with its alignment), ``results.csv`` (one row per slice / condition value), ``items.csv``.
    """
    set_dir = Path(set_dir)
    if not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r} must be an integer >= 1")
    items = read_manifest(set_dir)
    key = engine_key(engine)
    root = Path(cache_dir) if cache_dir else set_dir / "eval"
    audio = audio_files(set_dir, items, root / "audio")  # a tar-sharded set's audio is unpacked there once
    hyps, n_computed = transcribe_all(audio, items, engine, root / key / "hyps", workers, show_progress)
    norm = normalizer or NormalizerConfig()
    scfg = summary or SummaryConfig()
    scored = [score_item(it, hyps[str(it["id"])], norm) for it in items]
    results = {
        "version": RESULTS_VERSION,
        "synthetic": True,
        "note": "Scored on synthetic test data built by synth: a complement to real production audio, "
                "not a replacement for it.",
        "set": {"path": str(set_dir.resolve()), "n_items": len(items),
                "generator": items[0].get("generator")},
        "engine": {"key": key, "spec": {k: v for k, v in asdict(engine).items() if k != "api_key_env"}},
        "normalizer": norm.to_dict(),
        "bootstrap": asdict(scfg),
        "n_hypotheses_computed": n_computed,
        "summary": summarize(scored, scfg, ref_slice),
        **behavior_results(items, scored, norm, scfg),  # sets built with a behavior (synth.eval.behavior)
        "items": scored,
    }
    out = Path(out_dir) if out_dir else root / key
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "results.json", json.dumps(results, ensure_ascii=False, indent=1))
    atomic_write_text(out / "results.csv", results_csv(results["summary"]))
    atomic_write_text(out / "items.csv", items_csv(scored))
    results["out_dir"] = str(out)
    return results
