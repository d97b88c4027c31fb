"""``synth align <corpus folder | NeMo manifest | LibriSpeech tree> --out <new manifest.jsonl>``: word
alignments from pocketsphinx's offline forced alignment, each passing the quality check
(:mod:`synth.align.quality`) or listed in ``<out stem>.align_problems.jsonl``; resumable through
``<out stem>.align-journal.jsonl`` and byte-identical whatever the worker count (README, "synth align").
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import atomic_open
from ..errors import BadInput, ConfigError
from ..executor import make_executor
from ..progress import progress_bar
from .aligner import DECODER_OPTIONS, Aligner, read_dict
from .corpus import AlignJob, Source, input_manifest, out_row, read_source
from . import quality

JOURNAL_VERSION = 1
CHUNK = 4          # utterances per task sent to a worker


def outputs(out: Path) -> tuple[Path, Path]:
    """(journal, problems file) beside ``out``."""
    stem = out.name[:-len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(f"{stem}.align-journal.jsonl"), out.with_name(f"{stem}.align_problems.jsonl")


def read_audio(job: AlignJob) -> tuple[np.ndarray, int]:
    """The job's audio as mono float32 at its own rate; unreadable, empty or non-finite audio is bad input
    naming the manifest line and the file."""
    try:
        data, sr = sf.read(job.audio, dtype="float32", always_2d=True)
    except Exception as e:
        raise BadInput(f"{job.line} ({job.audio})", f"cannot be read as audio ({str(e).splitlines()[0]})",
                       "fix or remove the file, or pass --on-bad-input skip") from None
    if data.size == 0 or not np.isfinite(data).all():
        raise BadInput(f"{job.line} ({job.audio})", "contains no samples" if data.size == 0 else
                       "contains NaN or infinite samples", "fix or remove the file, or pass --on-bad-input skip")
    return (data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)), sr


class AlignTask:
    """What a worker runs on a chunk of jobs: align, check, and (with a bank) cut the fillers. Sent to each
    worker once; its decoder is made there on first use."""

    def __init__(self, aligner: Aligner, skip_bad: bool, bank: str | None):
        self.aligner, self.skip_bad, self.bank = aligner, skip_bad, bank

    def __call__(self, chunk: list[AlignJob]) -> list[dict]:
        return [self.one(job) for job in chunk]

    def one(self, job: AlignJob) -> dict:
        try:
            x, sr = read_audio(job)
        except BadInput as e:
            if not self.skip_bad:
                raise
            return {"i": job.index, "words": None, "duration": None,
                    "problem": {"kind": "bad_audio", "detail": e.problem}}
        a = self.aligner.align(x, sr, job.text)
        rec = {"i": job.index, "words": None, "duration": round(len(x) / sr, 4), "problem": None}
        if a.failure:
            kind = "oov" if a.oov else "no_alignment"
            rec["problem"] = {"kind": kind, "detail": a.failure}
            if a.oov:
                rec["problem"]["oov"] = list(dict.fromkeys(a.oov))
        else:
            m = quality.metrics(a)
            found = quality.problems(a, m)
            if found:
                rec["problem"] = {"kind": "implausible", "detail": "; ".join(found), "metrics": m}
            else:
                rec["words"] = a.words
        if self.bank is not None:
            from .fillers import file_stem, harvest
            p = rec["problem"]
            kept, rejected = harvest(a, None if p is None else f"{p['kind']}: {p['detail']}", x, sr, Path(self.bank),
                                     file_stem(job.line, job.audio), job.line, job.audio, job.meta)
            rec["fillers"], rec["fillers_rejected"] = kept, rejected
        return rec


def fingerprint(source: Source, extra: dict, bank: str | None) -> tuple[str, int]:
    """(digest, utterances): what the journal's results depend on (the utterances, the options, the aligner
    and its checks), from one pass over the input that also checks every row before any audio is read."""
    try:
        import pocketsphinx
    except ImportError:
        raise ConfigError("synth align needs pocketsphinx: pip install 'synth[eval]' (or pip install "
                          "'pocketsphinx>=5')") from None
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps({"v": JOURNAL_VERSION, "ps": getattr(pocketsphinx, "__version__", "?"),
                         "decoder": {k: str(v) for k, v in DECODER_OPTIONS.items()}, "dict": extra,
                         "fillers": bank, "checks": {k: v for k, v in vars(quality).items()
                                                     if k.isupper() and isinstance(v, (int, float))}},
                        sort_keys=True).encode())
    n = 0
    for j, _ in source.rows():
        h.update(json.dumps([j.line, j.audio, j.text]).encode())
        n += 1
    return h.hexdigest(), n


@contextmanager
def journal(path: Path, fp: str):
    """The journal of finished results, opened for appending (binary, one JSON line per result) and locked,
    so two runs cannot write the same ``--out``; yields (file, indices already done). A journal of another
    input or options is refused; a last line cut short by a kill is dropped."""
    done: set[int] = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+b")
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigError(f"another synth align is writing {path}; wait for it or pass another --out") from None
        f.seek(0)
        good = 0
        for n, line in enumerate(f):
            try:
                if not line.endswith(b"\n"):
                    raise ValueError
                rec = json.loads(line)
            except ValueError:
                break  # the last line of a killed run, written in part
            if n == 0:
                if rec.get("journal") != JOURNAL_VERSION or rec.get("fingerprint") != fp:
                    raise ConfigError(f"{path} holds results of another input or other options; delete it to "
                                      "start over, or pass another --out")
            else:
                done.add(rec["i"])
            good += len(line)
        f.truncate(good)
        if good == 0:
            f.write((json.dumps({"journal": JOURNAL_VERSION, "fingerprint": fp}) + "\n").encode())
            f.flush()
        yield f, done
    finally:
        f.close()


def _chunks(jobs, size: int):
    chunk = []
    for j in jobs:
        chunk.append(j)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run(spec: str, out: str, text_key: str | None = None, dict_file: str | None = None, workers: int = 1,
        fillers: str | None = None, on_bad_input: str = "error") -> dict:
    """Align ``spec`` into ``out``, a new manifest (the input is never written), with ``words: [{word, start,
    end}]`` (s from the file start) per row that passed the check; returns the summary counts. Finished
    utterances go to the journal as they come and a rerun skips them; each alignment depends only on its own
    audio and transcript, so the output is the same whether the run was interrupted or not."""
    if on_bad_input not in ("error", "skip"):
        raise ConfigError(f"--on-bad-input {on_bad_input}: allowed values are error and skip")
    out_p = Path(os.path.abspath(os.path.expanduser(out)))
    if out_p.suffix != ".jsonl":
        raise ConfigError(f"--out {out}: the new manifest must be a .jsonl file")
    given = input_manifest(Path(os.path.abspath(os.path.expanduser(spec))))
    if given is not None and out_p.resolve() == given.resolve():
        raise ConfigError(f"--out {out} is the input manifest; synth align never writes the user's file: pass "
                          "another --out")
    if out_p.is_dir():
        raise ConfigError(f"--out {out} is a folder; pass the new manifest's file name, e.g. {out_p / 'aligned.jsonl'}")
    source = read_source(spec, text_key)
    bank = None
    if fillers is not None:
        bank = Path(os.path.abspath(os.path.expanduser(fillers)))
        repo = Path(__file__).resolve().parents[2]
        corpus = Path(os.path.abspath(os.path.expanduser(spec)))
        inside = [(repo, "the synth repository")]
        if corpus.is_dir():
            inside.append((corpus, "the input corpus"))
        elif bank == corpus.parent:  # its manifest.jsonl would land beside the input manifest
            raise ConfigError(f"--fillers {fillers} is the input manifest's folder; write the bank to a folder of its own")
        for p, name in inside:
            if bank == p or p in bank.parents:
                raise ConfigError(f"--fillers {fillers} is inside {name}; write the bank to a folder of its own")
    extra = read_dict(dict_file) if dict_file else {}
    journal_p, problems_p = outputs(out_p)
    fp, total = fingerprint(source, extra, None if bank is None else str(bank))
    if bank is not None:
        bank.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with journal(journal_p, fp) as (jf, done):
        task = AlignTask(Aligner(extra), on_bad_input == "skip", None if bank is None else str(bank))
        todo = (j for j, _ in source.rows() if j.index not in done)
        with make_executor({"workers": max(1, int(workers))}) as ex, \
                progress_bar(total, len(done), label="aligning") as bar:
            for results in ex.map_ordered(task, _chunks(todo, CHUNK)):
                jf.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results).encode("utf-8"))
                jf.flush()
                for rec in results:
                    bar.advance(rec["duration"] or 0.0)
        summary = _finish(source, journal_p, out_p, problems_p, bank)
    journal_p.unlink(missing_ok=True)
    summary["seconds"] = round(time.monotonic() - t0, 2)
    return summary


def _records(path: Path):
    """A generator sent utterance indices, in input order, answering each with its journal record. A run
    appends results in input order and a rerun appends the rest in order, so one pass in step with the
    input finds them; should they be out of order, the records' offsets are indexed first."""
    with open(path, "rb") as f:
        f.readline()  # the header
        offsets = None
        want = yield
        while True:
            if offsets is None:
                line = f.readline()
                rec = json.loads(line) if line else None
                if rec is not None and rec["i"] == want:
                    want = yield rec
                    continue
                offsets, off = {}, f.seek(0) + len(f.readline())
                for ln in iter(f.readline, b""):
                    offsets[json.loads(ln)["i"]] = off
                    off += len(ln)
            f.seek(offsets[want])
            want = yield json.loads(f.readline())


