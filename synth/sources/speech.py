"""Speech utterances from the user's corpora, with transcripts and speaker metadata kept attached.

Readers (each returns rows checked by :func:`synth.sources.schema.speech_row` and hands every bad row to
``bad``; the pool builder then checks the audio against them and makes :class:`Utterance` objects):

* a corpus folder described by ``manifest.jsonl`` (the layout of shared/corpus: ``path``, ``kind``,
  ``speaker``, ``gender``, ``transcript``, ``license``, ...);
* a LibriSpeech-style tree (``<spk>/<chapter>/<spk>-<chapter>.trans.txt`` next to the audio);
* a NeMo-style JSONL manifest (``audio_filepath``, ``duration``, ``text``, ``speaker`` plus any metadata
  such as gender, accent, language, license; optional ``words: [{word, start, end}]``).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from ..audio import text_lines
from ..errors import BadInput
from .schema import META_KEYS, Report, read_rows, speech_row


@dataclass(frozen=True, slots=True)
class Utterance:
    """One recorded utterance of one speaker and what was said in it."""

    id: str
    path: str             # absolute
    rel_path: str         # relative to the sources root: what recipes store
    speaker: str
    text: str
    duration_s: float
    meta: dict = field(default_factory=dict)
    words: list | None = None  # [{"word", "start", "end"}] in seconds from the file start, if aligned
    stat: tuple[int, int] | None = None  # (size, mtime_ns) the index knew the file by, until its first use


def utterance_id(rel_path: str) -> str:
    """An utterance's id: its path relative to the sources root, without extension, ``/`` -> ``__``."""
    return rel_path.rsplit(".", 1)[0].replace("/", "__")


@dataclass
class FirstUse:
    """Checks a speech file the first time an item draws it (``sources.check=used``), so a start reads
    no audio: the file must still be the one indexed (same size and mtime, or else the same length) and
    pass the sample checks. What the index already measured is not decoded again; what is measured here
    goes into the index for the next start. ``known``: path -> its problem (None: usable)."""

    skip: bool
    index: object                     # the speech SourceIndex (a worker's copy loads what it needs)
    known: dict = field(default_factory=dict)

    def problem(self, u: Utterance) -> BadInput | None:
        """Why ``u``'s file cannot be used (None: it can). A file changed since indexed to another length
        is raised also when skipping: the draws were made with its old length."""
        from .checks import duration_tolerance_s, sample_problem
        from .index import measure, read_header

        path = u.path
        if path in self.known:
            return self.known[path]
        header = read_header(path)
        if header.stat is None:
            raise BadInput(path, "does not exist (it did when the sources were indexed)",
                           "restore the file or fix the manifest, then rerun")
        if u.stat is not None and header.stat != tuple(u.stat):
            self.index.note_changed(path, header)
            if header.problem or abs(header.duration_s - u.duration_s) > duration_tolerance_s(u.duration_s):
                now = header.problem or f"lasts {header.duration_s:.3f} s"
                raise BadInput(path, f"changed since the sources were indexed (it {now}; indexed: "
                               f"{u.duration_s:.3f} s)", "rerun the same command: the next start indexes it again")
        m = self.index.known_measures(path, header.stat, True)
        if m is None:
            m = measure(path, True)
            self.index.record(path, header.stat, m, now=True)
        self.known[path] = sample_problem(path, "speech", u.duration_s, m)
        return self.known[path]


