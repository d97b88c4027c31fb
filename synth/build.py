"""Build a set: plan it, run its items through an executor (:mod:`synth.executor`: chunks of item ids;
workers sample, render and write their items), then stream the manifest, labels and card from what the
items wrote. Writing items is :mod:`synth.writer`'s job; this module only orchestrates.

Resuming: an unsharded set's finished items are listed in its journal (``.parts/run-<k>.jsonl``, their
manifest lines appended as their audio is written, :mod:`synth.writer.journal`); a sharded set's
finished shards leave their manifest (:mod:`synth.writer.shards`).
A rerun of the same config skips what is finished and makes the rest, so a killed build finishes with
no item missing or duplicated. What may share an ``out_dir`` (same config and sources, one build at a
time) is decided in :mod:`synth.outdir`; stops (Ctrl-C, SIGTERM) in :mod:`synth.stops`.
"""

from __future__ import annotations

import json
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

from .audio import atomic_open, atomic_write_text, sha256_file
from .context import RenderContext
from .executor import make_executor
from .outdir import STAMP, claim, remove_partial_writes
from .plan import Plan, make_plan, plain, sample_recipe
from .progress import progress_bar
from .suite import plan_suite
from .writer import journal
from .writer.card import SetSummary, write_card
from .writer.item import Job, SetInfo, encode_item, write_item
from .writer.labels import LabelWriter, label_names
from .writer.shards import CONCAT_LIMIT, ShardLayout, shard_lines, start_layout, write_shard
from .writer.targets import quantities, speaker_keys, speaker_mix, targets_vs_realized


def make_item(plan: Plan, out_dir: Path, job: Job, ctx: RenderContext | None = None) -> dict:
    """Sample, render and write one (unsharded) item; returns its manifest line."""
    ctx = ctx or RenderContext(plan.pools.root)
    return write_item(SetInfo.of(plan), out_dir, job, sample_recipe(plan, job.item_id, job.pair_id), ctx)


@dataclass
class ItemTask:
    """What a worker runs on each chunk: sample, render and write the chunk's items (a list of jobs, or
    one ``(index, jobs)`` shard when ``layout`` is set). ``plans`` maps a job's slice (suites) or part
    (mixture profiles) to its plan (a plain set has one plan, under None). Returns (id, duration, manifest line as JSON text or None for a
    shard, which keeps its own manifest) per item. The decoded-file cache lives as long as the task does
    in a worker: a whole build's share of chunks (synth.executor installs the task once per worker)."""

    plans: dict[str | None, Plan]
    out_dir: Path
    layout: ShardLayout | None = None

    def __call__(self, chunk) -> list[tuple[str, float, str | None]]:
        ctx = self.__dict__.setdefault("_ctx", RenderContext(next(iter(self.plans.values())).pools.root))
        if self.layout is None:
            lines = (write_item(self._info(j), self.out_dir, j, self._recipe(j), ctx) for j in chunk)
            return [(line["id"], line["duration"], json.dumps(line, ensure_ascii=False)) for line in lines]
        index, jobs = chunk
        done = write_shard(self.out_dir, self.layout, index,
                           (encode_item(self._info(j), j, self._recipe(j), ctx) for j in jobs))
        return [(item_id, duration, None) for item_id, duration in done]

    def _info(self, job: Job) -> SetInfo:
        return SetInfo.of(self.plans[job.plan_key])

    def _recipe(self, job: Job) -> dict:
        return sample_recipe(self.plans[job.plan_key], job.item_id, job.pair_id)

    def __getstate__(self) -> dict:  # the cache stays with the process that filled it
        return {k: v for k, v in self.__dict__.items() if k != "_ctx"}


def jobs_for(plan: Plan) -> list[Job]:
    n = int(plan.cfg["n_items"])
    return [Job(f"{plan.id_prefix}-{i:06d}") for i in range(n)]


def _done(out_dir: Path, audio: tuple[str, str] | None) -> bool:
    """An item the journal lists (``audio``: its audio_filepath and audio_sha256) whose audio is unchanged."""
    try:
        return audio is not None and sha256_file(out_dir / audio[0]) == audio[1]
    except OSError:
        return False


