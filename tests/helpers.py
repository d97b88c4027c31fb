"""Test helpers: compose a build config and build a set in-process."""

from __future__ import annotations

import json
from pathlib import Path

from synth.audio import text_lines
from synth.build import build
from synth.cli import compose_config

REPO = Path(__file__).resolve().parents[1]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()


def build_set(out_dir: Path, *overrides: str) -> Path:
    cfg = compose_config([f"out_dir={out_dir}", f"sources.root={CORPUS}", *overrides])
    return build(cfg)


def manifest(set_dir: Path) -> list[dict]:
    return [json.loads(l) for l in text_lines(Path(set_dir) / "manifest.jsonl") if l.strip()]
