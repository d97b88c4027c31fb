"""``--to hf``: a Hugging Face audiofolder: ``audio/`` and ``metadata.jsonl`` with a relative ``file_name``.

``load_dataset("audiofolder", data_dir=DIR)`` loads it. The audio files are hard links to the set's
files (copies across file systems). Columns: id, text, duration, sample_rate, num_channels, segments
(speaker, channel, start, end, text, overlap, truncated: one fixed schema), and ``conditions`` and
``slice`` as JSON strings: their keys differ between items (a room or a codec adds keys, calls nest
per-talker and per-leg blocks) and Arrow needs one schema per column; a string keeps every value exactly
and ``json.loads`` gives it back. The audiofolder builder's audio column needs torchcodec (and FFmpeg's
shared libraries, which pip does not bring); with pip-installed packages only,
``load_dataset("json", data_files=DIR/metadata.jsonl)`` loads the same columns and soundfile reads
``DIR/<file_name>`` (the README's recipe, run by tests/test_readme.py).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import soundfile as sf

from ...audio import atomic_write_text, text_lines
from . import ExportFormat, register

SEGMENT_KEYS = ("speaker", "channel", "start", "end", "text", "overlap", "truncated")


def hf_row(it: dict, file_name: str) -> dict:
    return {"file_name": file_name, "id": it["id"], "text": it["text"], "duration": it["duration"],
            "sample_rate": it["sample_rate"], "num_channels": it["num_channels"],
            "segments": [{k: s.get(k, 0 if k == "channel" else None) for k in SEGMENT_KEYS} for s in it["segments"]],
            "conditions": json.dumps(it["conditions"], ensure_ascii=False, sort_keys=True),
            "slice": json.dumps(it.get("slice", {}), ensure_ascii=False, sort_keys=True)}


def link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(src, dst)


@register("hf")
class HFAudioFolder(ExportFormat):
    keeps_audio = True

    def write(self, items: list[dict], out: Path, shard_size: int) -> Path:
        rows = []
        for it in items:
            src = Path(it["audio_filepath"])
            rel = f"audio/{src.name}"
            if src != out / rel:  # a tar-sharded set's audio was unpacked right there
                link_or_copy(src, out / rel)
            rows.append(hf_row(it, rel))
        path = out / "metadata.jsonl"
        atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        return path

    def read(self, out: Path) -> dict[str, dict]:
        rows = [json.loads(line) for line in text_lines(out / "metadata.jsonl") if line.strip()]
        return {r["id"]: {"text": r["text"], **dict(zip(("samples", "sample_rate"),
                                                        sf.read(out / r["file_name"], dtype="float32", always_2d=True)))}
                for r in rows}
