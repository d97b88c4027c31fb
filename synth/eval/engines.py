"""ASR engines behind one small interface: ``engine.transcribe(audio_path, item) -> hypothesis dict``.

A hypothesis is ``{"text": str}``, optionally with ``"speakers": {label: text}`` (per-speaker streams,
scored with cpWER) and ``"segments": [{"speaker", "start", "end", "text"}]`` (scored with DER).

Engines are built from a plain :class:`EngineSpec` (so each worker process can build its own copy), and
``engine_key(spec)`` names the cache folder: the engine name plus a hash of every setting that can change
its output, so changing the model or command never reuses stale hypotheses.

Audio handed to an engine: the set's file is decoded with :func:`synth.audio.load` (any rate, mono or
stereo -> downmixed mono at the rate the engine needs). ``command`` gets the original file path unless
``sample_rate`` is set (then a temporary 16-bit mono WAV at that rate); ``openai_compatible`` uploads a
16-bit mono WAV at ``sample_rate`` (16 kHz by default; 0 = upload the original file unchanged).

Nothing leaves the machine except what ``openai_compatible`` POSTs to the URL the user gave (meant for
a self-hosted server).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import load, text_lines
from ..errors import BadInput, ConfigError, SynthError
from ..stops import signals_deferred

ENGINES = ("pocketsphinx", "faster_whisper", "command", "openai_compatible", "hypotheses")


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
        if self.name not in ENGINES:
            raise ConfigError(f"asr={self.name!r} is not an engine; use one of {', '.join(ENGINES)}")
        need = {"command": "command", "openai_compatible": "url", "hypotheses": "hypotheses",
                "faster_whisper": "model"}
        key = need.get(self.name)
        if key and not getattr(self, key):
            raise ConfigError(f"asr={self.name} needs asr.{key}=...")
        if self.cpu_threads < 0 or self.num_workers < 1:
            raise ConfigError(f"asr.cpu_threads={self.cpu_threads} / asr.num_workers={self.num_workers}: "
                              "use cpu_threads >= 0 (0 = default) and num_workers >= 1")


def engine_key(spec: EngineSpec) -> str:
    """Cache folder name, e.g. ``pocketsphinx-3fa2c1d0``; covers all output-relevant settings."""
    relevant = asdict(spec)
    relevant.pop("timeout_s")
    relevant.pop("api_key_env")
    if spec.name == "hypotheses":
        p = Path(spec.hypotheses)
        relevant["hypotheses_sha"] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
    if spec.name == "pocketsphinx":
        import pocketsphinx
        relevant["version"] = getattr(pocketsphinx, "__version__", "?")
    h = hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{spec.name}-{h}"


def _pcm16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype(np.int16)


def _wav_bytes(x: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    with signals_deferred():  # libsndfile calls back into Python for an in-memory file
        sf.write(buf, _pcm16(x), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


class Engine:
    """Base: ``transcribe(audio_path, item)`` returns a hypothesis dict."""

    def __init__(self, spec: EngineSpec):
        self.spec = spec

    def transcribe(self, audio_path: Path, item: dict) -> dict:  # pragma: no cover - interface
        raise NotImplementedError


class PocketSphinxEngine(Engine):
    """CMU PocketSphinx with the US-English acoustic model, LM and dictionary shipped in its wheel.

    Fed 16 kHz mono int16. Feature state (cepstral mean) is reset before every item so a hypothesis
    never depends on which items the same decoder saw before (i.e. on worker count or order)."""

    def __init__(self, spec: EngineSpec):
        super().__init__(spec)
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise ConfigError("asr=pocketsphinx needs the pocketsphinx package: pip install pocketsphinx") from None
        self.decoder = Decoder(loglevel="FATAL")

    def transcribe(self, audio_path: Path, item: dict) -> dict:
        x = load(audio_path, 16000)
        d = self.decoder
        d.reinit_feat()
        d.start_utt()
        d.process_raw(_pcm16(x).tobytes(), full_utt=True)
        d.end_utt()
        h = d.hyp()
        return {"text": h.hypstr if h else ""}


class FasterWhisperEngine(Engine):
    """A CTranslate2 Whisper model (faster-whisper) by name or local folder, on CPU by default.

    Decoding is deterministic, also for long items: temperature 0 only (no fallback to sampling at higher
    temperatures when a window's compression ratio or log-probability looks bad) with a fixed beam, so
    repeated runs on identical audio give the same hypothesis."""

    def __init__(self, spec: EngineSpec):
        super().__init__(spec)
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise ConfigError("asr=faster_whisper needs faster-whisper: pip install 'synth[whisper]'") from None
        try:
            self.model = WhisperModel(spec.model, device=spec.device, compute_type=spec.compute_type,
                                      cpu_threads=spec.cpu_threads, num_workers=spec.num_workers)
        except Exception as e:
            raise ConfigError(f"asr.model={spec.model!r} could not be loaded by faster-whisper "
                              f"({str(e).splitlines()[0] if str(e) else type(e).__name__}); give a local model folder"
                              ) from None

    def transcribe(self, audio_path: Path, item: dict) -> dict:
        x = load(audio_path, 16000)
        segments, _info = self.model.transcribe(
            x, language=self.spec.language, beam_size=self.spec.beam_size, vad_filter=self.spec.vad_filter,
            condition_on_previous_text=self.spec.condition_on_previous_text, temperature=0.0)
        return {"text": " ".join(s.text.strip() for s in segments).strip()}


class _MaybeConverted:
    """Context manager yielding the path to give an external engine: the original, or a temp WAV."""

    def __init__(self, path: Path, sr: int | None):
        self.path, self.sr, self.tmp = Path(path), sr, None

    def __enter__(self) -> Path:
        if not self.sr:
            return self.path
        fd, name = tempfile.mkstemp(suffix=".wav", prefix="synth-eval-")
        os.close(fd)
        self.tmp = Path(name)
        self.tmp.write_bytes(_wav_bytes(load(self.path, self.sr), self.sr))
        return self.tmp

    def __exit__(self, *exc):
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


class CommandEngine(Engine):
    """Any program that takes an audio path and prints the transcript on stdout.

    ``command`` is split with shlex (no shell is involved) and ``{audio}`` in any argument is replaced by
    the path, e.g. ``asr.command="python my_asr.py --in {audio}"``. A non-zero exit is an error naming
    the command and the last line of its stderr."""

    def __init__(self, spec: EngineSpec):
        super().__init__(spec)
        self.argv = shlex.split(spec.command)
        if not self.argv:
            raise ConfigError("asr.command is empty; give a program and {audio}, e.g. asr.command=\"my_asr {audio}\"")
        if not any("{audio}" in a for a in self.argv):
            raise ConfigError(f"asr.command={spec.command!r} has no {{audio}} placeholder for the audio path")

    def transcribe(self, audio_path: Path, item: dict) -> dict:
        with _MaybeConverted(audio_path, self.spec.sample_rate) as p:
            argv = [a.replace("{audio}", str(p)) for a in self.argv]
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=self.spec.timeout_s,
                                   stdin=subprocess.DEVNULL)
            except FileNotFoundError:
                raise ConfigError(f"asr.command: program {argv[0]!r} not found; give its full path") from None
            except subprocess.TimeoutExpired:
                raise SynthError(f"asr.command timed out after {self.spec.timeout_s} s on {audio_path}; "
                                 "raise asr.timeout_s") from None
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            raise SynthError(f"asr.command exited {r.returncode} on {audio_path}: {last}")
        return {"text": " ".join(r.stdout.split())}


def _multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes, ctype: str):
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class OpenAICompatibleEngine(Engine):
    """A self-hosted server implementing OpenAI's ``POST /v1/audio/transcriptions`` (multipart form:
    ``file``, ``model``, ``language``, ``response_format=json``); reads ``text`` from the JSON reply.
    Uses urllib only. Per-speaker ``speakers``/``segments`` in the reply are passed through."""

    def transcribe(self, audio_path: Path, item: dict) -> dict:
        s = self.spec
        sr = 16000 if s.sample_rate is None else s.sample_rate
        if sr:
            data, name, ctype = _wav_bytes(load(audio_path, sr), sr), Path(audio_path).stem + ".wav", "audio/wav"
        else:
            data, name = Path(audio_path).read_bytes(), Path(audio_path).name
            ctype = {"flac": "audio/flac", "wav": "audio/wav"}.get(name.rsplit(".", 1)[-1], "application/octet-stream")
        fields = {"model": s.model or "default", "response_format": "json"}
        if s.language:
            fields["language"] = s.language
        fields.update({str(k): str(v) for k, v in (s.extra or {}).items()})
        body, content_type = _multipart(fields, "file", name, data, ctype)
        req = urllib.request.Request(s.url, data=body, method="POST", headers={"Content-Type": content_type})
        if s.api_key_env and os.environ.get(s.api_key_env):
            req.add_header("Authorization", f"Bearer {os.environ[s.api_key_env]}")
        try:
            with urllib.request.urlopen(req, timeout=s.timeout_s) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as e:
            raise SynthError(f"asr.url={s.url} answered HTTP {e.code} for {audio_path}: "
                             f"{e.read()[:200].decode('utf-8', 'replace').strip()}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise SynthError(f"asr.url={s.url} not reachable ({reason}); is the server running?") from None
        try:
            out = json.loads(payload)
            text = out["text"]
        except (ValueError, KeyError, TypeError):
            raise SynthError(f"asr.url={s.url} did not return JSON with a 'text' field for {audio_path}") from None
        hyp = {"text": str(text).strip()}
        for k in ("speakers", "segments"):
            if out.get(k):
                hyp[k] = out[k]
        return hyp


class HypothesesEngine(Engine):
    """Hypotheses produced elsewhere (e.g. by the production ASR): a JSONL of ``{"id", "text"}`` lines,
    optionally with ``speakers`` and ``segments``. An item without a line is an error."""

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


_CLASSES = {"pocketsphinx": PocketSphinxEngine, "faster_whisper": FasterWhisperEngine, "command": CommandEngine,
            "openai_compatible": OpenAICompatibleEngine, "hypotheses": HypothesesEngine}


def build_engine(spec: EngineSpec) -> Engine:
    return _CLASSES[spec.name](spec)


def preflight(spec: EngineSpec) -> None:
    """Cheap checks before any work starts (so a pool never starts just to fail): the engine's package
    is importable, the hypotheses file parses, the command's program exists."""
    import importlib.util
    import shutil

    pkg = {"pocketsphinx": ("pocketsphinx", "pip install pocketsphinx"),
           "faster_whisper": ("faster_whisper", "pip install 'synth[whisper]'")}.get(spec.name)
    if pkg and importlib.util.find_spec(pkg[0]) is None:
        raise ConfigError(f"asr={spec.name} needs the {pkg[0]} package: {pkg[1]}")
    if spec.name in ("hypotheses", "command"):
        eng = build_engine(spec)
        if spec.name == "command":
            prog = eng.argv[0]
            if shutil.which(prog) is None and not Path(prog).is_file():
                raise ConfigError(f"asr.command: program {prog!r} not found; give its full path")
