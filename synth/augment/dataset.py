"""PyTorch ``IterableDataset`` that renders a config's items on the fly (extra ``torch``), sharded over ranks and
DataLoader workers, with new conversations and conditions each epoch.
"""

from __future__ import annotations

import numbers
import os
from typing import Sequence

from ..context import RenderContext
from ..errors import BadInput, ConfigError
from ..extras import require
from ..plan import Plan, sample_recipe
from ..render import render
from .augmenter import plan_from_config

torch = require("torch", "torch", "synth.augment.RenderedDataset")


def rank_and_world() -> tuple[int, int]:
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def shard() -> tuple[int, int]:
    """(this shard's index, number of shards) over distributed ranks x DataLoader workers."""
    rank, world = rank_and_world()
    info = torch.utils.data.get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * workers + worker, world * workers


class RenderedDataset(torch.utils.data.IterableDataset):
    """``n_items`` items of a build config, rendered in the worker that yields them.

    Any scenario works: single talkers, two-party calls, meetings. Item ``i`` is the build's item ``i``
    (``<prefix>-<i:06d>``): at epoch 0 it has the recipe ``synth build`` would give it with the same config and
    seed; at epoch ``e > 0`` every draw is keyed on ``<id>@<e>`` instead, so each epoch brings new
    conversations and conditions. Rendering is :func:`synth.render.render`, the build's own.

    Sharding: items are dealt round-robin over ``world_size * num_workers`` shards (rank from
    ``torch.distributed`` when it is initialised, else the ``RANK``/``WORLD_SIZE`` variables torchrun sets;
    worker from ``get_worker_info``). Item ``i`` is the same audio whatever the worker count, and the shards
    together hold every item once. With one process, a DataLoader's round-robin over its workers yields items
    in index order. Call :meth:`set_epoch` before each epoch's iterator is made (workers copy the dataset
    then; with ``persistent_workers=True`` they would keep the old epoch).

    Each item is a dict: ``id``, ``audio`` (float32 tensor, ``(T,)`` or ``(C, T)`` for stereo calls),
    ``sample_rate``, ``text``, ``segments`` (RTTM-style: speaker, channel, start, end, text, overlap...),
    ``conditions`` (as in a manifest line) and ``epoch``; with a ``behavior``, ``text`` and each segment's
    ``text``/``words`` are verbatim (fillers, false starts), segments carry ``events`` and ``text_fluent``,
    and the item ``text_fluent`` (the intended words, as a manifest line has it). :func:`collate` pads a batch.
    """

    def __init__(self, plan: Plan, n_items: int | None = None):
        self.plan = plan
        n = plan.cfg["n_items"] if n_items is None else n_items
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ConfigError(f"n_items={n!r}: must be a whole number >= 0, e.g. n_items=10_000")
        self.n_items = int(n)
        self.epoch = 0

    @classmethod
    def from_config(cls, overrides: Sequence[str] = (), profile: str | None = None, seed: int = 0,
                    exclude: Sequence[str] | None = None, n_items: int | None = None) -> "RenderedDataset":
        """The items ``synth build <overrides>`` would make (see :func:`synth.augment.augmenter.plan_from_config`)."""
        return cls(plan_from_config(overrides, profile, seed, exclude), n_items)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n_items

    def item_id(self, i: int) -> str:
        return f"{self.plan.id_prefix}-{i:06d}"

    def item(self, i: int, ctx: RenderContext | None = None) -> dict:
        """Render item ``i`` of the current epoch."""
        item_id = self.item_id(i)
        recipe = sample_recipe(self.plan, item_id, f"{item_id}@{self.epoch}" if self.epoch else None)
        out = render(recipe, ctx or RenderContext(self.plan.pools.root))
        conditions = {"scenario": recipe["scenario"]}
        profile = (self.plan.cfg.get("profile") or {}).get("name")
        if profile:
            conditions["profile"] = profile
        conditions.update(out.conditions)
        if len(recipe["talkers"]) > 1:
            from ..writer.item import turn_conditions
            conditions.update(turn_conditions(out.segments, recipe["duration_s"]))
        fluent = ({"text_fluent": " ".join(s["text_fluent"] for s in out.segments)}  # behavior sets, as the writer
                  if any("text_fluent" in s for s in out.segments) else {})
        return {"id": item_id, "audio": torch.from_numpy(out.audio), "sample_rate": out.sr,
                "text": " ".join(s["text"] for s in out.segments), **fluent, "segments": out.segments,
                "conditions": conditions, "epoch": self.epoch}

    def __iter__(self):
        index, count = shard()
        ctx = RenderContext(self.plan.pools.root)  # one file cache per worker
        for i in range(index, self.n_items, count):
            yield self.item(i, ctx)


def collate(items: list[dict]) -> dict:
    """A batch: ``audio`` zero-padded to ``(B, T)`` or ``(B, C, T)``, ``lengths`` in samples, the rest as lists
    (``text_fluent`` when an item has it: a behavior set's; an item without gives its ``text``)."""
    rates = {it["sample_rate"] for it in items}
    if len(rates) > 1:
        raise BadInput("collate batch", f"mixes sample rates {sorted(rates)}",
                       "set output.sample_rate so every item has one rate")
    lengths = [it["audio"].shape[-1] for it in items]
    first = items[0]["audio"]
    audio = first.new_zeros((len(items), *first.shape[:-1], max(lengths)))
    for b, it in enumerate(items):
        audio[b, ..., : lengths[b]] = it["audio"]
    return {"audio": audio, "lengths": torch.tensor(lengths), "sample_rate": rates.pop(),
            **{k: [it[k] for it in items] for k in ("id", "text", "segments", "conditions", "epoch")},
            **({"text_fluent": [it.get("text_fluent", it["text"]) for it in items]}
               if any("text_fluent" in it for it in items) else {})}

