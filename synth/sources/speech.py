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

from dataclasses import dataclass, field
from pathlib import Path

from ..audio import text_lines
from ..errors import BadInput
from .schema import META_KEYS, Report, read_rows, speech_row


@dataclass(frozen=True)
class Utterance:
    """One recorded utterance of one speaker and what was said in it."""

    id: str
    path: Path            # absolute
    rel_path: str         # relative to the sources root: what recipes store
    speaker: str
    text: str
    duration_s: float
    meta: dict = field(default_factory=dict)
    words: list | None = None  # [{"word", "start", "end"}] in seconds from the file start, if aligned


@dataclass
class SpeechPool:
    """The speech a build may use, by speaker. ``derived`` keeps what sampling computes from the whole
    pool (e.g. speaker probabilities for a metadata mix) so each item does not recompute it."""

    utterances: list[Utterance]
    by_speaker: dict[str, list[Utterance]] = field(default_factory=dict)
    speakers: list[str] = field(init=False)
    derived: dict = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self.utterances.sort(key=lambda u: u.id)
        self.by_speaker = {}
        for u in self.utterances:
            self.by_speaker.setdefault(u.speaker, []).append(u)
        self.speakers = sorted(self.by_speaker)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def from_corpus_manifest(rows: list[tuple[str, dict]], root: Path, bad: Report) -> list[dict]:
    """The ``kind: speech`` rows of a shared/corpus-style manifest (``(where, row)`` pairs), checked."""
    out = []
    for where, row in rows:
        try:
            out.append(speech_row(row, where, root, ("path",), ("transcript", "text"), ("duration_s", "duration"),
                                  {k: row.get(k) for k in META_KEYS if row.get(k) is not None}))
        except BadInput as e:
            bad(e)
    return out


def from_nemo_manifest(manifest: Path, bad: Report) -> list[dict]:
    out = []
    for where, row in read_rows(manifest, bad):
        try:
            out.append(speech_row(row, where, manifest.parent, ("audio_filepath",), ("text",), ("duration",),
                                  {k: v for k, v in row.items()
                                   if k not in ("audio_filepath", "duration", "text", "speaker", "words", "offset")}))
        except BadInput as e:
            bad(e)
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