class SpeechPool:
    """The speech a build may use, by speaker, held as columns (a corpus of a million utterances costs a
    few hundred bytes each, not an object each); ``utterances`` and ``by_speaker[speaker]`` are sequences of
    :class:`Utterance` made when read. Sorted by utterance id. ``derived`` keeps what sampling computes from
    the whole pool (e.g. speaker probabilities for a metadata mix) so each item does not recompute it;
    ``first_use`` is set when files are checked as items draw them (:meth:`unusable`)."""

    def __init__(self, utterances: Iterable[Utterance] = (), first_use: FirstUse | None = None):
        us = sorted(utterances, key=lambda u: u.id)
        metas = MetaTable()
        self._columns([u.rel_path for u in us], [u.path for u in us], "", [u.speaker for u in us],
                      [u.text for u in us], [u.duration_s for u in us], [metas(u.meta) for u in us],
                      {i: u.words for i, u in enumerate(us) if u.words is not None},
                      [u.stat for u in us] if us and all(u.stat is not None for u in us) else None, first_use)

    @classmethod
    def from_saved(cls, c: dict, prefix: str, first_use: FirstUse | None) -> "SpeechPool":
        """A pool from :meth:`columns` (already sorted; speakers and metadata as codes into their tables)."""
        pool = cls.__new__(cls)
        pool._set(c["rel"], None, prefix, c["speakers"], np.asarray(c["speaker"], dtype=np.int32), c["text"],
                  c["duration_s"], c["metas"], np.asarray(c["meta"], dtype=np.int32),
                  {int(k): v for k, v in c["words"].items()}, c["stat"], first_use)
        return pool

    @classmethod
    def from_columns(cls, rels: list[str], prefix: str, speakers: list[str], texts: list[str], durations,
                     metas: list[dict], words: dict[int, list], stats, first_use: FirstUse | None = None) -> "SpeechPool":
        """A pool from columns (one entry per utterance; ``rels`` relative to the sources root, whose path
        with a trailing separator is ``prefix``; ``metas`` shared dicts; ``stats`` (size, mtime_ns) pairs
        or None), sorted by id."""
        pool = cls.__new__(cls)
        order = sorted(range(len(rels)), key=lambda i: utterance_id(rels[i]))
        rels, speakers, texts = [rels[i] for i in order], [speakers[i] for i in order], [texts[i] for i in order]
        durations, metas = [durations[i] for i in order], [metas[i] for i in order]
        where = {old: new for new, old in enumerate(order)}
        words = {where[i]: w for i, w in words.items()}
        stats = None if stats is None else [stats[i] for i in order]
        pool._columns(rels, None, prefix, speakers, texts, durations, metas, words, stats, first_use)
        return pool

    def _columns(self, rels, paths, prefix, speakers, texts, durations, metas, words, stats, first_use) -> None:
        names = sorted(set(speakers))
        code = {s: k for k, s in enumerate(names)}
        table: list[dict] = []
        meta_code: dict[int, int] = {}
        for m in metas:  # metas are shared dicts (MetaTable): one table entry per distinct object
            if id(m) not in meta_code:
                meta_code[id(m)] = len(table)
                table.append(m)
        self._set(rels, paths, prefix, names, np.fromiter((code[s] for s in speakers), np.int32, len(speakers)),
                  texts, durations, table, np.fromiter((meta_code[id(m)] for m in metas), np.int32, len(metas)),
                  words, stats, first_use)

    def _set(self, rels, paths, prefix, speakers, speaker_codes, texts, durations, metas, meta_codes, words, stats,
             first_use) -> None:
        self._rel, self._path, self._prefix, self._text, self._words = rels, paths, prefix, texts, words
        self._dur = np.asarray(durations, dtype=np.float64)
        self.speakers, self._spk = speakers, speaker_codes
        self._metas, self._meta = metas, meta_codes
        self._stat = None if stats is None else np.asarray(stats, dtype=np.int64).reshape(-1, 2)
        order = np.argsort(self._spk, kind="stable")  # each speaker's utterances, in pool order
        bounds = np.searchsorted(self._spk[order], np.arange(len(self.speakers) + 1))
        self.by_speaker = {s: Utterances(self, order[bounds[k]: bounds[k + 1]]) for k, s in enumerate(self.speakers)}
        self.derived: dict = {}
        self.first_use = first_use

    def __len__(self) -> int:
        return len(self._rel)

    @property
    def utterances(self) -> "Utterances":
        return Utterances(self, None)

    def path(self, i: int) -> str:
        if self._path is not None:
            return self._path[i]
        rel = self._rel[i]
        return rel if os.path.isabs(rel) else self._prefix + rel

    def utterance(self, i: int) -> Utterance:
        rel = self._rel[i]
        stat = None if self._stat is None else (int(self._stat[i, 0]), int(self._stat[i, 1]))
        return Utterance(utterance_id(rel), self.path(i), rel, self.speakers[self._spk[i]], self._text[i],
                         float(self._dur[i]), self._metas[self._meta[i]], self._words.get(i), stat)

    def columns(self) -> dict:
        """The pool as JSON-ready columns (a saved speech source, :mod:`synth.sources.snapshot`)."""
        return {"rel": self._rel, "speakers": self.speakers, "speaker": self._spk.tolist(), "text": self._text,
                "duration_s": self._dur.tolist(), "meta": self._meta.tolist(), "metas": self._metas,
                "words": {str(i): w for i, w in self._words.items()},
                "stat": None if self._stat is None else self._stat.ravel().tolist()}

    def subset(self, keep: Iterable[int]) -> "SpeechPool":
        """The pool of utterances ``keep`` (indices, in order)."""
        keep = list(keep)
        where = {old: new for new, old in enumerate(keep)}
        pool = SpeechPool.__new__(SpeechPool)
        pool._columns([self._rel[i] for i in keep], None if self._path is None else [self._path[i] for i in keep],
                      self._prefix, [self.speakers[self._spk[i]] for i in keep], [self._text[i] for i in keep],
                      self._dur[keep], [self._metas[self._meta[i]] for i in keep],
                      {where[i]: w for i, w in self._words.items() if i in where},
                      None if self._stat is None else self._stat[keep], self.first_use)
        return pool

    def changed_files(self) -> list[str]:
        """Files whose size or mtime differ from what the index knew them by (asks about every file)."""
        from .index import file_stat

        if self._stat is None:
            return []
        return [self.path(i) for i in range(len(self)) if file_stat(self.path(i)) != tuple(self._stat[i].tolist())]

    def groups(self) -> dict[tuple[int, str], int]:
        """Utterances per (metadata entry, speaker): what the dataset card's license table counts."""
        keys, counts = np.unique(self._meta.astype(np.int64) * (1 << 32) + self._spk, return_counts=True)
        return {(int(k >> 32), self.speakers[int(k & 0xFFFFFFFF)]): int(c) for k, c in zip(keys, counts)}

    def meta_of(self, code: int) -> dict:
        return self._metas[code]

    def digest(self) -> str:
        """The speech part of the sources fingerprint: each utterance's path, length, speaker and text."""
        if "digest" not in self.derived:
            rows = sorted([rel, round(float(d), 4), self.speakers[k], text]
                          for rel, d, k, text in zip(self._rel, self._dur, self._spk, self._text))
            self.derived["digest"] = hashlib.blake2b(json.dumps(rows, ensure_ascii=False).encode(),
                                                     digest_size=8).hexdigest()
        return self.derived["digest"]

    def index_of(self, utterance_id_: str) -> int:
        """The position of an utterance by id (the pool is sorted by id)."""
        i = bisect.bisect_left(range(len(self._rel)), utterance_id_, key=lambda k: utterance_id(self._rel[k]))
        if i == len(self._rel) or utterance_id(self._rel[i]) != utterance_id_:
            raise KeyError(utterance_id_)
        return i

    def unusable(self, scene: dict) -> list[BadInput]:
        """The files a sampled scene uses that fail their sample checks (raised unless skipping)."""
        if self.first_use is None:
            return []
        bad = []
        for t in scene["talkers"]:
            for entry in t["utterances"]:
                p = self.first_use.problem(self.utterance(self.index_of(entry["source_id"])))
                if p is not None:
                    if not self.first_use.skip:
                        raise p
                    bad.append(p)
        return bad


