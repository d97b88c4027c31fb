"""``synth render --from <manifest.jsonl> --out <dir>``: re-render a set from its recipes alone.

Each manifest line carries the full recipe, so with the same source files the audio comes out bit for
bit identical. ``--sources-root`` points at the sources if they moved since the build.
"""

from __future__ import annotations

import argparse
import json
import shutil
from functools import partial
from pathlib import Path

from .audio import atomic_write_text, text_lines
from .context import RenderContext
from .errors import BadInput
from .executor import make_executor
from .outdir import check_ids, lock, write_errors
from .progress import progress_bar
from .writer.item import Job, SetInfo, write_item


def _render_many(info: SetInfo, out_dir: Path, root: str | None, lines: list[dict]) -> list[dict]:
    """Re-render ``lines``' recipes into ``out_dir``; their new manifest lines."""
    ctxs: dict[str, RenderContext] = {}
    new = []
    for line in lines:
        r = root or line["recipe"].get("sources_root", ".")
        ctx = ctxs.setdefault(r, RenderContext(r))
        new.append(write_item(info, out_dir, Job(line["id"], line.get("pair_id"), line.get("slice", {}).get("slice")),
                              line["recipe"], ctx))
    return new


def rerender(manifest: Path, out_dir: Path, sources_root: str | None = None, workers: int = 1) -> Path:
    if not manifest.exists():
        raise BadInput(manifest, "does not exist", "pass the manifest.jsonl of a built set")
    lines = [json.loads(l) for l in text_lines(manifest) if l.strip()]
    if not lines or "recipe" not in lines[0]:
        raise BadInput(manifest, "has no recipes", "pass the manifest.jsonl that synth build wrote")
    check_ids((l.get("id") for l in lines), f"bad input {manifest}", "restore the manifest that synth build wrote")
    set_dir = manifest.parent
    import yaml
    cfg = yaml.safe_load((set_dir / "config.yaml").read_text()) if (set_dir / "config.yaml").exists() else {}
    g = lines[0]["generator"]
    info = SetInfo(cfg, g["config_hash"], g)
    with write_errors(out_dir), lock(out_dir):
        _rerender(lines, info, set_dir, out_dir, sources_root, workers)
    return out_dir


def _rerender(lines: list[dict], info: SetInfo, set_dir: Path, out_dir: Path, sources_root: str | None,
              workers: int) -> None:
    chunks = [lines[i: i + 4] for i in range(0, len(lines), 4)]
    new = []
    with make_executor({"workers": workers}) as executor, progress_bar(len(lines), label="re-rendering") as bar:
        for done in executor.map_ordered(partial(_render_many, info, out_dir, sources_root), chunks):
            for line in done:
                bar.advance(line["duration"])
            new += done
    atomic_write_text(out_dir / "manifest.jsonl", "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in new))
    for name in ("segments.rttm", "words.ctm", "card.md", "card.json", "config.yaml", "references.seglst.json",
                 "references.stm"):
        if (set_dir / name).exists() and set_dir.resolve() != out_dir.resolve():
            shutil.copyfile(set_dir / name, out_dir / name)
    changed = sum(a["audio_sha256"] != b["audio_sha256"] for a, b in zip(lines, new))
    print(f"re-rendered {len(new)} items into {out_dir}; {changed} differ from the manifest's hashes")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="synth render", description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="manifest", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--sources-root", default=None)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args(argv)
    rerender(a.manifest, a.out, a.sources_root, a.workers)
    return 0
