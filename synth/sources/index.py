"""The source index: what synth knows about each source file, so a start reads headers once, not audio.

Per file, valid while its size and modification time are unchanged: its header (frames, rate,
channels) and, once measured, what the checks that need samples found (:func:`measure`). One index per
source folder and kind (a corpus's speech, a NeMo manifest's folder, a noise or RIR folder), kept in
``.synth-index/<kind>/`` beside the files when that folder is writable, else under
``$SYNTH_CACHE/index/`` (default ``~/.cache/synth``)::

    headers.json     per file: size, mtime_ns, frames, rate, channels (or why it is not audio)
    checks.jsonl     what the sample checks measured, appended by whichever process measured it
    changed.jsonl    headers of files found changed when first used; merged into headers.json next start
    rows-<key>.json  the checked rows of one speech source (synth.sources.snapshot)
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import stat
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import soundfile as sf

from ..audio import active_speech_level, atomic_write_text, power_db

FORMAT = 2
FOLDER = ".synth-index"
PARALLEL_FROM = 256      # files to read before a pool of processes pays for its start-up
CHUNK = 512


@dataclass(frozen=True)
class Header:
    """What a file's header says (frames at ``sr`` Hz, ``channels``), or why it could not be read, and
    what :func:`measure` found in its samples when that is known."""

    frames: int = 0
    sr: int = 0
    channels: int = 0
    problem: str | None = None            # the file is missing or not audio libsndfile can open
    stat: tuple[int, int] | None = None   # (size, mtime_ns) of the file these facts are about

    @property
    def duration_s(self) -> float:
        return self.frames / self.sr if self.sr else 0.0


@contextmanager
def no_gc():
    """Build many objects without the cyclic garbage collector: its passes over a heap that grows by
    10^5-10^6 new containers cost more than building them (0.85 -> 0.36 s for 200,000 utterances)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def cache_root() -> Path:
    return Path(os.environ.get("SYNTH_CACHE", Path.home() / ".cache" / "synth"))


