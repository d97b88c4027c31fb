"""Build validated pools of speech, noise and RIRs from the ``sources`` config (:func:`build_pools`)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInput, ConfigError
from .checks import header_problem, sample_problem
from .files import SourceFile, audio_files
from .index import SourceIndex, no_gc
from .schema import check_claims, file_row, read_rows, row_kind
from . import snapshot
from .speech import (FirstUse, MetaTable, SpeechPool, _rel, corpus_row, from_librispeech, from_nemo_manifest,
                     utterance_id)

CHECK_MODES = ("auto", "all", "used")
CHECK_ALL_UP_TO = 5000      # sources.check=auto: smaller corpora have every speech file checked up front


@dataclass
class Pools:
    root: Path
    speech: SpeechPool
    noise: list[SourceFile]
    rirs: list[SourceFile]
    skipped: list[dict] = field(default_factory=list)  # {"path", "problem"}
    excluded: dict | None = None  # sources.exclude: the sets and how many of their sources were left out

    def licenses(self) -> list[dict]:
        """Source corpora with their licenses, for the dataset card."""
        rows: dict[tuple, dict] = {}

        def count(kind: str, meta: dict, group: str, n: int) -> None:
            lic = meta.get("license") or "unknown (not stated in the source manifest)"
            group = meta.get("corpus") or group
            rows.setdefault((kind, group, lic), {"kind": kind, "source": group, "license": lic, "files": 0})["files"] += n

        for (code, speaker), n in self.speech.groups().items():
            count("speech", self.speech.meta_of(code), speaker, n)
        for kind, files in (("noise", self.noise), ("rir", self.rirs)):
            for f in files:
                count(kind, f.meta, Path(f.rel_path).parent.as_posix(), 1)
        return sorted(rows.values(), key=lambda r: (r["kind"], r["source"]))


class _Collector:
    def __init__(self, on_bad_input: str):
        if on_bad_input not in ("error", "skip"):
            raise ConfigError(f"on_bad_input={on_bad_input!r}: allowed values are 'error' and 'skip'")
        self.skip = on_bad_input == "skip"
        self.skipped: list[dict] = []

    def bad(self, err: BadInput) -> None:
        if not self.skip:
            raise err
        self.skipped.append({"path": err.path, "problem": err.problem})


class _Rows:
    """Manifest rows, each manifest read and checked once (so a bad row is reported once)."""

    def __init__(self, bad):
        self.bad = bad
        self.corpora: dict[Path, dict[str, list[tuple[str, dict]]]] = {}

    def corpus(self, folder: Path, kind: str) -> list[tuple[str, dict]]:
        """Rows of ``kind`` in ``folder/manifest.jsonl``; a row with an unknown ``kind`` is reported."""
        m = folder / "manifest.jsonl"
        if m not in self.corpora:  # one pass; speech rows are checked as they are read, so a large
            by_kind: dict[str, list] = {}  # manifest's raw rows are not all held at once
            metas = MetaTable()
            for where, row in read_rows(m, self.bad):
                try:
                    k = row_kind(row, where)
                    by_kind.setdefault(k, []).append((where, corpus_row(row, where, folder, metas)
                                                      if k == "speech" else row))
                except BadInput as e:
                    self.bad(e)
            self.corpora[m] = by_kind
        return self.corpora[m].get(kind, [])

    def speech(self, spec: Path) -> list[dict]:
        if spec.is_dir() and (spec / "manifest.jsonl").exists():
            return [row for _, row in self.corpus(spec, "speech")]
        if spec.is_file() and spec.suffix == ".jsonl":
            return from_nemo_manifest(spec, self.bad)
        if spec.is_dir() and any(spec.rglob("*.trans.txt")):
            return from_librispeech(spec, self.bad)
        raise ConfigError(f"sources: {spec} is not a corpus folder with manifest.jsonl, a NeMo .jsonl manifest or "
                          "a LibriSpeech-style tree with *.trans.txt; point sources.root or sources.speech at one")

    def files(self, spec: Path | None, root: Path, kind: str) -> list[dict]:
        """Noise or RIR rows ``{where, path, duration_s, meta}`` (``duration_s`` None when not claimed)."""
        if spec is None:
            if (root / "manifest.jsonl").exists():
                listed = [(where, row, root) for where, row in self.corpus(root, kind)]
            else:
                folder = root / kind
                return [_unlisted(p) for p in audio_files(folder)] if folder.is_dir() else []
        elif spec.is_file() and spec.suffix == ".jsonl":
            listed = [(where, row, spec.parent) for where, row in read_rows(spec, self.bad)]
        elif spec.is_dir():
            return [_unlisted(p) for p in audio_files(spec)]
        else:
            raise ConfigError(f"sources.{kind}: {spec} is neither a folder of audio nor a .jsonl manifest")
        out = []
        for where, row, base in listed:
            try:
                out.append(file_row(row, where, base))
            except BadInput as e:
                self.bad(e)
        return out


def _unlisted(path: Path) -> dict:
    return {"where": str(path), "path": path, "duration_s": None, "meta": {}}


def drop_excluded(pools: Pools, exclude: list, need_noise: bool, need_rir: bool) -> Pools:
    """Leave out every speaker (all their utterances), utterance, noise file and measured RIR that the sets
    in ``exclude`` used (see :mod:`synth.leakage`), so augmentation data cannot mirror a test suite.
    Simulated rooms have no file to exclude; they are counted in ``Pools.excluded``."""
    from ..leakage import merge, read_sources

    ex = merge([read_sources(x) for x in exclude])
    ex_ids = {i for i in ex.utterances.values() if i}
    keep = [i for i, u in enumerate(pools.speech.utterances) if u.speaker not in ex.speakers
            and os.path.realpath(u.path) not in ex.utterances and u.id not in ex_ids]
    noise = [f for f in pools.noise if str(f.path.resolve()) not in ex.noise]
    rirs = [f for f in pools.rirs if str(f.path.resolve()) not in ex.rirs]
    fix = "drop sources.exclude or add sources the excluded sets did not use"
    if not keep and len(pools.speech):
        raise ConfigError(f"sources.exclude={list(exclude)} leaves no speech (every speaker was used by them); {fix}")
    if need_noise and not noise:
        raise ConfigError(f"sources.exclude={list(exclude)} leaves no noise files; {fix} (sources.noise=...)")
    if need_rir and not rirs:
        raise ConfigError(f"sources.exclude={list(exclude)} leaves no RIR files; {fix} (sources.rir=...)")
    record = {"sets": [str(x) for x in exclude], "speakers": len(ex.speakers),
              "utterances": len(pools.speech) - len(keep), "noise": len(pools.noise) - len(noise),
              "rirs": len(pools.rirs) - len(rirs), "simulated_rooms_not_excludable": ex.simulated_rooms}
    return Pools(root=pools.root, speech=pools.speech.subset(keep), noise=noise, rirs=rirs, skipped=pools.skipped,
                 excluded=record)


class _Indexes:
    """One :class:`SourceIndex` per source folder and kind, opened once per pool build, saved at its end."""

    def __init__(self):
        self.open: dict[tuple, SourceIndex] = {}

    def __call__(self, base: Path, kind: str) -> SourceIndex:
        if (base, kind) not in self.open:
            self.open[(base, kind)] = SourceIndex.open(base, kind)
        return self.open[(base, kind)]

    def save(self) -> None:
        for index in self.open.values():
            index.save()


@contextmanager
def _saving(indexes: _Indexes):
    try:
        yield
    finally:
        indexes.save()


def _checked(rows: list[dict], kind: str, index: SourceIndex, whole: bool, bad,
             trust: bool = False) -> list[tuple[dict, object]]:
    """``(row, header)`` of the rows whose file passes the header checks and its row's claims, and, with
    ``whole``, the sample checks too (every file decoded once, then known from the index). ``trust``:
    indexed files are taken as unchanged until first use (:class:`FirstUse`)."""
    paths = [str(r["path"]) for r in rows]
    ok = []
    for row, h in zip(rows, index.headers(paths, trust=trust, label=f"indexing {kind}")):
        try:
            problem = header_problem(row["path"], kind, h)
            if problem:
                raise problem
            check_claims(row, h.duration_s)
        except BadInput as e:
            bad(e)
            continue
        ok.append((row, h))
    if not whole:
        return ok
    kept = []
    measures = index.measures([str(r["path"]) for r, _ in ok], [h for _, h in ok], kind == "speech",
                              label=f"checking {kind}")
    for (row, h), m in zip(ok, measures):
        problem = sample_problem(row["path"], kind, h.duration_s, m)
        if problem:
            bad(problem)
        else:
            kept.append((row, h))
    return kept


def _base(spec: Path | None, root: Path) -> Path:
    return root if spec is None else (spec if spec.is_dir() else spec.parent)


class _Recorder:
    """Passes problems on to the collector and keeps them, so a saved speech source can replay them."""

    def __init__(self, col: _Collector):
        self.col, self.seen = col, []

    def __call__(self, err: BadInput) -> None:
        self.seen.append(err)
        self.col.bad(err)


def _speech(rows: _Rows, spec: Path, root: Path, index: SourceIndex, check: str, col: _Collector,
            verify: bool) -> SpeechPool:
    """The speech pool: every file checked whole (``check=all``, or ``auto`` up to ``CHECK_ALL_UP_TO``
    files), else checked on first use, its rows saved whole for the next start (:mod:`.snapshot`).
    ``verify``: every file's size and mtime are asked of the filesystem, not trusted from the index."""
    prefix = os.path.join(str(root), "")
    saved = snapshot.load(index, root, spec, FirstUse(col.skip, index)) if check != "all" else None
    if saved is not None and verify and saved[0].changed_files():
        saved = None  # a file changed since it was indexed: read the source again
    if saved is not None and (check == "used" or len(saved[0]) > CHECK_ALL_UP_TO):
        pool, problems, other = saved
        if other:  # the corpus manifest's noise and RIR rows: it is not read again
            rows.corpora[spec / "manifest.jsonl"] = other
        for p in problems:
            col.bad(p)
        return pool
    rec = _Recorder(col)
    rows.bad = rec
    speech_rows = rows.speech(spec)
    whole = check == "all" or (check == "auto" and len(speech_rows) <= CHECK_ALL_UP_TO)
    c: dict[str, list] = {k: [] for k in ("rel", "speaker", "text", "duration", "meta", "stat")}
    words = {}
    for row, h in _checked(speech_rows, "speech", index, whole, rec, trust=not (whole or verify)):
        if row["words"] is not None:
            words[len(c["rel"])] = row["words"]
        for k, v in (("rel", _rel(row["path"], root)), ("speaker", row["speaker"]), ("text", row["text"]),
                     ("duration", h.duration_s), ("meta", row["meta"]), ("stat", h.stat)):
            c[k].append(v)
    del speech_rows
    rows.bad = col.bad
    pool = SpeechPool.from_columns(c["rel"], prefix, c["speaker"], c["text"], c["duration"], c["meta"], words,
                                   None if whole else c["stat"], None if whole else FirstUse(col.skip, index))
    if not whole:
        other = {k: v for k, v in rows.corpora.get(spec / "manifest.jsonl", {}).items() if k != "speech"}
        snapshot.save(index, root, spec, pool, rec.seen, other)
    return pool


