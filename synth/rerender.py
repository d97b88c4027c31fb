"""``synth render <set> --out <dir>``: re-render a set (its folder, or its manifest.jsonl) from its recipes alone.

Each manifest line carries the full recipe, so with the same source files the audio comes out bit for
bit identical. ``--sources-root`` points at the sources if they moved since the build.
"""

from __future__ import annotations

import argparse
import json
import shutil
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Iterator

from .audio import atomic_open, text_lines
from .cliflags import respell
from .context import RenderContext
from .errors import BadInput
from .executor import make_executor
from .outdir import check_ids, lock, write_errors
from .progress import progress_bar
from .writer.item import Job, SetInfo, write_item


def _render_many(info: SetInfo, out_dir: Path, root: str | None, lines: list[dict]) -> list[tuple[dict, bool]]:
    """Re-render ``lines``' recipes into ``out_dir``: each one's new manifest line, and whether its audio
    differs from the hash its old line recorded."""
    ctxs: dict[str, RenderContext] = {}
    new = []
    for line in lines:
        r = root or line["recipe"].get("sources_root", ".")
        ctx = ctxs.setdefault(r, RenderContext(r))
        item = write_item(info, out_dir, Job(line["id"], line.get("pair_id"), line.get("slice", {}).get("slice")),
                          line["recipe"], ctx)
        new.append((item, item["audio_sha256"] != line.get("audio_sha256")))
    return new


def _items(manifest: Path) -> Iterator[dict]:
    """The manifest's lines, parsed one at a time."""
    return (json.loads(line) for line in text_lines(manifest) if line.strip())


def rerender(manifest: Path, out_dir: Path, sources_root: str | None = None, workers: int = 1) -> Path:
    """Re-render a set from its manifest (``manifest``: the file, or the set folder holding it), reading it as
    the work goes (memory does not grow with the set)."""
    manifest = Path(manifest)
    if manifest.is_dir():
        manifest = manifest / "manifest.jsonl"
    if not manifest.exists():
        raise BadInput(manifest, "does not exist", "pass a set folder written by synth build (or its manifest.jsonl)")
    first = next(_items(manifest), None)
    if not first or "recipe" not in first:
        raise BadInput(manifest, "has no recipes", "pass the manifest.jsonl that synth build wrote")
    ids = [it.get("id") for it in _items(manifest)]  # ids only: the lines are read again as the work goes
    check_ids(ids, f"bad input {manifest}", "restore the manifest that synth build wrote")
    set_dir = manifest.parent
    import yaml
    cfg = yaml.safe_load((set_dir / "config.yaml").read_text()) if (set_dir / "config.yaml").exists() else {}
    g = first["generator"]
    info = SetInfo(cfg, g["config_hash"], g)
    with write_errors(out_dir), lock(out_dir):
        _rerender(manifest, len(ids), info, set_dir, out_dir, sources_root, workers)
    return out_dir


def _rerender(manifest: Path, n: int, info: SetInfo, set_dir: Path, out_dir: Path, sources_root: str | None,
              workers: int) -> None:
    items = _items(manifest)
    chunks = iter(lambda: list(islice(items, 4)), [])
    written = changed = 0
    with make_executor({"workers": workers}) as executor, progress_bar(n, label="re-rendering") as bar, \
            atomic_open(out_dir / "manifest.jsonl") as out:
        for done in executor.map_ordered(partial(_render_many, info, out_dir, sources_root), chunks):
            for line, differs in done:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                bar.advance(line["duration"])
                written, changed = written + 1, changed + differs
    for name in ("segments.rttm", "words.ctm", "card.md", "card.json", "config.yaml", "references.seglst.json",
                 "references.stm"):
        if (set_dir / name).exists() and set_dir.resolve() != out_dir.resolve():
            shutil.copyfile(set_dir / name, out_dir / name)
    print(f"re-rendered {written} items into {out_dir}; {changed} differ from the manifest's hashes")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth render", description="Re-render a set bit-exactly from the recipes in its manifest.")
    ap.add_argument("set", type=Path, help="a set folder written by synth build, or its manifest.jsonl")
    ap.add_argument("--out", required=True, type=Path, help="output folder (new, or an earlier re-render of it)")
    ap.add_argument("--sources-root", default=None, help="where the sources are now, if they moved since the build")
    ap.add_argument("--workers", type=int, default=1, help="processes (default 1; the bytes do not depend on it)")
    a = ap.parse_args(respell("synth render", argv, {"--from": "<set>"}))
    rerender(a.set, a.out, a.sources_root, a.workers)
    return 0
