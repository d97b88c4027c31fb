"""An out_dir holds one set: one config, one set of sources (:func:`check_out_dir`), one build at a time
(:func:`lock`), nothing written outside it (:func:`id_problem`, :func:`inside`); write failures (disk full, no
permission, a read-only mount) are one line naming the path (:func:`write_errors`).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from . import __version__
from .audio import atomic_write_text
from .errors import ConfigError, SynthError
from .stops import Interrupted
from .writer import journal

STAMP = ".synth_build.json"
LOCK = ".synth.lock"
MAX_ID_BYTES = 200  # leaves room for the extension and the temp-file affixes within a 255-byte file name


def id_problem(item_id: object) -> str | None:
    """Why ``item_id`` cannot name an item's files, or None. Ids end up as file names and as RTTM/STM
    fields, so they must be one printable path component without whitespace."""
    if not isinstance(item_id, str) or not item_id:
        return "is not a non-empty string"
    if "/" in item_id or "\\" in item_id:
        return "contains a path separator"
    if ".." in item_id or item_id.startswith("."):
        return "contains '..' or starts with '.'"
    if not item_id.isprintable() or any(c.isspace() for c in item_id):
        return "contains whitespace or unprintable characters"
    if len(item_id.encode("utf-8")) > MAX_ID_BYTES:
        return f"is longer than {MAX_ID_BYTES} bytes"
    return None


def check_ids(ids: Iterable[object], source: str, fix: str) -> None:
    for item_id in ids:
        problem = id_problem(item_id)
        if problem:
            raise ConfigError(f"{source}: item id {item_id!r} {problem}; {fix}")


def sources_identity(pools) -> dict:
    """Where the sources are and a fingerprint of what they are (independent of file times): each speech
    file's path, length, speaker and transcript (digested once per speech source, see
    ``SpeechPool.digest``), each noise and RIR file's path and length."""
    files = sorted([kind, f.rel_path, round(f.duration_s, 4)] for kind, files in (("noise", pools.noise),
                                                                                  ("rir", pools.rirs)) for f in files)
    digest = hashlib.blake2b(json.dumps([pools.speech.digest(), files], ensure_ascii=False).encode(),
                             digest_size=8).hexdigest()
    return {"sources_root": str(pools.root), "sources_fingerprint": digest}


@contextmanager
def write_errors(out_dir: Path, key: str = "out_dir"):
    """Disk full, permissions, a file where a folder should be: one line naming the path (and ``key``, the
    setting that chose it)."""
    try:
        yield
    except OSError as e:
        where = f"{e.filename} ({key}={out_dir})" if e.filename else f"{key}={out_dir}"
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise SynthError(f"no space left on the device while writing {where}; free some space or choose "
                             f"another {key}, then rerun the same command to resume") from None
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise SynthError(f"cannot write {where}: {e.strerror}; choose an {key} you can write to "
                             "or fix its permissions") from None
        if e.errno in (errno.ENOTDIR, errno.EEXIST):
            raise SynthError(f"cannot create {where}: {e.strerror}; {key} must be a folder path "
                             "(no part of it an existing file)") from None
        raise


def make_folder(path: Path, key: str = "out_dir") -> None:
    """``mkdir -p``, or one line naming ``key`` when the folder cannot be made anywhere: under /proc
    (ENOENT: procfs takes no new folders), /sys (EPERM), on a read-only mount (EROFS), through a file."""
    try:
        with write_errors(path, key):
            path.mkdir(parents=True, exist_ok=True)
    except FileNotFoundError as e:
        raise SynthError(f"cannot create {e.filename or path} ({key}={path}): {e.strerror}; this file system "
                         f"takes no new folders (/proc, /sys): choose an {key} on a disk you can write to") from None


@contextmanager
def lock(out_dir: Path):
    """Hold ``out_dir``'s lock (``.synth.lock``, ``flock``) for the block (creating out_dir); refuse if another
    process holds it. The OS drops the lock when its process dies, so a killed build leaves no stale lock."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"out_dir={out_dir} is a file, not a folder; choose a folder path for out_dir")
    make_folder(out_dir)
    path = out_dir / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SynthError(f"out_dir {out_dir} is being built by another synth process (pid {pid}); "
                             "wait for it or choose another out_dir") from None
        try:  # the holder before us may have removed the file between our open and our lock
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        Path(path).unlink(missing_ok=True)  # before unlocking, so no one locks a file that is going away
        os.close(fd)


def _has_finished_items(out_dir: Path) -> bool:
    """A finished item: a manifest, an item in the build journal, or a finished shard's manifest."""
    return (out_dir / "manifest.jsonl").exists() or journal.count(out_dir) > 0 \
        or any((out_dir / "manifests").glob("*.jsonl")) or any((out_dir / "sharded_manifests").glob("*.json"))


