"""ASR engines behind one small interface: ``engine.transcribe(audio_path, item) -> hypothesis dict``.

A hypothesis is ``{"text": str}``, optionally with ``"speakers": {label: text}`` (per-speaker streams,
scored with cpWER) and ``"segments": [{"speaker", "start", "end", "text"}]`` (scored with DER).

One engine per file in this package, registered by name with ``@register("name")``; ``asr=<name>`` picks
it and :func:`engine_names` lists them. Engines are built from a plain :class:`EngineSpec` (so each
worker process can build its own copy), and ``engine_key(spec)`` names the cache folder: the engine name
plus a hash of every setting that can change its output, so changing the model or command never reuses
stale hypotheses. The set's audio is decoded with :func:`synth.audio.load` (any rate, mono or stereo ->
downmixed mono at the rate the engine needs). Nothing leaves the machine except what
``openai_compatible`` POSTs to the URL the user gave (meant for a self-hosted server).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import ConfigError
from ...registry import registrar

REGISTRY: dict[str, type] = {}

register = registrar(REGISTRY, "engine")


def engine_names() -> list[str]:
    """Every engine ``asr=<name>`` accepts."""
    return sorted(REGISTRY)


@dataclass(frozen=True)
class EngineSpec:
    """Every engine setting; each engine reads the fields it needs (``asr.<field>=...`` on the CLI)."""

    name: str = "pocketsphinx"
    model: str | None = None  # faster_whisper: model name or local folder; openai_compatible: "model" field
    command: str | None = None  # command: template with {audio}
    url: str | None = None  # openai_compatible: full URL of /v1/audio/transcriptions
    hypotheses: str | None = None  # hypotheses: JSONL path
    language: str | None = "en"
    vad_filter: bool = False  # faster_whisper
    condition_on_previous_text: bool = True  # faster_whisper
    beam_size: int = 5  # faster_whisper
    device: str = "cpu"  # faster_whisper
    compute_type: str = "int8"  # faster_whisper
    cpu_threads: int = 0  # faster_whisper: CTranslate2 threads per model (0 = its default)
    num_workers: int = 1  # faster_whisper: parallel decodes one model serves
    sample_rate: int | None = None  # command: None = original file; openai_compatible: None -> 16000, 0 = original
    timeout_s: float = 600.0  # command / openai_compatible, per item
    api_key_env: str | None = None  # openai_compatible: name of an env var holding a bearer token
    extra: dict = field(default_factory=dict)  # openai_compatible: extra form fields

    def __post_init__(self):
        if self.name not in REGISTRY:
            raise ConfigError(f"asr={self.name!r} is not an engine; use one of {', '.join(engine_names())}")
        key = REGISTRY[self.name].needs
        if key and not getattr(self, key):
            raise ConfigError(f"asr={self.name} needs asr.{key}=...")
        if self.cpu_threads < 0 or self.num_workers < 1:
            raise ConfigError(f"asr.cpu_threads={self.cpu_threads} / asr.num_workers={self.num_workers}: "
                              "use cpu_threads >= 0 (0 = default) and num_workers >= 1")


class Engine:
    """Base: ``transcribe(audio_path, item)`` returns a hypothesis dict.

    ``needs``: the :class:`EngineSpec` field the engine cannot run without (checked when the spec is made);
    ``package``: ``(import name, install hint)`` of the package it imports, checked by :func:`preflight`."""

    name: str = "engine"
    needs: str | None = None
    package: tuple[str, str] | None = None

    def __init__(self, spec: EngineSpec):
        self.spec = spec

    def transcribe(self, audio_path: Path, item: dict) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def key_extras(cls, spec: EngineSpec) -> dict:
        """Output-relevant facts beyond the spec (a package version, a file's hash) for :func:`engine_key`."""
        return {}

    @classmethod
    def preflight(cls, spec: EngineSpec) -> None:
        """Cheap checks before any work starts (so a pool never starts just to fail)."""
        import importlib.util

        if cls.package and importlib.util.find_spec(cls.package[0]) is None:
            raise ConfigError(f"asr={spec.name} needs the {cls.package[0]} package: {cls.package[1]}")


def engine_key(spec: EngineSpec) -> str:
    """Cache folder name, e.g. ``pocketsphinx-3fa2c1d0``; covers all output-relevant settings."""
    relevant = asdict(spec)
    relevant.pop("timeout_s")
    relevant.pop("api_key_env")
    relevant.update(REGISTRY[spec.name].key_extras(spec))
    h = hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{spec.name}-{h}"


def build_engine(spec: EngineSpec) -> Engine:
    return REGISTRY[spec.name](spec)


def preflight(spec: EngineSpec) -> None:
    """Cheap checks before any work starts: the engine's package is importable, its input files parse,
    its program exists (each engine's :meth:`Engine.preflight`)."""
    REGISTRY[spec.name].preflight(spec)


for _m in pkgutil.iter_modules(__path__):  # every engine module registers its name
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