def _finish(source: Source, journal_p: Path, out: Path, problems_p: Path, bank: Path | None) -> dict:
    """Write the new manifest, the problem list and the bank's manifests, each in input order."""
    out_dir = os.path.abspath(out.parent)
    kinds: Counter = Counter()
    reasons: Counter = Counter()
    audio_s, n, kept = 0.0, 0, 0
    recs = _records(journal_p)
    next(recs)
    with ExitStack() as stack:
        fo, fp = stack.enter_context(atomic_open(out)), stack.enter_context(atomic_open(problems_p))
        fm = fr = None
        if bank is not None:
            fm, fr = stack.enter_context(atomic_open(bank / "manifest.jsonl")), stack.enter_context(
                atomic_open(bank / "rejected.jsonl"))
        for job, row in source.rows():
            rec = recs.send(job.index)
            n += 1
            audio_s += rec["duration"] or 0.0
            fo.write(json.dumps(out_row(source.kind, job, row, out_dir, rec["words"], rec["duration"]),
                                ensure_ascii=False) + "\n")
            if rec["problem"]:
                kinds[rec["problem"]["kind"]] += 1
                fp.write(json.dumps({"line": job.line, "audio": job.audio, **rec["problem"]}, ensure_ascii=False) + "\n")
            if fm is not None:
                for r in rec.get("fillers", []):
                    fm.write(json.dumps(r, ensure_ascii=False) + "\n")
                    kept += 1
                for r in rec.get("fillers_rejected", []):
                    fr.write(json.dumps(r, ensure_ascii=False) + "\n")
                    reasons[r["reason"]] += 1
    recs.close()
    summary = {"utterances": n, "aligned": n - sum(kinds.values()), "problems": dict(sorted(kinds.items())),
               "audio_s": round(audio_s, 2), "out": str(out), "problems_file": str(problems_p)}
    if bank is not None:
        summary["fillers"] = {"kept": kept, "rejected": dict(sorted(reasons.items())), "folder": str(bank)}
    return summary


