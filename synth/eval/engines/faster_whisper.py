"""``asr=faster_whisper``: a CTranslate2 Whisper model (faster-whisper), decoded deterministically."""

from __future__ import annotations

from pathlib import Path

from ...audio import load
from ...errors import ConfigError
from . import Engine, EngineSpec, register


@register("faster_whisper")
class FasterWhisperEngine(Engine):
    """A CTranslate2 Whisper model (faster-whisper) by name or local folder, on CPU by default.

    Decoding is deterministic, also for long items: temperature 0 only (no fallback to sampling at higher
    temperatures when a window's compression ratio or log-probability looks bad) with a fixed beam, so
    repeated runs on identical audio give the same hypothesis."""

    needs = "model"
    package = ("faster_whisper", "pip install 'synth[whisper]'")

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