def run_jobs(plans: dict[str | None, Plan], out_dir: Path, jobs: list[Job], executor,
             layout: ShardLayout | None = None) -> None:
    """Make the unfinished items of ``jobs`` on ``executor``: loose items in chunks sized for the load
    balance, or whole shards."""
    if layout is None:
        finished = journal.finished(out_dir)
        todo = [j for j in jobs if not _done(out_dir, finished.pop(j.item_id, None))]
        workers = executor.workers
        # about 8 chunks per worker, so the last ones leave little idle time (a worker keeps its caches
        # across chunks, see synth.executor); 4-32 items, so per-chunk overhead stays small
        size = 4 if workers <= 1 else max(4, min(32, len(todo) // (workers * 8)))
        chunks = [todo[i: i + size] for i in range(0, len(todo), size)]
    else:
        chunks = [(k, js) for k, js in layout.split(jobs) if not layout.done(out_dir, k)]
        todo = [j for _, js in chunks for j in js]
    if not todo:
        return
    with ExitStack() as stack:
        run = stack.enter_context(journal.Journal(out_dir, {j.item_id: i for i, j in enumerate(jobs)})) \
            if layout is None else None
        bar = stack.enter_context(progress_bar(len(jobs), done=len(jobs) - len(todo)))
        for results in executor.map_ordered(ItemTask(plans, out_dir, layout), chunks):
            if run is not None:
                run.add((item_id, line) for item_id, _, line in results)
            for _, dur, _ in results:
                bar.advance(dur)


def _lines(out_dir: Path, jobs: list[Job], layout: ShardLayout | None) -> Iterator[str]:
    if layout is None:
        yield from journal.merged(out_dir, [j.item_id for j in jobs])
    else:
        yield from shard_lines(out_dir, layout, len(layout.split(jobs)))


def finish(plan: Plan, out_dir: Path, jobs: list[Job], extra_card: dict | None = None) -> SetSummary:
    """Stream the finished items into manifest.jsonl, the label files (RTTM, CTM, STM, SegLST) and the card,
    one manifest line at a time; a sharded set bigger than ``CONCAT_LIMIT`` items gets only its index."""
    layout = ShardLayout.of(plan.cfg)
    summary = SetSummary(quantities(plan.cfg), speaker_keys(plan.cfg))
    skipped = {s["path"]: s for s in plan.pools.skipped}
    whole = layout is None or len(jobs) <= CONCAT_LIMIT
    with ExitStack() as stack:
        manifest = stack.enter_context(atomic_open(out_dir / "manifest.jsonl")) if whole else None
        labels = stack.enter_context(LabelWriter(out_dir, label_names())) if whole else None
        for text in _lines(out_dir, jobs, layout):
            item = json.loads(text)
            summary.add(item)
            for s in item["recipe"].get("unusable_sources") or []:  # found when an item drew them
                skipped.setdefault(s["path"], s)
            if whole:
                manifest.write(text + "\n")
                labels.add(item)
    atomic_write_text(out_dir / "config.yaml", yaml.safe_dump(plan.cfg, sort_keys=False))
    extra = dict(extra_card or {})
    if not plan.cfg.get("suite") and not (plan.cfg.get("profile") or {}).get("mixture"):  # one config to compare
        extra.setdefault("targets", targets_vs_realized(plan.cfg, summary))
        mix = speaker_mix(plan.cfg, summary)
        if mix:
            extra.setdefault("speaker_mix", mix)
    if plan.pools.excluded:
        extra.setdefault("excluded_sources", plan.pools.excluded)
    if plan.cfg.get("profile"):
        extra.setdefault("profile", {k: v for k, v in plan.cfg["profile"].items() if k != "targets"})
    write_card(out_dir, summary, {"generator": plan.generator(), "sources": plan.pools.licenses(),
                                  "skipped": list(skipped.values()), "extra": extra})
    shutil.rmtree(out_dir / journal.PARTS, ignore_errors=True)
    summary.skipped = len(skipped)
    return summary


def build(cfg) -> Path:
    """Build the set ``cfg`` describes (a suite when it has ``suite``) into its ``out_dir``."""
    c = plain(cfg)
    resuming = (Path(c.get("out_dir", ".")).expanduser().resolve() / STAMP).exists()
    if c.get("suite"):
        whole, plans, jobs, extra_card = plan_suite(c, verify_sources=resuming)
    elif (c.get("profile") or {}).get("mixture"):
        from .profiles.mixture import plan_mixture

        whole, plans, jobs, extra_card = plan_mixture(c, verify_sources=resuming)
    else:
        whole = make_plan(c, verify_sources=resuming)
        plans, jobs, extra_card = {None: whole}, jobs_for(whole), None
    out_dir = Path(whole.cfg["out_dir"]).expanduser().resolve()
    layout = ShardLayout.of(whole.cfg)
    with claim(out_dir, whole, [j.item_id for j in jobs], layout):
        start_layout(out_dir, layout, len(jobs))
        with make_executor(whole.cfg) as executor:
            run_jobs(plans, out_dir, jobs, executor, layout)
        if executor.lost_workers:  # a worker killed mid-write (a lost Ray node) left its temp file
            remove_partial_writes(out_dir)
        summary = finish(whole, out_dir, jobs, extra_card)
    name = f"suite {c['suite'].get('name')}: {len(plans)} slices x {len(jobs) // len(plans)} paired items = " \
        if c.get("suite") else ""
    print(f"built {name}{summary.n_items} items ({summary.total_duration / 60:.1f} min of audio) in {out_dir}; "
          f"{summary.skipped} inputs skipped")
    return out_dir
