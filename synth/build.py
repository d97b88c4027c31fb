"""Build a set: sample and render every item (in a process pool), write it atomically, then the
manifest, labels, card and config.

Resuming: each finished item leaves ``.parts/<id>.json`` (its manifest line, written after its audio).
A rerun of the same config skips finished items and renders the rest, so a killed build finishes with
no item missing or duplicated. What may share an ``out_dir`` (same config and sources, one build at a
time) is decided in :mod:`synth.outdir`; stops (Ctrl-C, SIGTERM) in :mod:`synth.stops`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import yaml

from .audio import atomic_write_text, write_audio
from .context import RenderContext
from .outdir import claim, inside
from .plan import Plan, make_plan, sample_recipe
from .progress import progress_bar
from .render import render
from .stops import worker_pool
from .writer.card import write_card
from .writer.labels import ctm_lines, rttm_lines, seglst, stm_lines
from .writer.manifest import labels_sha256
from .writer.slices import slices_for
from .writer.targets import speaker_mix, targets_vs_realized


@dataclass(frozen=True)
class Job:
    """One item to make: its id, the id its source speech is shared under (suites), extra labels."""

    item_id: str
    pair_id: str | None = None
    slice: str | None = None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class SetInfo:
    """What writing an item needs besides its recipe: output settings and the set's provenance."""

    cfg: dict
    config_hash: str
    generator: dict

    @classmethod
    def of(cls, plan: Plan) -> "SetInfo":
        return cls(plan.cfg, plan.config_hash, plan.generator())


def file_tags(info: SetInfo, item_id: str) -> dict:
    return {"title": item_id, "software": f"synth {info.generator['version']}",
            "comment": f"synthetic=true; generator=synth {info.generator['version']}; "
                       f"config_hash={info.config_hash}; a complement to real audio, not real call audio"}


def make_item(plan: Plan, out_dir: Path, job: Job, ctx: RenderContext | None = None) -> dict:
    """Sample, render and write one item; returns its manifest line."""
    ctx = ctx or RenderContext(plan.pools.root)
    return write_item(SetInfo.of(plan), out_dir, job, sample_recipe(plan, job.item_id, job.pair_id), ctx)


def write_item(info: SetInfo, out_dir: Path, job: Job, recipe: dict, ctx: RenderContext) -> dict:
    """Render ``recipe`` and write its audio, stems and manifest line (the line last, atomically)."""
    out = render(recipe, ctx)
    output = info.cfg.get("output") or {}
    fmt = output.get("format", "flac")
    rel = f"audio/{job.item_id}.{fmt}"
    audio_sha256 = write_audio(inside(out_dir, rel), out.audio, out.sr, fmt, file_tags(info, job.item_id))
    if output.get("stems"):
        for name, (x, sr) in sorted(out.stems.items()):
            write_audio(inside(out_dir, f"stems/{job.item_id}/{name}.{fmt}"), x, sr, fmt, file_tags(info, job.item_id))
    if len(recipe["talkers"]) > 1:
        out.conditions.update(turn_conditions(out.segments, recipe["duration_s"]))
    slices = slices_for(out.conditions)
    if job.slice:
        slices = {"slice": job.slice, **slices}
    line = {
        "id": job.item_id, "audio_filepath": rel, "duration": round(out.audio.shape[-1] / out.sr, 4),
        "sample_rate": out.sr, "num_channels": 1 if out.audio.ndim == 1 else int(out.audio.shape[0]),
        "text": " ".join(s["text"] for s in out.segments),
        "segments": out.segments,
        "conditions": {"scenario": recipe["scenario"],
                       **({"profile": info.cfg["profile"]["name"]} if (info.cfg.get("profile") or {}).get("name") else {}),
                       **out.conditions},
        "slice": slices, "lost_spans": out.lost_spans, "overlap_regions": overlap_regions(out.segments), "synthetic": True, "generator": info.generator,
        "audio_sha256": audio_sha256, "recipe": recipe,
    }
    line["labels_sha256"] = labels_sha256(line)
    if job.pair_id:
        line["pair_id"] = job.pair_id
    atomic_write_text(out_dir / ".parts" / f"{job.item_id}.json", json.dumps(line, ensure_ascii=False))
    return line


def turn_conditions(segments: list[dict], duration_s: float) -> dict:
    """Realized per-item turn-taking statistics (overlap/silence ratio over the whole item, turns, talkers)."""
    from .scene.turn_stats import realized_stats
    s = realized_stats([(x["speaker"], x["start"], x["end"]) for x in segments], duration_s=duration_s)
    return {"overlap_ratio": round(s["overlap_ratio"], 4), "silence_ratio": round(s["silence_ratio"], 4),
            "n_turns": s["n_turns"], "n_speakers": s["n_speakers"], "n_backchannels": s["n_backchannels"],
            "n_truncated": sum(x["truncated"] for x in segments)}


