"""What effects may see: :class:`ItemContext` while sampling, :class:`RenderContext` while rendering.

Both are plain objects owned by one build (or one worker); there is no module-level cache.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .audio import load
from .channel.base import build_effect


@dataclass
class ItemContext:
    """Sampling context of one item: its id, working rate and length, the source pools, the RIR bank."""

    item_id: str
    sr: int
    duration_s: float
    pools: Any              # synth.sources.Pools
    rooms: Any = None       # synth.room.bank.RoomBank, when the build has a room effect


class RenderContext:
    """Loads source files relative to the sources root, resampled, with a small per-worker LRU cache;
    keeps the effects built from recipe steps, so a worker builds each distinct effect config once."""

    def __init__(self, root: str | Path, max_items: int = 64):
        self.root = Path(root)
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._max = max_items
        self._effects: dict[str, Any] = {}
        self._by_config: dict[int, tuple] = {}

    def effect(self, step: dict):
        """The effect of a recipe step (``{"name", "config", "params"}``), built from its config once.
        Recipes sampled from one plan share their steps' config dicts, so those are looked up by identity
        before their JSON text is made (the entry keeps the dict alive, so its id is not reused)."""
        config = step.get("config")
        seen = self._by_config.get(id(config))
        if seen is not None and seen[0] is config and seen[1] == step["name"]:
            return seen[2]
        key = json.dumps([step["name"], config], sort_keys=True, default=str)
        if key not in self._effects:
            self._effects[key] = build_effect({"name": step["name"], **(config or {})})
        if len(self._by_config) >= 256:  # recipes read from a manifest each bring their own dicts
            self._by_config.clear()
        self._by_config[id(config)] = (config, step["name"], self._effects[key])
        return self._effects[key]

    def path(self, rel_path: str) -> Path:
        p = Path(rel_path)
        return p if p.is_absolute() else self.root / p

    def load(self, rel_path: str, sr: int, channel: int | None = None) -> np.ndarray:
        key = (rel_path, sr, channel)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        x = load(self.path(rel_path), sr, channel=channel)
        x.setflags(write=False)
        self._cache[key] = x
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return x

    def cached(self, key: tuple, make) -> Any:
        """Cache anything derived from the sources (e.g. a simulated RIR's spectrum) under ``key``."""
        if key not in self._cache:
            self._cache[key] = make()
            if len(self._cache) > self._max:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]
