"""Leakage between a training set and a test suite: shared speakers, utterances, noise recordings and measured
RIRs, read back from the sets' recipes (a suite stops measuring robustness when training saw what it tests
on). ``synth leakage A B`` prints the overlaps and exits 1 when there are any.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .audio import atomic_write_text
from .errors import BadInput
from .sources.schema import read_rows
from .writer.manifest import manifest_files

KINDS = ("speakers", "utterances", "noise", "rirs")


@dataclass
class SetSources:
    """What a set (or a training manifest) was made of."""

    where: str
    speakers: set = field(default_factory=set)
    utterances: dict = field(default_factory=dict)      # absolute resolved path -> source_id (None: NeMo)
    noise: set = field(default_factory=set)             # absolute noise file paths
    rirs: set = field(default_factory=set)              # absolute measured-RIR file paths
    simulated_rooms: int = 0                            # items with a simulated room: no file to share


def _abs(root: Path, rel: str) -> str:
    return str((root / rel).resolve())  # an absolute rel stays as is


def _manifest_paths(spec: str | Path) -> tuple[list[Path], Path]:
    """The manifest files of ``spec`` and the folder their relative paths start from: a set's
    manifest.jsonl, or a sharded set's shard manifests (sets too big for a top-level one), or the file."""
    p = Path(spec).expanduser()
    files = manifest_files(p) if p.is_dir() else [p] if p.is_file() else []
    if not files:
        raise BadInput(p, "is neither a built set (a folder with manifest.jsonl) nor a .jsonl manifest",
                       "give a set folder, its manifest.jsonl, or a NeMo JSONL training manifest")
    return files, p if p.is_dir() else p.parent


def read_sources(spec: str | Path) -> SetSources:
    """The sources of a built set (its folder, manifest.jsonl or shard manifests) or of a NeMo JSONL manifest.

    Speakers: every talker's ``source_speaker``; utterances: by absolute path (``recipe.sources_root`` joined
    with ``path``) and by ``source_id`` (two sets share one when either matches); noise: ``noise_path`` of
    every applied ``add_noise`` stage; RIRs: ``rel_path`` of every *measured* room (a simulated room has no
    file and is drawn from the build seed: counted apart, never shared). A NeMo manifest (no ``recipe``)
    gives its ``speaker`` ids and audio files as utterances."""
    manifests, base = _manifest_paths(spec)
    out = SetSources(where=str(spec))
    for where, row in (r for m in manifests for r in read_rows(m)):
        recipe = row.get("recipe")
        if not isinstance(recipe, dict):
            if not row.get("audio_filepath"):
                raise BadInput(where, "has neither a synth recipe nor an audio_filepath",
                               "give a set built by synth or a NeMo manifest")
            out.utterances[_abs(base, str(row["audio_filepath"]))] = None
            if row.get("speaker") not in (None, ""):
                out.speakers.add(str(row["speaker"]))
            continue
        root = Path(recipe.get("sources_root") or base)
        for t in recipe.get("talkers") or []:
            if t.get("source_speaker"):
                out.speakers.add(str(t["source_speaker"]))
            for u in t.get("utterances") or []:
                out.utterances[_abs(root, u["path"])] = str(u["source_id"])
            for e in t.get("effects") or []:
                p = e.get("params") or {}
                if e.get("name") == "room" and p.get("kind") == "measured" and p.get("rel_path"):
                    out.rirs.add(_abs(root, p["rel_path"]))
                elif e.get("name") == "room" and p.get("kind") == "simulated":
                    out.simulated_rooms += 1
        for leg in recipe.get("legs") or []:
            for e in leg.get("effects") or []:
                p = e.get("params") or {}
                if e.get("name") == "add_noise" and p.get("noise_path"):
                    out.noise.add(_abs(root, p["noise_path"]))
    return out


def merge(sources: list[SetSources]) -> SetSources:
    out = SetSources(where=", ".join(s.where for s in sources))
    for s in sources:
        for k in ("speakers", "utterances", "noise", "rirs"):
            getattr(out, k).update(getattr(s, k))
        out.simulated_rooms += s.simulated_rooms
    return out


def overlaps(a: SetSources, b: SetSources) -> dict[str, list[str]]:
    """Shared sources per kind, sorted. Utterances match by file path or by source id (listed by A's path)."""
    b_ids = {i for i in b.utterances.values() if i}
    utts = sorted(p for p, i in a.utterances.items() if p in b.utterances or (i and i in b_ids))
    return {"speakers": sorted(a.speakers & b.speakers), "utterances": utts,
            "noise": sorted(a.noise & b.noise), "rirs": sorted(a.rirs & b.rirs)}


def json_file_spelling(argv: list[str]) -> list[str]:
    """The old ``--json FILE`` (``--json=FILE``, or a name ending in .json after it) as ``--out FILE``, with
    a hint; a bare ``--json`` prints JSON to stdout, as in every command."""
    out = list(argv)
    for i, a in enumerate(out):
        if a.startswith("--json=") or (a == "--json" and i + 1 < len(out) and out[i + 1].endswith(".json")):
            out[i] = a.replace("--json", "--out", 1)
            print("hint: synth leakage --json FILE is now --out FILE (--json alone prints JSON to stdout); "
                  "--json FILE still works", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="synth leakage", description="Report speakers, utterances, noise files and "
                                 "RIR files shared by two sets (or a NeMo training manifest and a set). Exit 1 "
                                 "when any are shared.")
    ap.add_argument("a", help="a built set folder, its manifest.jsonl, or a NeMo JSONL training manifest")
    ap.add_argument("b", help="a built set folder or manifest (e.g. the stress suite)")
    ap.add_argument("--examples", type=int, default=5, help="examples printed per kind (default 5)")
    ap.add_argument("--out", metavar="FILE", help="also write the full overlap lists to this JSON file")
    ap.add_argument("--json", action="store_true", help="print the full overlap lists as JSON to stdout instead")
    args = ap.parse_args(json_file_spelling(sys.argv[1:] if argv is None else argv))
    a, b = read_sources(args.a), read_sources(args.b)
    found = overlaps(a, b)
    if args.out:
        atomic_write_text(Path(args.out), json.dumps(found, indent=1))
    leaked = any(found.values())
    if args.json:
        print(json.dumps(found, indent=1))
        return 1 if leaked else 0
    print(f"leakage between {args.a} and {args.b}:")
    for kind in KINDS:
        shown = ", ".join(found[kind][: args.examples])
        more = f" (+{len(found[kind]) - args.examples} more)" if len(found[kind]) > args.examples else ""
        print(f"  {kind:<10} {len(found[kind]):>4} shared" + (f": {shown}{more}" if found[kind] else ""))
    n_sim = a.simulated_rooms + b.simulated_rooms
    if n_sim:
        print(f"  ({n_sim} items use simulated rooms: generated per build, no file to share)")
    print("LEAKAGE: the two share sources" if leaked else "clean: no shared sources")
    return 1 if leaked else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