def overlap_regions(segments: list[dict]) -> list[list[float]]:
    """[start, end] spans where two or more speakers talk at once."""
    events = sorted([(s["start"], 1) for s in segments] + [(s["end"], -1) for s in segments])
    out, active, since = [], 0, None
    for t, d in events:
        before = active
        active += d
        if before < 2 <= active:
            since = t
        elif before >= 2 > active and since is not None and t > since:
            out.append([round(since, 4), round(t, 4)])
    return out


def _make_many(plan: Plan, out_dir: Path, jobs: list[Job], ctx: RenderContext | None = None) -> list[tuple[str, float]]:
    ctx = ctx or RenderContext(plan.pools.root)
    return [(j.item_id, make_item(plan, out_dir, j, ctx=ctx)["duration"]) for j in jobs]


def jobs_for(plan: Plan) -> list[Job]:
    n = int(plan.cfg["n_items"])
    return [Job(f"{plan.id_prefix}-{i:06d}") for i in range(n)]


def _done(out_dir: Path, job: Job) -> bool:
    part = out_dir / ".parts" / f"{job.item_id}.json"
    if not part.exists():
        return False
    try:
        line = json.loads(part.read_text())
        return sha256_file(out_dir / line["audio_filepath"]) == line["audio_sha256"]
    except (OSError, ValueError, KeyError):
        return False


def run_jobs(plan: Plan, out_dir: Path, jobs: list[Job], workers: int) -> None:
    todo = [j for j in jobs if not _done(out_dir, j)]
    if not todo:
        return
    # chunks big enough for each worker's file cache to pay off, small enough to balance the load
    size = 4 if workers <= 1 else max(4, min(32, len(todo) // (workers * 4)))
    chunks = [todo[i: i + size] for i in range(0, len(todo), size)]
    with progress_bar(len(jobs), done=len(jobs) - len(todo)) as bar:
        if workers <= 1:
            ctx = RenderContext(plan.pools.root)
            for chunk in chunks:
                for item_id, dur in _make_many(plan, out_dir, chunk, ctx):
                    bar.advance(dur)
        else:
            with worker_pool(workers) as pool:
                for results in pool.map(partial(_make_many, plan, out_dir), chunks):
                    for item_id, dur in results:
                        bar.advance(dur)


def finish(plan: Plan, out_dir: Path, jobs: list[Job], extra_card: dict | None = None) -> list[dict]:
    """Assemble manifest.jsonl, segments.rttm, words.ctm, card, config.yaml from the finished items."""
    items = [json.loads((out_dir / ".parts" / f"{j.item_id}.json").read_text()) for j in jobs]
    atomic_write_text(out_dir / "manifest.jsonl", "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items))
    atomic_write_text(out_dir / "segments.rttm", "".join(l + "\n" for it in items for l in rttm_lines(it)))
    ctm = [l for it in items for l in ctm_lines(it)]
    if ctm:
        atomic_write_text(out_dir / "words.ctm", "\n".join(ctm) + "\n")
    atomic_write_text(out_dir / "references.seglst.json", json.dumps(seglst(items), ensure_ascii=False, indent=1))
    atomic_write_text(out_dir / "references.stm", "".join(l + "\n" for it in items for l in stm_lines(it)))
    atomic_write_text(out_dir / "config.yaml", yaml.safe_dump(plan.cfg, sort_keys=False))
    extra = dict(extra_card or {})
    if not plan.cfg.get("suite"):
        extra.setdefault("targets", targets_vs_realized(plan.cfg, items))
        mix = speaker_mix(plan.cfg, items)
        if mix:
            extra.setdefault("speaker_mix", mix)
    if plan.pools.excluded:
        extra.setdefault("excluded_sources", plan.pools.excluded)
    if plan.cfg.get("profile"):
        extra.setdefault("profile", {k: v for k, v in plan.cfg["profile"].items() if k != "targets"})
    write_card(out_dir, items, {"generator": plan.generator(), "sources": plan.pools.licenses(),
                                "skipped": plan.pools.skipped, "extra": extra})
    shutil.rmtree(out_dir / ".parts", ignore_errors=True)
    return items


def build(cfg) -> Path:
    if (cfg.get("suite") if hasattr(cfg, "get") else None):
        from .suite import build_suite
        return build_suite(cfg)
    plan = make_plan(cfg)
    out_dir = Path(plan.cfg["out_dir"]).expanduser().resolve()
    jobs = jobs_for(plan)
    with claim(out_dir, plan, [j.item_id for j in jobs]):
        run_jobs(plan, out_dir, jobs, int(plan.cfg.get("workers", 1)))
        items = finish(plan, out_dir, jobs)
    total = sum(it["duration"] for it in items)
    print(f"built {len(items)} items ({total / 60:.1f} min of audio) in {out_dir}; "
          f"{len(plan.pools.skipped)} inputs skipped")
    return out_dir