def _files(rows: list[dict], kind: str, root: Path, index: SourceIndex, col: _Collector) -> list[SourceFile]:
    out = []
    for row, h in _checked(rows, kind, index, True, col.bad):
        rel = _rel(row["path"], root)
        out.append(SourceFile(id=utterance_id(rel), path=Path(row["path"]), rel_path=rel, duration_s=h.duration_s,
                              sr=h.sr, channels=h.channels, meta=row["meta"]))
    return sorted(out, key=lambda f: f.id)


def build_pools(root: str | Path, speech: str | None = None, noise: str | None = None, rir: str | None = None,
                on_bad_input: str = "error", need_noise: bool = True, need_rir: bool = False,
                exclude: list | None = None, check: str = "auto", verify: bool = False,
                need_speech: bool = True) -> Pools:
    """The pools of a ``sources`` config.

    ``sources.root`` is a corpus folder. Speech comes from ``sources.speech`` if set (a corpus folder with
    ``manifest.jsonl``, a NeMo JSONL manifest, or a LibriSpeech-style tree), else from the root. Noise and
    RIRs come from ``sources.noise`` / ``sources.rir`` (a folder of audio, or a JSONL manifest), else from
    the root's manifest (``kind: noise`` / ``kind: rir``) or its ``noise/`` and ``rir/`` folders.

    Every manifest row is type-checked (:mod:`synth.sources.schema`) and every file checked
    (:mod:`synth.sources.checks`) through the source index (:mod:`synth.sources.index`), so a start reads
    each file's header once and its samples once, not on every build. Noise and RIRs are checked whole
    before the first item; speech too when ``sources.check=all`` (``auto``: corpora of at most
    ``CHECK_ALL_UP_TO`` speech files), else on first use (``used``): an item that draws a bad file is drawn
    again (:meth:`SpeechPool.unusable`). A bad row or file raises :class:`BadInput`, or with
    ``on_bad_input=skip`` is left out and listed in ``Pools.skipped`` (and so in the dataset card).

    ``need_speech=False`` (the Augmenter: it brings its own utterances) reads no speech: the speech pool is
    empty and ``sources.root`` need not exist; noise and RIRs load as usual."""
    root = Path(root).expanduser().resolve()
    if need_speech and not root.is_dir():
        raise ConfigError(f"sources.root={root} is not a folder; pass sources.root=<your corpus folder>")
    if check not in CHECK_MODES:
        raise ConfigError(f"sources.check={check!r}: allowed values are {', '.join(CHECK_MODES)}")
    col = _Collector(on_bad_input)
    rows = _Rows(col.bad)
    indexes = _Indexes()
    spec = {kind: Path(v).expanduser().resolve() if v else None
            for kind, v in (("speech", speech), ("noise", noise), ("rir", rir))}
    with no_gc(), _saving(indexes):  # what was indexed is kept, also when a bad file stops the build
        speech_spec = spec["speech"] or root
        speech_pool = _speech(rows, speech_spec, root, indexes(_base(spec["speech"], root), "speech"), check, col,
                              verify) if need_speech else SpeechPool([])
        if need_speech and not speech_pool.utterances:
            raise ConfigError(f"no usable speech found under {speech_spec}; point sources.root "
                              "(or sources.speech) at a corpus with transcribed speech")
        noise_files, rir_files = (_files(rows.files(spec[kind], root, kind), kind, root,
                                         indexes(_base(spec[kind], root), kind), col) for kind in ("noise", "rir"))
    if need_noise and not noise_files:
        raise ConfigError(f"no usable noise files found (sources.noise={noise}, root={root}); "
                          "set sources.noise=<folder of noise audio> or noise=none")
    if need_rir and not rir_files:
        raise ConfigError(f"no usable RIR files found (sources.rir={rir}, root={root}); "
                          "set sources.rir=<folder of RIRs> or room=simulated")
    pools = Pools(root=root, speech=speech_pool, noise=noise_files, rirs=rir_files, skipped=col.skipped)
    return drop_excluded(pools, exclude, need_noise, need_rir) if exclude else pools