def summary_line(s: dict) -> str:
    n, ok = s["utterances"], s["aligned"]
    probs = ", ".join(f"{v} {k}" for k, v in s["problems"].items())
    line = (f"aligned {ok} of {n} utterances ({100 * ok / max(n, 1):.1f} %)"
            + (f"; {n - ok} listed in {s['problems_file']} ({probs})" if n > ok else "")
            + f"; wrote {s['out']} ({s['audio_s'] / 3600:.2f} h of audio")
    if "seconds" in s:
        line += f" in {s['seconds']:.0f} s, {n / max(s['seconds'], 1e-9):.1f} utterances/s"
    line += ")"
    if "fillers" in s:
        f = s["fillers"]
        rej = ", ".join(f"{v} {k}" for k, v in f["rejected"].items())
        line += f"; filler bank {f['folder']}: {f['kept']} kept, {sum(f['rejected'].values())} rejected" + \
                (f" ({rej})" if rej else "")
    return line


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth align", description="Word alignments for a transcribed corpus "
                                 "(pocketsphinx forced alignment), checked per utterance, into a new manifest; "
                                 "problems listed in <out>.align_problems.jsonl.")
    ap.add_argument("input", help="a corpus folder with manifest.jsonl, a NeMo .jsonl manifest or a LibriSpeech tree")
    ap.add_argument("--out", required=True, help="the new manifest (.jsonl) to write; never the input")
    ap.add_argument("--text-key", default=None,
                    help="row field holding the transcript to align (default text; transcript in a corpus manifest)")
    ap.add_argument("--dict", dest="dict_file", default=None,
                    help="extra pronunciations, one 'word PH PH ...' per line (ARPAbet)")
    ap.add_argument("--workers", type=int, default=1, help="processes (one pocketsphinx decoder each)")
    ap.add_argument("--fillers", default=None, help="also cut the hesitation fillers into this folder (a filler bank)")
    ap.add_argument("--on-bad-input", default="error", choices=("error", "skip"),
                    help="an unreadable audio file: stop (error) or list it as a problem (skip)")
    args = ap.parse_args(argv)
    s = run(args.input, args.out, args.text_key, args.dict_file, args.workers, args.fillers, args.on_bad_input)
    print(summary_line(s))
    return 0