def check_out_dir(out_dir: Path, plan) -> None:
    """Refuse an out_dir that holds another set (or anything else); then stamp this build's identity.

    ``.synth_build.json`` holds the config hash, ``sources.root`` and a fingerprint of the sources (every file's
    path and duration, each utterance's speaker and transcript): the same identity resumes; another config,
    root or changed sources are refused, so a set never mixes two corpora. The stamp is written once the
    plan is valid; a stamped out_dir with no finished item yet (the first build failed before one was
    written) is not a set yet, and a rerun with another config takes it over and says so."""
    stamp = out_dir / STAMP
    now = {"config_hash": plan.config_hash, **sources_identity(plan.pools)}
    if stamp.exists():
        try:
            old = json.loads(stamp.read_text())
        except (OSError, ValueError):
            old = {}
        if not _has_finished_items(out_dir):
            if any(old.get(k) != v for k, v in now.items()):
                print(f"out_dir={out_dir} was started with another config or other sources but holds no "
                      "finished item yet; taking it over for this build")
                for unfinished in ("audio", "stems", journal.PARTS):
                    shutil.rmtree(out_dir / unfinished, ignore_errors=True)
        elif old.get("config_hash") != plan.config_hash:
            raise ConfigError(f"out_dir={out_dir} holds a set built with another config (hash {old.get('config_hash')}, "
                              f"now {plan.config_hash}); choose a new out_dir or delete the old set")
        # a stamp written before sources were part of it has no sources_root: nothing to compare
        elif old.get("sources_root", now["sources_root"]) != now["sources_root"]:
            raise ConfigError(f"out_dir={out_dir} holds a set built from sources.root={old['sources_root']}, "
                              f"now sources.root={now['sources_root']}; rerun with "
                              f"sources.root={old['sources_root']} to resume it, or choose a new out_dir")
        elif old.get("sources_fingerprint", now["sources_fingerprint"]) != now["sources_fingerprint"]:
            raise ConfigError(f"out_dir={out_dir}: the sources under sources.root={now['sources_root']} changed "
                              "since this set was started (files added, removed, re-cut or re-transcribed); "
                              "restore them to resume, or choose a new out_dir")
    elif any(p.name != LOCK for p in out_dir.iterdir()):
        raise ConfigError(f"out_dir={out_dir} exists and is not a synth set; choose an empty or new out_dir")
    atomic_write_text(stamp, json.dumps({**now, "version": __version__}))


def remove_partial_writes(out_dir: Path) -> int:
    """Delete temp files a killed build left mid-write (atomic writes rename them only when complete)."""
    stale = [p for p in out_dir.rglob(".*.tmp") if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def restore_journal(out_dir: Path) -> None:
    """A finished unsharded set has no build journal: recreate it from its manifest so a rerun can skip
    its items (a sharded set resumes from its finished shards instead)."""
    from .writer.shards import INDEX

    manifest = out_dir / "manifest.jsonl"
    if manifest.exists() and not journal.runs(out_dir) and not (out_dir / INDEX).exists():
        journal.write_from_manifest(out_dir, manifest)


@contextmanager
def claim(out_dir: Path, plan, ids: list[str], layout=None):
    """Hold ``out_dir`` for one build of ``plan`` writing items ``ids``: ids checked, lock taken, identity
    checked and stamped, leftovers swept; write failures and interrupts reported in one line.
    ``layout``: the set's :class:`synth.writer.shards.ShardLayout` (None: loose items)."""
    check_ids(ids, "config", "item ids are <id_prefix or suite slice name>-<number>: use letters, "
                                "digits and _ . + - in id_prefix and slice names")
    with write_errors(out_dir), lock(out_dir):
        check_out_dir(out_dir, plan)
        remove_partial_writes(out_dir)
        restore_journal(out_dir)
        try:
            yield
        except Interrupted as e:
            if layout is None:
                done = journal.count(out_dir, ids)
            else:
                done = sum(len(js) for k, js in layout.split(ids) if layout.done(out_dir, k))
            e.progress = f"{done} of {len(ids)} items written"
            raise
