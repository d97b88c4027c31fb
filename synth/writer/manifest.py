"""Reading a set's manifest, and the manifest line's labels hash: a fingerprint of what the item claims
was said, and when.

``labels_sha256`` is the SHA-256 of the line's labels, ``{"segments": ..., "text": ...}`` (plus
``text_fluent`` when the line has one: behavior builds, whose segments also carry ``events``), written as
canonical JSON: keys sorted at every level, no whitespace (``separators=(",", ":")``), non-ASCII
characters kept as UTF-8 (``ensure_ascii=False``), numbers as Python's ``json`` writes them. ``synth
build`` stores it in every line; ``synth validate`` recomputes it, so a transcript or segment time edited
after the build is reported instead of trusted.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

from ..audio import atomic_write_bytes, sha256_file, text_lines
from ..errors import BadInput

INDEX = "shards.json"  # a sharded set's index of shards (synth.writer.shards)


def labels_sha256(line: dict) -> str:
    labels = {"segments": line.get("segments"), "text": line.get("text")}
    if "text_fluent" in line:  # behavior builds only, so other sets keep their hashes
        labels["text_fluent"] = line["text_fluent"]
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_manifest(set_dir: Path, need: tuple[str, ...] = ("id", "audio_filepath", "text")) -> list[dict]:
    """Items of a built set, validated: unique ids and the keys in ``need`` (audio_filepath is relative to
    the set folder, or the member of its tar shard). A sharded set too big for a top-level manifest is read
    shard by shard (its index)."""
    set_dir = Path(set_dir)
    sources = manifest_files(set_dir)
    if not sources:
        raise BadInput(set_dir / "manifest.jsonl", "not found", "give the folder of a built set (it holds manifest.jsonl)")
    items, seen = [], set()
    for path in sources:
        for n, line in enumerate(text_lines(path), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                raise BadInput(path, f"line {n} is not valid JSON", "rebuild the set or fix the line") from None
            for key in dict.fromkeys(("id", *need)):
                if not isinstance(item, dict) or key not in item:
                    raise BadInput(path, f"line {n} has no {key!r}", "rebuild the set or fix the line")
            if str(item["id"]) in seen:
                raise BadInput(path, f"line {n} repeats item id {item['id']!r}", "ids must be unique")
            seen.add(str(item["id"]))
            items.append(item)
    if not items:
        raise BadInput(sources[0], "has no items", "build the set first")
    return items


def manifest_files(set_dir: Path) -> list[Path]:
    """Where a built set's manifest lines are: its manifest.jsonl, else (a sharded set too big for one) the
    shard manifests its index lists; [] for a folder that is not a set."""
    set_dir = Path(set_dir)
    if (set_dir / "manifest.jsonl").is_file():
        return [set_dir / "manifest.jsonl"]
    index = _index(set_dir)
    return [set_dir / s["manifest"] for s in index["shards"]] if index else []


def _index(set_dir: Path) -> dict | None:
    """A sharded set's index (None for an unsharded set)."""
    if not (set_dir / INDEX).is_file():
        return None
    try:
        return json.loads((set_dir / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BadInput(set_dir / INDEX, "cannot be read as JSON", "rebuild the set") from None


def audio_files(set_dir: Path, items: list[dict], unpack_to: Path) -> dict[str, Path]:
    """Each item's audio file, by id. A loose set's are its own files; a set stored in tar shards
    (``output.container=tar``) has its items' audio unpacked into ``unpack_to`` once (a file already
    there whose SHA-256 matches the manifest's is kept), for tools that read a file per item.
    A missing file or member, or one whose bytes differ from the manifest's hash, is a :class:`BadInput`."""
    set_dir = Path(set_dir)
    index = _index(set_dir)
    if not index or index.get("container") != "tar":
        paths = {}
        for it in items:
            p = Path(it["audio_filepath"])
            p = p if p.is_absolute() else set_dir / p
            if not p.is_file():
                raise BadInput(p, f"(audio of item {it['id']!r}) is missing", "restore it or rebuild the set")
            paths[str(it["id"])] = p
        return paths
    shards = {int(s["index"]): set_dir / s["tar"] for s in index["shards"]}
    by_shard: dict[int, list[dict]] = {}
    for it in items:
        by_shard.setdefault(int(it.get("shard_id", -1)), []).append(it)
    paths = {}
    for k, its in sorted(by_shard.items()):
        if k not in shards:
            raise BadInput(set_dir / INDEX, f"lists no shard {k} (item {its[0]['id']!r})", "rebuild the set")
        todo = []
        for it in its:
            dest = Path(unpack_to) / Path(it["audio_filepath"]).name
            paths[str(it["id"])] = dest
            if not (dest.is_file() and sha256_file(dest) == it.get("audio_sha256")):
                todo.append((it, dest))
        if todo:
            _unpack(shards[k], todo)
    return paths


def _unpack(tar_path: Path, todo: list[tuple[dict, Path]]) -> None:
    try:
        tar = tarfile.open(tar_path)
    except (OSError, tarfile.TarError) as e:
        raise BadInput(tar_path, f"cannot be read as a tar shard ({e})", "rebuild the set") from None
    with tar:
        for it, dest in todo:
            try:
                data = tar.extractfile(it["audio_filepath"]).read()
            except (KeyError, AttributeError):
                raise BadInput(tar_path, f"has no member {it['audio_filepath']!r} (item {it['id']!r})",
                               "rebuild the set") from None
            if it.get("audio_sha256") and hashlib.sha256(data).hexdigest() != it["audio_sha256"]:
                raise BadInput(tar_path, f"member {it['audio_filepath']!r} differs from the manifest's audio_sha256",
                               "rebuild the set")
            atomic_write_bytes(dest, data)