def file_stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _writable(folder: Path) -> bool:
    """A folder whose permission bits let us write (``os.access`` alone says yes to root on a folder
    marked read-only, such as a shared corpus: it is left alone)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(folder, os.W_OK | os.X_OK)


def read_header(path: str) -> Header:
    """The file's header, with the (size, mtime) it was read at (taken first: a file changing meanwhile
    is read again next time rather than trusted)."""
    st = file_stat(path)
    if st is None:
        return Header(problem="does not exist")
    try:
        info = sf.info(path)
    except Exception as e:  # libsndfile's messages are specific ("Format not recognised", ...)
        return Header(problem=f"cannot be read as audio ({str(e).splitlines()[0]})", stat=st)
    return Header(int(info.frames), int(info.samplerate), int(info.channels), None, st)


def measure(path: str, speech: bool) -> dict:
    """Decode the whole file once and measure what the checks need: decoded ``frames`` at ``sr``,
    ``finite``, ``peak`` (all channels), ``ch0_peak`` (an RIR's first channel), ``power_db`` of the
    downmix, and for speech the P.56 active ``level_dbov`` (None: silent) and ``activity``; ``error``
    when it does not decode."""
    try:
        data, sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as e:
        return {"error": f"cannot be read as audio ({str(e).splitlines()[0]})"}
    out = {"frames": int(data.shape[0]), "sr": int(sr), "finite": bool(np.isfinite(data).all())}
    if data.size == 0 or not out["finite"]:
        return out
    mono = data.mean(axis=1)
    out.update(peak=float(np.max(np.abs(data))), ch0_peak=float(np.max(np.abs(data[:, 0]))),
               power_db=float(power_db(mono)))
    if speech:
        lvl = active_speech_level(mono, sr)
        out.update(level_dbov=float(lvl.level_dbov) if np.isfinite(lvl.level_dbov) else None,
                   activity=float(lvl.activity))
    return out


def enough(m: dict | None, speech: bool) -> bool:
    """Whether measures ``m`` hold what the checks of speech (or of other files) need."""
    if m is None:
        return False
    return "error" in m or not m["frames"] or not m["finite"] or not speech or "activity" in m


def _lines(path: Path) -> Iterable[list]:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue  # a line cut off by a kill
    except OSError:
        return


class SourceIndex:
    """The index of one source folder. ``headers(paths)`` answers from the index where a file is unchanged
    and reads the rest (in parallel when many); ``measures(paths)`` likewise for the sample checks;
    ``save()`` writes what changed."""

    def __init__(self, base: Path, folder: Path):
        self.base = base
        self.folder = folder
        self._prefix = os.path.join(str(base), "")
        self._headers: dict[str, list] | None = None   # key -> [size, mtime_ns, frames, sr, channels, problem]
        self._checks: dict[str, list] | None = None    # key -> [size, mtime_ns, measures]
        self._new_checks: list[list] = []
        self._dirty = False

    @classmethod
    def open(cls, base: Path, kind: str, cache_dir: Path | None = None, writable_beside: bool = True) -> "SourceIndex":
        """The index of ``kind`` files (speech, noise, rir) in folder ``base``: beside it if writable, else
        in the cache folder."""
        base = Path(os.path.abspath(base))
        if writable_beside and _writable(base):
            return cls(base, base / FOLDER / kind)
        digest = hashlib.blake2b(str(base).encode(), digest_size=10).hexdigest()
        return cls(base, (cache_dir or cache_root() / "index") / digest / kind)

    def __getstate__(self) -> dict:  # a worker's copy loads what it needs itself
        return {**self.__dict__, "_headers": None, "_checks": None, "_new_checks": [], "_dirty": False}

    def key(self, path: str) -> str:
        """``path`` (absolute, normalized) relative to the base when under it, else itself."""
        return path[len(self._prefix):] if path.startswith(self._prefix) else path

    @property
    def checks_log(self) -> Path:
        return self.folder / "checks.jsonl"

    @property
    def changed_log(self) -> Path:
        return self.folder / "changed.jsonl"

    @property
    def headers_file(self) -> Path:
        return self.folder / "headers.json"

    # ------------------------------------------------------------------------------------- headers
    def _load_headers(self) -> dict[str, list]:
        if self._headers is None:
            self._headers = {}
            try:
                doc = json.loads(self.headers_file.read_text(encoding="utf-8"))
                if doc.get("synth_source_index") == FORMAT and doc.get("base") == str(self.base):
                    self._headers = doc["files"]
            except (OSError, ValueError, KeyError, AttributeError):
                pass  # no index yet, or a damaged one: it is rebuilt
            taken = self.changed_log.with_name(f"changed.{os.getpid()}.jsonl")
            try:
                os.replace(self.changed_log, taken)
            except OSError:
                return self._headers
            for key, size, mtime, frames, sr, channels, problem in _lines(taken):
                self._headers[key] = [size, mtime, frames, sr, channels, problem]
                self._dirty = True
            self.save()
            taken.unlink(missing_ok=True)
        return self._headers

    def headers(self, paths: list[str], trust: bool = False, workers: int | None = None,
                label: str = "indexing") -> list[Header]:
        """The header of each path. ``trust``: take an indexed file as unchanged without asking the
        filesystem (a system call per file adds up at 10^5-10^6 files, more so on NFS); the caller then
        checks ``Header.stat`` when it first opens the file."""
        files = self._load_headers()
        keys = [self.key(p) for p in paths]
        out: list[Header | None] = []
        todo = []
        for p, k in zip(paths, keys):
            e = files.get(k)
            if e is not None and not trust:
                st = file_stat(p)
                e = e if st is not None and e[0] == st[0] and e[1] == st[1] else None
            if e is None:
                todo.append(len(out))
                out.append(None)
            else:
                out.append(Header(e[2], e[3], e[4], e[5], (e[0], e[1])))
        for i, h in zip(todo, _parallel(read_header, [paths[i] for i in todo], workers, label)):
            out[i] = h
            if h.stat is not None:
                files[keys[i]] = [*h.stat, h.frames, h.sr, h.channels, h.problem]
                self._dirty = True
        return out  # type: ignore[return-value]

    def note_changed(self, path: str, header: Header) -> None:
        """Record (for the next start) the header of a file found changed when first used."""
        row = [self.key(path), *header.stat, header.frames, header.sr, header.channels, header.problem]
        _append(self.changed_log, json.dumps(row, separators=(",", ":")) + "\n")

    # ------------------------------------------------------------------------------------- samples
    def _load_checks(self) -> dict[str, list]:
        if self._checks is None:
            self._checks = {}
            for key, size, mtime, m in _lines(self.checks_log):
                self._checks[key] = [size, mtime, m]
        return self._checks

    def known_measures(self, path: str, stat_now: tuple[int, int] | None, speech: bool) -> dict | None:
        """What :func:`measure` found for the file as it is now (``stat_now``), if that is known."""
        e = self._load_checks().get(self.key(path))
        if e is None or stat_now is None or (e[0], e[1]) != tuple(stat_now) or not enough(e[2], speech):
            return None
        return e[2]

    def measures(self, paths: list[str], headers: list[Header], speech: bool, workers: int | None = None,
                 label: str = "checking audio") -> list[dict]:
        """:func:`measure` of each path (whose ``headers`` were just read): known, or measured in parallel."""
        out = [self.known_measures(p, h.stat, speech) for p, h in zip(paths, headers)]
        todo = [i for i, m in enumerate(out) if m is None]
        job = partial(measure, speech=speech)
        for i, m in zip(todo, _parallel(job, [paths[i] for i in todo], workers, label)):
            out[i] = m
            self.record(paths[i], headers[i].stat, m)
        return out  # type: ignore[return-value]

    def record(self, path: str, stat_at: tuple[int, int] | None, m: dict, now: bool = False) -> None:
        """Keep what :func:`measure` found (written by :meth:`save`, or at once with ``now``: a worker's
        first use, which no save follows)."""
        if stat_at is None:
            return
        key = self.key(path)
        self._load_checks()[key] = [*stat_at, m]
        self._new_checks.append([key, *stat_at, m])
        if now:
            self._flush_checks()

    def _flush_checks(self) -> None:
        if not self._new_checks:
            return
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in self._new_checks)
        self._new_checks = []
        _append(self.checks_log, text)

    # ------------------------------------------------------------------------------------- writing
    def save(self) -> None:
        """Write what changed (atomically; an unwritable place is not an error: the index is a cache)."""
        self._flush_checks()
        if not self._dirty or self._headers is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.headers_file, json.dumps({"synth_source_index": FORMAT, "base": str(self.base),
                                                             "files": self._headers}, separators=(",", ":")))
            self._dirty = False
        except OSError:
            pass


def _append(path: Path, text: str) -> None:
    """Append ``text`` in one write (O_APPEND: processes sharing the log do not interleave inside it). The
    index is a cache: a failure to write loses nothing but a later re-check."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError:
        pass


def _chunked(fn: Callable, chunk: list) -> list:
    return [fn(x) for x in chunk]


def _parallel(fn: Callable, items: list, workers: int | None, label: str) -> list:
    """``fn`` over ``items`` in order: in this process when few, else on a pool of processes with a bar."""
    if not items:
        return []
    n = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if len(items) < PARALLEL_FROM or n <= 1:
        return [fn(x) for x in items]
    from ..progress import progress_bar

    chunks = [items[i: i + CHUNK] for i in range(0, len(items), CHUNK)]
    out = []
    with ProcessPoolExecutor(min(n, len(chunks))) as pool, progress_bar(len(items), label=label, unit="files") as bar:
        for done in pool.map(partial(_chunked, fn), chunks):
            out.extend(done)
            bar.advance(0.0, len(done))
    return out
