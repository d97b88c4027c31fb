"""The utterances ``synth align`` reads, and the rows it writes.

Input: a corpus folder with ``manifest.jsonl`` (its ``kind: speech`` rows: ``path``, ``transcript``,
``duration_s``), a NeMo JSONL manifest (``audio_filepath``, ``text``, ``duration``) or a LibriSpeech-style
tree (``*.trans.txt``). Every row is checked before any audio is read; a bad one stops the command with
one line naming ``file:line`` and the fix.

Output rows are NeMo-style (``audio_filepath``, ``duration``, ``text`` first, so ``sources.speech=<it>``
reads them): a corpus-manifest row's ``path``/``transcript``/``duration_s`` become those keys, every other
field is kept as it was, and ``words`` is added (or, when the alignment is rejected, removed: a row never
carries words the check did not pass). ``audio_filepath`` is written relative to the new manifest's
folder when the audio lies under it, else absolute, so the new manifest works from where it is written.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import BadInput, ConfigError
from ..sources.schema import read_rows, row_kind
from ..sources.speech import from_librispeech


@dataclass(frozen=True)
class AlignJob:
    """One utterance to align: its place in the input (``line``: ``file:line``), the audio file (absolute),
    the transcript to align and the speaker metadata a filler cut from it keeps (``speaker``, ``gender``...)."""

    index: int
    line: str
    audio: str
    text: str
    meta: dict

META = ("speaker", "gender", "accent", "language", "device", "license", "corpus")


def _meta(row: dict) -> dict:
    return {k: row[k] for k in META if isinstance(row.get(k), (str, int, float)) and not isinstance(row[k], bool)}


@dataclass
class Source:
    """The input. :meth:`rows` reads it again on every call (a corpus of a million utterances is never
    held in memory): ``(AlignJob, row as read)`` in input order, each row checked."""

    kind: str                       # corpus | nemo | librispeech
    manifest: Path | None
    text_key: str | None
    listed: list[dict] | None = None  # a LibriSpeech tree's rows (its reader lists them)

    def rows(self) -> Iterator[tuple[AlignJob, dict]]:
        if self.kind == "librispeech":
            for i, r in enumerate(self.listed or []):
                yield AlignJob(i, r.pop("_where", r["audio_filepath"]), r["audio_filepath"], r["text"], _meta(r)), r
            return
        yield from _manifest_rows(self.manifest, self.manifest.parent, self.kind, self.text_key)


def read_source(spec: str | Path, text_key: str | None = None) -> Source:
    """The utterances of a corpus folder, NeMo manifest or LibriSpeech tree (see the module docstring).
    ``text_key``: the row field to align (default ``text``; ``transcript`` in a corpus manifest)."""
    spec = Path(os.path.abspath(os.path.expanduser(spec)))
    manifest = input_manifest(spec)
    if manifest is not None:
        return Source(_layout(manifest), manifest, text_key)
    if spec.is_dir() and any(spec.rglob("*.trans.txt")):
        if text_key not in (None, "text"):
            raise ConfigError(f"--text-key {text_key}: a LibriSpeech tree has one transcript per utterance; "
                              "drop --text-key")
        rows = [{"audio_filepath": str(r["path"]), "text": r["text"], "speaker": r["speaker"], **r["meta"],
                 "_where": r["where"]} for r in from_librispeech(spec, _raise)]
        return Source("librispeech", None, None, rows)
    raise ConfigError(f"{spec} is not a corpus folder with manifest.jsonl, a NeMo .jsonl manifest or a "
                      "LibriSpeech-style tree with *.trans.txt; pass one of those")


def input_manifest(spec: Path) -> Path | None:
    """The manifest file ``spec`` names (a corpus folder's ``manifest.jsonl``, or a .jsonl file); None for a
    LibriSpeech tree."""
    if spec.is_dir() and (spec / "manifest.jsonl").exists():
        return spec / "manifest.jsonl"
    return spec if spec.is_file() and spec.suffix == ".jsonl" else None


def _layout(manifest: Path) -> str:
    """``corpus`` (rows name their audio in ``path``, as shared/corpus does) or ``nemo`` (``audio_filepath``),
    from the first row that names either."""
    for _, row in read_rows(manifest):
        if "audio_filepath" in row:
            return "nemo"
        if "path" in row:
            return "corpus"
    return "nemo"


def _raise(e: BadInput) -> None:
    raise e


def _manifest_rows(path: Path, base: Path, kind: str, text_key: str | None) -> Iterator[tuple[AlignJob, dict]]:
    key = text_key or ("transcript" if kind == "corpus" else "text")
    path_key = "path" if kind == "corpus" else "audio_filepath"
    n = 0
    for where, row in read_rows(path):
        if kind == "corpus" and row_kind(row, where) != "speech":
            continue
        key_here = "text" if kind == "corpus" and text_key is None and "transcript" not in row and "text" in row \
            else key
        audio = row.get(path_key)
        if not isinstance(audio, str) or not audio.strip():
            raise BadInput(where, f"field '{path_key}' must be the audio file's path (a non-empty string), got "
                           f"{json.dumps(audio)[:40]}", f"fix '{path_key}' on that line or remove the line")
        audio = os.path.normpath(os.path.join(base, audio))
        if not os.path.isfile(audio):
            raise BadInput(where, f"names {audio}, which does not exist",
                           "restore the file, fix the path, or remove the line")
        text = row.get(key_here)
        if not isinstance(text, str) or not text.strip():
            have = ", ".join([k for k, v in row.items() if isinstance(v, str) and k != path_key][:6])
            raise BadInput(where, f"has no transcript in '{key_here}'" + (f" (its text fields: {have})" if have else ""),
                           f"add '{key_here}' to the line, or pass --text-key <the field holding the transcript>")
        yield AlignJob(n, where, audio, text, _meta(row)), row
        n += 1
    if n == 0:
        raise ConfigError(f"{path} lists no speech utterances; pass a manifest with speech rows")


def out_row(kind: str, job: AlignJob, row: dict, out_dir: str, words: list | None, duration_s: float | None) -> dict:
    """``row`` as the new manifest holds it (see the module docstring)."""
    audio = job.audio
    prefix = os.path.join(out_dir, "")
    rel = audio[len(prefix):] if audio.startswith(prefix) else audio
    if kind == "corpus":
        head = {"audio_filepath": rel, "duration": row.get("duration_s", row.get("duration")),
                "text": row.get("transcript", row.get("text"))}
        rest = {k: v for k, v in row.items() if k not in ("path", "transcript", "duration_s", "duration", "text",
                                                          "audio_filepath", "words")}
        new = {**head, **rest}
    else:
        new = {k: (rel if k == "audio_filepath" else v) for k, v in row.items() if k != "words"}
    if new.get("duration") is None and duration_s is not None:
        new["duration"] = round(duration_s, 4)
    if new.get("duration") is None:
        new.pop("duration", None)
    if words is not None:
        new["words"] = words
    return new
