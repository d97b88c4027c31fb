"""``asr=hypotheses``: hypotheses produced elsewhere (e.g. by the production ASR), read from a JSONL file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ...audio import text_lines
from ...errors import BadInput
from . import Engine, EngineSpec, register


@register("hypotheses")
class HypothesesEngine(Engine):
    """Hypotheses produced elsewhere (e.g. by the production ASR): a JSONL of ``{"id", "text"}`` lines,
    optionally with ``speakers`` and ``segments``. An item without a line is an error."""

    needs = "hypotheses"

    def __init__(self, spec: EngineSpec):
        super().__init__(spec)
        path = Path(spec.hypotheses)
        if not path.is_file():
            raise BadInput(path, "does not exist", "give asr.hypotheses=<path to a JSONL of {\"id\", \"text\"}>")
        self.hyps: dict[str, dict] = {}
        for n, line in enumerate(text_lines(path), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                self.hyps[str(rec["id"])] = {k: v for k, v in rec.items() if k != "id"}
                self.hyps[str(rec["id"])]["text"] = str(rec.get("text") or "")
            except (ValueError, KeyError, TypeError):
                raise BadInput(path, f"line {n} is not a JSON object with an \"id\"",
                               "write one {\"id\": ..., \"text\": ...} object per line") from None
        self.path = path

    def transcribe(self, audio_path: Path, item: dict) -> dict:
        try:
            return dict(self.hyps[str(item["id"])])
        except KeyError:
            raise BadInput(self.path, f"has no hypothesis for item {item['id']!r}",
                           "add a line for every item in the set's manifest") from None

    @classmethod
    def key_extras(cls, spec: EngineSpec) -> dict:
        p = Path(spec.hypotheses)
        return {"hypotheses_sha": hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None}

    @classmethod
    def preflight(cls, spec: EngineSpec) -> None:
        cls(spec)  # the file exists and every line parses
