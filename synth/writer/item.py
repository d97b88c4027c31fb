"""One item's output: its rendered audio encoded with synthetic-marking tags, and its manifest line (with
the per-item turn statistics and overlap regions of multi-talker items).

Loose items (:func:`write_item`) are ``audio/<id>.<fmt>``; the build journals their manifest lines once
the audio is written (:mod:`.journal`). Sharded output (:mod:`.shards`) stores the same line and bytes
grouped per shard.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..audio import atomic_write_bytes, encode_audio
from .paths import inside
from ..render import Rendered, render
from .manifest import labels_sha256
from .slices import slices_for


@dataclass(frozen=True)
class Job:
    """One item to make: its id, the id its source speech is shared under (suites), extra labels, and the
    plan that makes it when a set has several (a suite's slice, else ``part``: a mixture's component)."""

    item_id: str
    pair_id: str | None = None
    slice: str | None = None
    part: str | None = None

    @property
    def plan_key(self) -> str | None:
        return self.part if self.part is not None else self.slice


@dataclass(frozen=True)
class SetInfo:
    """What writing an item needs besides its recipe: output settings and the set's provenance."""

    cfg: dict
    config_hash: str
    generator: dict

    @classmethod
    def of(cls, plan) -> "SetInfo":
        return cls(plan.cfg, plan.config_hash, plan.generator())

    @property
    def fmt(self) -> str:
        return (self.cfg.get("output") or {}).get("format", "flac")


def file_tags(info: SetInfo, item_id: str) -> dict:
    return {"title": item_id, "software": f"synth {info.generator['version']}",
            "comment": f"synthetic=true; generator=synth {info.generator['version']}; "
                       f"config_hash={info.config_hash}; a complement to real audio, not real call audio"}


@dataclass
class EncodedItem:
    """A rendered item ready to store: encoded audio and stems, and its manifest line (``audio_filepath``
    and ``audio_sha256`` are filled in by whoever stores the audio)."""

    info: SetInfo
    job: Job
    audio: bytes
    stems: dict[str, bytes]
    rendered: Rendered
    recipe: dict

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.audio).hexdigest()


def encode_item(info: SetInfo, job: Job, recipe: dict, ctx) -> EncodedItem:
    """Render ``recipe`` and encode its audio (and stems, when ``output.stems``)."""
    out = render(recipe, ctx)
    tags = file_tags(info, job.item_id)
    stems = {name: encode_audio(x, sr, info.fmt, tags) for name, (x, sr) in sorted(out.stems.items())} \
        if (info.cfg.get("output") or {}).get("stems") else {}
    return EncodedItem(info, job, encode_audio(out.audio, out.sr, info.fmt, tags), stems, out, recipe)


def manifest_line(item: EncodedItem, audio_filepath: str, audio_sha256: str) -> dict:
    """The item's manifest line: audio, labels, realized conditions, slices, provenance and full recipe."""
    info, out, recipe, job = item.info, item.rendered, item.recipe, item.job
    if len(recipe["talkers"]) > 1:
        out.conditions.update(turn_conditions(out.segments, recipe["duration_s"]))
    slices = {**(recipe.get("labels") or {}), **slices_for(out.conditions)}
    if job.slice:
        slices = {"slice": job.slice, **slices}
    line = {
        "id": job.item_id, "audio_filepath": audio_filepath, "duration": round(out.audio.shape[-1] / out.sr, 4),
        "sample_rate": out.sr, "num_channels": 1 if out.audio.ndim == 1 else int(out.audio.shape[0]),
        "text": " ".join(s["text"] for s in out.segments),
        # behavior builds: `text` is verbatim (fillers, restarts), `text_fluent` the intended words
        **({"text_fluent": " ".join(s["text_fluent"] for s in out.segments)}
           if any("text_fluent" in s for s in out.segments) else {}),
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
    return line


def write_stems(out_dir: Path, item: EncodedItem) -> None:
    for name, data in item.stems.items():
        atomic_write_bytes(inside(out_dir, f"stems/{item.job.item_id}/{name}.{item.info.fmt}"), data)


def write_item(info: SetInfo, out_dir: Path, job: Job, recipe: dict, ctx) -> dict:
    """Render ``recipe``, write its audio and stems, and return its manifest line."""
    item = encode_item(info, job, recipe, ctx)
    rel = f"audio/{job.item_id}.{info.fmt}"
    atomic_write_bytes(inside(out_dir, rel), item.audio)
    write_stems(out_dir, item)
    return manifest_line(item, rel, item.sha256)


def turn_conditions(segments: list[dict], duration_s: float) -> dict:
    """Realized per-item turn-taking statistics (overlap/silence ratio over the whole item, turns, talkers)."""
    from ..scene.turn_stats import realized_stats
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
