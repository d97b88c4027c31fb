"""``synth export <set> --to FORMAT --out DIR``: a built set in the formats training stacks stream, with its
labels and conditions.

Formats (``--to``; ``synth export --help`` lists them) are one file each in :mod:`synth.writer.formats`,
which documents each. Items keep the set's order; ``--shard-size`` items per shard. The output folder must be new or empty. A set built into tar shards
(``output.container=tar``) is read from its shards: for formats that refer to audio files by path its audio
is unpacked into ``DIR/audio/``.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from ..errors import ConfigError
from ..outdir import make_folder
from .formats import format_names, get_format
from .manifest import audio_files, read_manifest


def with_audio_paths(set_dir: Path, items: list[dict], unpack_to: Path) -> list[dict]:
    """The set's manifest lines, each with ``audio_filepath`` made the absolute path of its audio file; a
    tar-sharded set's audio is unpacked into ``unpack_to``."""
    audio = audio_files(set_dir, items, unpack_to)
    return [{**it, "audio_filepath": str(audio[str(it["id"])])} for it in items]


def export(set_dir: str | Path, to: str, out: str | Path, shard_size: int = 1000) -> Path:
    """Write the set at ``set_dir`` in format ``to`` into ``out``; returns ``out``."""
    fmt = get_format(to)
    if shard_size < 1:
        raise ConfigError(f"--shard-size {shard_size}: must be >= 1")
    set_dir, out = Path(set_dir).expanduser().resolve(), Path(out).expanduser().resolve()
    items = read_manifest(set_dir)  # a bad set is reported before anything is written
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out} exists and is not empty; choose a new or empty folder")
    make_folder(out, "--out")
    # a set stored in tar shards is unpacked where the export keeps its audio (lhotse, hf) or in a scratch
    # folder removed afterwards (the tar formats copy the bytes into their own shards)
    scratch = out / ".unpacked"
    try:
        fmt.write(with_audio_paths(set_dir, items, out / "audio" if fmt.keeps_audio else scratch), out, shard_size)
    except BaseException:  # the folder was new or empty: leave it so, and the same command can be rerun
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth export", description=__doc__.split("\n\n")[0])
    ap.add_argument("set", help="a folder written by synth build")
    ap.add_argument("--to", required=True, choices=format_names())
    ap.add_argument("--out", required=True, help="new or empty output folder")
    ap.add_argument("--shard-size", type=int, default=1000, help="items per tar shard (nemo-tarred, webdataset)")
    a = ap.parse_args(argv)
    out = export(a.set, a.to, a.out, a.shard_size)
    print(f"exported {a.set} as {a.to} to {out}")
    return 0
