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

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class SpeechPool:
    """The speech a build may use, by speaker. ``derived`` keeps what sampling computes from the whole
    pool (e.g. speaker probabilities for a metadata mix) so each item does not recompute it.
    ``first_use``: set when files are checked as items draw them (:meth:`unusable`)."""

    utterances: list[Utterance]
    by_speaker: dict[str, list[Utterance]] = field(default_factory=dict)
    speakers: list[str] = field(init=False)
    derived: dict = field(init=False, default_factory=dict, repr=False, compare=False)
    first_use: FirstUse | None = None

    def __post_init__(self):
        self.utterances.sort(key=lambda u: u.id)
        self.by_speaker = {}
        for u in self.utterances:
            self.by_speaker.setdefault(u.speaker, []).append(u)
        self.speakers = sorted(self.by_speaker)

    def digest(self) -> str:
        """The speech part of the sources fingerprint: each utterance's path, length, speaker and text."""
        if "digest" not in self.derived:
            rows = sorted([u.rel_path, round(u.duration_s, 4), u.speaker, u.text] for u in self.utterances)
            self.derived["digest"] = hashlib.blake2b(json.dumps(rows, ensure_ascii=False).encode(),
                                                     digest_size=8).hexdigest()
        return self.derived["digest"]

    def unusable(self, scene: dict) -> list[BadInput]:
        """The files a sampled scene uses that fail their sample checks (raised unless skipping)."""
        if self.first_use is None:
            return []
        if "by_id" not in self.derived:
            self.derived["by_id"] = {u.id: u for u in self.utterances}
        by_id = self.derived["by_id"]
        bad = []
        for t in scene["talkers"]:
            for entry in t["utterances"]:
                p = self.first_use.problem(by_id[entry["source_id"]])
                if p is not None:
                    if not self.first_use.skip:
                        raise p
                    bad.append(p)
        return bad


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
                        "text": " ".join(text.split()), "duration_s": None, "meta": {"corpus": "librispeech"},
                        "words": None})
    return out
