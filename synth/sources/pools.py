"""Build validated pools from the ``sources`` config.

``sources.root`` is a corpus folder. Speech comes from ``sources.speech`` if set (a corpus folder with
``manifest.jsonl``, a NeMo JSONL manifest, or a LibriSpeech-style tree), else from the root. Noise and
RIRs come from ``sources.noise`` / ``sources.rir`` (a folder of audio, or a JSONL manifest), else from
the root's manifest (``kind: noise`` / ``kind: rir``) or its ``noise/`` and ``rir/`` folders.

Every manifest row is type-checked (:mod:`synth.sources.schema`) and every file is read once when the
pool is built: readable, non-empty, finite samples; speech >= 0.1 s with active speech (P.56) and a
transcript; noise >= 0.1 s and not digital silence; RIRs with energy; and each file's real duration (and
word alignment) against what its manifest row claims. A bad row or file raises :class:`BadInput`, or
with ``on_bad_input=skip`` is left out and listed in ``Pools.skipped`` (and so in the dataset card).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import active_speech_level, power_db
from ..errors import BadInput, ConfigError
from .files import SourceFile, audio_files
from .schema import check_claims, file_row, read_rows, row_kind
from .speech import SpeechPool, Utterance, _rel, from_corpus_manifest, from_librispeech, from_nemo_manifest

MIN_NOISE_S = 0.1
MIN_SPEECH_S = 0.1          # shorter "speech" cannot hold a word: its transcript would be a false label
MIN_SPEECH_DBOV = -70.0     # P.56 active level below this: the file holds no speech
MIN_NOISE_DBOV = -100.0     # noise power below this (or peak < SILENT_PEAK) is digital silence
SILENT_PEAK = 1e-6


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
        for kind, items in (("speech", self.speech.utterances), ("noise", self.noise), ("rir", self.rirs)):
            for x in items:
                lic = x.meta.get("license") or "unknown (not stated in the source manifest)"
                group = x.meta.get("corpus") or (x.speaker if kind == "speech" else Path(x.rel_path).parent.as_posix())
                key = (kind, group, lic)
                rows.setdefault(key, {"kind": kind, "source": group, "license": lic, "files": 0})["files"] += 1
        return sorted(rows.values(), key=lambda r: (r["kind"], r["source"]))


def digital_silence(data: np.ndarray) -> str | None:
    """Why noise samples ``data`` ((T,) or (T, C)) cannot serve as noise, or None: digital silence (peak below
    ``SILENT_PEAK`` or mean power below ``MIN_NOISE_DBOV``). The noise pool refuses such files; ``synth fit``
    uses the same test so its noise bank never holds one."""
    data = np.asarray(data, dtype=np.float32)
    peak = float(np.max(np.abs(data))) if data.size else 0.0
    power = power_db(data.mean(axis=1) if data.ndim == 2 else data)
    if peak < SILENT_PEAK or power < MIN_NOISE_DBOV:
        return f"digital silence (peak {peak:.1e}, power {power:.0f} dBov)"
    return None


def _check_audio(path: Path, kind: str) -> tuple[float, int, int]:
    """Read the whole file once and measure it; return (duration_s, sr, channels) or raise BadInput.

    Speech must last >= ``MIN_SPEECH_S`` and hold active speech (ITU-T P.56 level >= ``MIN_SPEECH_DBOV``);
    noise must last >= ``MIN_NOISE_S`` and not be digital silence; an RIR must have energy.
    """
    if not path.exists():
        raise BadInput(path, "does not exist", "fix the path in the manifest or restore the file")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:
        raise BadInput(path, f"cannot be read as audio ({str(e).splitlines()[0]})") from None
    if data.size == 0:
        raise BadInput(path, "contains no samples")
    if not np.isfinite(data).all():
        raise BadInput(path, "contains NaN or infinite samples")
    duration = data.shape[0] / sr
    peak = float(np.max(np.abs(data)))
    if kind == "noise":
        if duration < MIN_NOISE_S:
            raise BadInput(path, f"is {duration:.3f} s long; noise files must be at least {MIN_NOISE_S} s")
        silent = digital_silence(data)
        if silent:
            raise BadInput(path, f"is {silent}: items would be labeled with an SNR they do not have",
                           "remove it from the noise sources or set on_bad_input=skip")
    if kind == "rir" and float(np.max(np.abs(data[:, 0]))) < SILENT_PEAK:
        raise BadInput(path, "is an impulse response with no energy (all zeros)")
    if kind == "speech":
        if duration < MIN_SPEECH_S:
            raise BadInput(path, f"is {duration:.3f} s long; speech files must be at least {MIN_SPEECH_S} s "
                           "to hold a transcript")
        if peak < SILENT_PEAK:
            raise BadInput(path, "is silent (all zeros)")
        lvl = active_speech_level(data.mean(axis=1), sr)
        if not lvl.level_dbov >= MIN_SPEECH_DBOV or lvl.activity <= 0:
            raise BadInput(path, f"holds no active speech (P.56 active level {lvl.level_dbov:.0f} dBov, below "
                           f"{MIN_SPEECH_DBOV:.0f}): its transcript would label silence")
    return duration, int(sr), int(data.shape[1])


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
        if m not in self.corpora:
            by_kind: dict[str, list] = {}
            for where, row in read_rows(m, self.bad):
                try:
                    by_kind.setdefault(row_kind(row, where), []).append((where, row))
                except BadInput as e:
                    self.bad(e)
            self.corpora[m] = by_kind
        return self.corpora[m].get(kind, [])

    def speech(self, spec: Path) -> list[dict]:
        if spec.is_dir() and (spec / "manifest.jsonl").exists():
            return from_corpus_manifest(self.corpus(spec, "speech"), spec, self.bad)
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
    utts = [u for u in pools.speech.utterances if u.speaker not in ex.speakers
            and str(u.path.resolve()) not in ex.utterances and u.id not in ex_ids]
    noise = [f for f in pools.noise if str(f.path.resolve()) not in ex.noise]
    rirs = [f for f in pools.rirs if str(f.path.resolve()) not in ex.rirs]
    fix = "drop sources.exclude or add sources the excluded sets did not use"
    if not utts:
        raise ConfigError(f"sources.exclude={list(exclude)} leaves no speech (every speaker was used by them); {fix}")
    if need_noise and not noise:
        raise ConfigError(f"sources.exclude={list(exclude)} leaves no noise files; {fix} (sources.noise=...)")
    if need_rir and not rirs:
        raise ConfigError(f"sources.exclude={list(exclude)} leaves no RIR files; {fix} (sources.rir=...)")
    record = {"sets": [str(x) for x in exclude], "speakers": len(ex.speakers),
              "utterances": len(pools.speech.utterances) - len(utts), "noise": len(pools.noise) - len(noise),
              "rirs": len(pools.rirs) - len(rirs), "simulated_rooms_not_excludable": ex.simulated_rooms}
    return Pools(root=pools.root, speech=SpeechPool(utts), noise=noise, rirs=rirs, skipped=pools.skipped,
                 excluded=record)


def build_pools(root: str | Path, speech: str | None = None, noise: str | None = None, rir: str | None = None,
                on_bad_input: str = "error", need_noise: bool = True, need_rir: bool = False,
                exclude: list | None = None) -> Pools:
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(f"sources.root={root} is not a folder; pass sources.root=<your corpus folder>")
    col = _Collector(on_bad_input)
    rows = _Rows(col.bad)

    utterances = []
    for row in rows.speech(Path(speech).expanduser().resolve() if speech else root):
        path = Path(row["path"])
        try:
            duration, sr, ch = _check_audio(path, "speech")
            check_claims(row, duration)
        except BadInput as e:
            col.bad(e)
            continue
        rel = _rel(path, root)
        utterances.append(Utterance(id=rel.rsplit(".", 1)[0].replace("/", "__"), path=path, rel_path=rel,
                                    speaker=row["speaker"], text=row["text"], duration_s=duration,
                                    meta=dict(row["meta"]), words=row["words"]))
    if not utterances:
        raise ConfigError(f"no usable speech found under {Path(speech) if speech else root}; point sources.root "
                          "(or sources.speech) at a corpus with transcribed speech")

    def files(kind: str, spec: str | None) -> list[SourceFile]:
        out = []
        for row in rows.files(Path(spec).expanduser().resolve() if spec else None, root, kind):
            path = row["path"]
            try:
                duration, sr, ch = _check_audio(path, kind)
                check_claims(row, duration)
            except BadInput as e:
                col.bad(e)
                continue
            rel = _rel(path, root)
            out.append(SourceFile(id=rel.rsplit(".", 1)[0].replace("/", "__"), path=path, rel_path=rel,
                                  duration_s=duration, sr=sr, channels=ch, meta=row["meta"]))
        return sorted(out, key=lambda f: f.id)

    noise_files = files("noise", noise)
    rir_files = files("rir", rir)
    if need_noise and not noise_files:
        raise ConfigError(f"no usable noise files found (sources.noise={noise}, root={root}); "
                          "set sources.noise=<folder of noise audio> or noise=none")
    if need_rir and not rir_files:
        raise ConfigError(f"no usable RIR files found (sources.rir={rir}, root={root}); "
                          "set sources.rir=<folder of RIRs> or room=simulated")
    pools = Pools(root=root, speech=SpeechPool(utterances), noise=noise_files, rirs=rir_files, skipped=col.skipped)
    return drop_excluded(pools, exclude, need_noise, need_rir) if exclude else pools
