"""Speaker sampling matched to deployment traffic: weights over speaker metadata.

``weights = {"accent": {"indian_english": 0.4, "us_english": 0.6}, "gender": {"F": 0.5, "M": 0.5}}``
makes each listed attribute's realized mix follow its weights, however many speakers each group has:
P(speaker) is proportional to the product over attributes of weight(value) / (#speakers with that value).
Speakers whose value is not listed get weight 0; a missing attribute counts as the value ``unknown``.
"""

from __future__ import annotations

import json

import numpy as np

from ..errors import ConfigError


def check_speakers(speakers) -> None:
    """``scenario.speakers`` is ``{weights: {meta_key: {value: weight >= 0}}}`` (every part optional)."""
    if not hasattr(speakers, "items") or set(speakers) - {"weights"}:
        raise ConfigError(f"scenario.speakers={speakers!r}: expected {{weights: {{<meta key>: {{<value>: weight}}}}}}")
    weights = speakers.get("weights") or {}
    if not hasattr(weights, "items"):
        raise ConfigError(f"scenario.speakers.weights={weights!r}: expected {{<meta key>: {{<value>: weight}}}}")
    for key, table in weights.items():
        ok = hasattr(table, "items") and all(isinstance(w, (int, float)) and not isinstance(w, bool)
                                             and np.isfinite(w) and w >= 0 for w in table.values())
        if not ok:
            raise ConfigError(f"scenario.speakers.weights.{key}={table!r}: expected {{<value>: weight >= 0}}")


def speaker_value(meta: dict, key: str) -> str:
    v = meta.get(key)
    return "unknown" if v in (None, "", "?") else str(v)


def speaker_probabilities(speakers: list[str], meta: dict[str, dict], weights: dict | None) -> np.ndarray:
    p = np.ones(len(speakers))
    for key, table in (weights or {}).items():
        table = {str(k): float(v) for k, v in dict(table).items()}
        values = [speaker_value(meta[s], key) for s in speakers]
        counts = {v: values.count(v) for v in set(values)}
        present = {v for v in table if v in counts and table[v] > 0}
        if not present:
            raise ConfigError(f"speakers.weights.{key}: none of {sorted(table)} occur in the speech pool "
                              f"(values present: {sorted(counts)})")
        p *= np.array([table.get(v, 0.0) / counts[v] for v in values])
    if p.sum() <= 0:
        raise ConfigError(f"speakers.weights={weights}: no speaker has a non-zero weight")
    return p / p.sum()


def sample_speakers(rng: np.random.Generator, pool, n: int, weights: dict | None = None,
                    prefer: np.ndarray | None = None) -> list[str]:
    """``n`` distinct speakers drawn with metadata weights (without replacement). ``prefer``: a boolean mask
    over ``pool.speakers``; the draw is restricted to it (weights renormalized) when it leaves ``n`` speakers
    with a non-zero weight, else ignored."""
    speakers = pool.speakers
    if n > len(speakers):
        raise ConfigError(f"scenario needs {n} distinct speakers but the speech pool has {len(speakers)}; "
                          "add speakers or lower the speaker count")
    key = ("speaker_probabilities", json.dumps(weights, sort_keys=True, default=str))
    if key not in pool.derived:  # O(speakers) work, once per pool rather than once per item
        pool.derived[key] = speaker_probabilities(speakers, {s: pool.by_speaker[s][0].meta for s in speakers}, weights)
    p = pool.derived[key]
    if np.count_nonzero(p) < n:
        raise ConfigError(f"speakers.weights leave {np.count_nonzero(p)} eligible speakers, need {n}")
    if prefer is not None and np.count_nonzero(p * prefer) >= n:
        p = p * prefer / (p * prefer).sum()
    idx = rng.choice(len(speakers), size=n, replace=False, p=p)
    return [speakers[i] for i in idx]