class Utterances(Sequence):
    """Utterances of a pool (all, or those at ``index``), each made when read."""

    def __init__(self, pool: SpeechPool, index):
        self.pool, self.index = pool, index

    def __len__(self) -> int:
        return len(self.pool) if self.index is None else len(self.index)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self.pool.utterance(k if self.index is None else int(self.index[k]))

    def __eq__(self, other) -> bool:
        return isinstance(other, (list, Utterances)) and len(self) == len(other) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"<{len(self)} utterances>"


def _rel(path, root: Path | str) -> str:
    """``path`` (absolute and normalized, as the manifest readers give it) relative to ``root`` when it
    lies under it, else itself, in POSIX form; lexical, so a corpus of symlinks keeps its own names (and a
    start makes no system call per file)."""
    path, prefix = os.fspath(path), os.path.join(os.fspath(root), "")
    rel = path[len(prefix):] if path.startswith(prefix) else path
    return rel if os.sep == "/" else rel.replace(os.sep, "/")


class MetaTable:
    """One dict per distinct speaker metadata (a million rows share a few hundred), so rows do not each
    hold their own copy."""

    def __init__(self):
        self._seen: dict[str, dict] = {}

    def __call__(self, meta: dict) -> dict:
        return self._seen.setdefault(json.dumps(meta, sort_keys=True, default=str), meta)


def corpus_row(row: dict, where: str, root: Path, metas: MetaTable) -> dict:
    """A ``kind: speech`` row of a shared/corpus-style manifest, checked (raises :class:`BadInput`)."""
    r = speech_row(row, where, root, ("path",), ("transcript", "text"), ("duration_s", "duration"),
                   {k: row[k] for k in META_KEYS if row.get(k) is not None})
    r["meta"] = metas(r["meta"])
    return r


def from_nemo_manifest(manifest: Path, bad: Report) -> list[dict]:
    out = []
    metas = MetaTable()
    for where, row in read_rows(manifest, bad):
        try:
            r = speech_row(row, where, manifest.parent, ("audio_filepath",), ("text",), ("duration",),
                           {k: v for k, v in row.items()
                            if k not in ("audio_filepath", "duration", "text", "speaker", "words", "offset")})
        except BadInput as e:
            bad(e)
            continue
        r["meta"] = metas(r["meta"])
        out.append(r)
    return out


def from_librispeech(root: Path, bad: Report) -> list[dict]:
    out = []
    meta = {"corpus": "librispeech"}  # one dict shared by the rows (a tree may hold a million)
    for trans in sorted(root.rglob("*.trans.txt")):
        for n, line in enumerate(text_lines(trans), 1):
            if not line.strip():
                continue
            uid, _, text = line.partition(" ")
            audio = next((trans.parent / f"{uid}{ext}" for ext in (".flac", ".wav")
                          if (trans.parent / f"{uid}{ext}").exists()), None)
            if audio is None:
                bad(BadInput(f"{trans}:{n}", f"names utterance {uid} but no {uid}.flac/.wav is next to it",
                             "restore the audio or remove the line"))
                continue
            if not text.strip():
                bad(BadInput(f"{trans}:{n}", f"utterance {uid} has no transcript",
                             "add the transcript or set on_bad_input=skip"))
                continue
            out.append({"where": f"{trans}:{n}", "path": audio, "speaker": f"librispeech_{uid.split('-')[0]}",
                        "text": " ".join(text.split()), "duration_s": None, "meta": meta,
                        "words": None})
    return out
