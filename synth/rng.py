"""Per-item random generators.

Every random decision in synth comes from ``item_rng(seed, item_id, stage)``: a numpy Generator seeded
from a stable hash of (seed, item id, stage name). Draws therefore never depend on worker count, item
order, or on how many draws another stage made (the MMS-MSG / Lhotse ``_combine_seed`` idea).
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(*parts: object) -> int:
    """A 64-bit integer hash of ``parts`` that is the same on every machine and Python run."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def item_rng(seed: int, item_id: str, stage: str) -> np.random.Generator:
    """The generator for one stage of one item, e.g. ``item_rng(0, "st-000042", "leg0/noise")``."""
    seq = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, stable_hash(item_id, stage)])
    return np.random.Generator(np.random.PCG64(seq))  # what default_rng(seq) builds, at half its cost
