"""``asr=pocketsphinx``: CMU PocketSphinx, offline, with the US-English models shipped in its wheel."""

from __future__ import annotations

from pathlib import Path

from ...audio import load
from ...errors import ConfigError
from . import Engine, EngineSpec, register
from ._audio import pcm16


@register("pocketsphinx")
class PocketSphinxEngine(Engine):
    """CMU PocketSphinx with the US-English acoustic model, LM and dictionary shipped in its wheel.

    Fed 16 kHz mono int16. Feature state (cepstral mean) is reset before every item so a hypothesis
    never depends on which items the same decoder saw before (i.e. on worker count or order)."""

    package = ("pocketsphinx", "pip install pocketsphinx")

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
        d.process_raw(pcm16(x).tobytes(), full_utt=True)
        d.end_utt()
        h = d.hyp()
        return {"text": h.hypstr if h else ""}

    @classmethod
    def key_extras(cls, spec: EngineSpec) -> dict:
        import pocketsphinx

        return {"version": getattr(pocketsphinx, "__version__", "?")}
