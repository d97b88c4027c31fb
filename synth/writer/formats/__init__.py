"""Export formats of ``synth export``: one file per format in this package, registered by name.

A format is a class with ``write(items, out, shard_size) -> Path`` (``items``: the set's manifest lines in
order, each ``audio_filepath`` made the absolute path of its audio file; ``out``: a new or empty folder)
and ``read(out) -> {id: {"text", "samples", "sample_rate"}}``, the exported items as a consumer loads them
(``samples`` shaped ``(T, C)`` as soundfile reads them; the contract tests round-trip every format with
it). ``keeps_audio``: the export refers to audio files by path, so a set stored in tar shards is unpacked
into ``out/audio/`` for it (otherwise into a scratch folder removed afterwards).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from ...errors import ConfigError
from ...registry import registrar

REGISTRY: dict[str, type] = {}


class ExportFormat:
    name: str = "format"
    keeps_audio: bool = False

    def write(self, items: list[dict], out: Path, shard_size: int) -> Path:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, out: Path) -> dict[str, dict]:  # pragma: no cover - interface
        raise NotImplementedError

register = registrar(REGISTRY, "export format")


def format_names() -> list[str]:
    """Every format ``synth export --to`` accepts."""
    return sorted(REGISTRY)


def get_format(name: str) -> ExportFormat:
    if name not in REGISTRY:
        raise ConfigError(f"--to {name}: allowed formats are {', '.join(format_names())}")
    return REGISTRY[name]()


for _m in pkgutil.iter_modules(__path__):  # every format module registers its name
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
