"""``--to lhotse``: ``cuts.jsonl.gz``, a Lhotse CutSet (``CutSet.from_file``). Needs the ``lhotse`` extra.

One cut per item (a MultiCut for stereo calls) and one supervision per segment: speaker label, start,
duration, text, channel; the segment's flags, its source speaker, word alignments and the item's
``conditions`` in ``custom``. The cut's ``custom`` holds the item's conditions, slice and provenance.
Recordings point at the set's audio by absolute path (Lhotse resolves relative paths against the working
directory, not the manifest).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from ...audio import atomic_write_bytes
from ...extras import require
from . import ExportFormat, register


@register("lhotse")
class Lhotse(ExportFormat):
    keeps_audio = True

    def write(self, items: list[dict], out: Path, shard_size: int) -> Path:
        lhotse = require("lhotse", "lhotse", "synth export --to lhotse")
        from lhotse.supervision import AlignmentItem

        cuts = []
        for it in items:
            rec = lhotse.Recording.from_file(it["audio_filepath"], recording_id=it["id"])
            rec.sources[0].source = str(Path(rec.sources[0].source).resolve())
            sups = []
            for k, s in enumerate(it["segments"]):
                words = s.get("words")
                sups.append(lhotse.SupervisionSegment(
                    id=f"{it['id']}-{k:04d}", recording_id=it["id"], start=s["start"], duration=round(s["end"] - s["start"], 4),
                    channel=s.get("channel", 0), text=s["text"], speaker=s["speaker"],
                    custom={**{x: s[x] for x in ("role", "source_speaker", "source_id", "overlap", "truncated",
                                                  "backchannel", "lost") if x in s},
                            "conditions": it["conditions"]},
                    alignment={"word": [AlignmentItem(w["word"], w["start"], round(w["end"] - w["start"], 4))
                                        for w in words]} if words else None))
            cut_cls = lhotse.MultiCut if rec.num_channels > 1 else lhotse.MonoCut
            channel = list(range(rec.num_channels)) if rec.num_channels > 1 else 0
            cuts.append(cut_cls(id=it["id"], start=0.0, duration=rec.duration, channel=channel, recording=rec,
                                supervisions=sups, custom={"conditions": it["conditions"], "slice": it.get("slice", {}),
                                                           "synthetic": True, "generator": it.get("generator")}))
        path = out / "cuts.jsonl.gz"
        text = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in cuts)
        atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), mtime=0))  # mtime=0: the same bytes every run
        return path

    def read(self, out: Path) -> dict[str, dict]:
        lhotse = require("lhotse", "lhotse", "reading a Lhotse export")
        return {c.id: {"text": " ".join(s.text for s in c.supervisions),
                       "samples": c.load_audio().T, "sample_rate": c.sampling_rate}
                for c in lhotse.CutSet.from_file(out / "cuts.jsonl.gz")}
