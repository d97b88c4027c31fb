"""Fixtures for channel tests: real speech from the shared corpus (read by path), a sampling context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from synth.audio import Audio, load

SPEECH = "speech/librispeech_2412/2412-153948-0000.flac"


@dataclass
class Ctx:
    """The parts of synth.context.ItemContext that channel effects read while sampling."""

    sr: int
    duration_s: float
    pools: Any = None
    item_id: str = "test-0"


@pytest.fixture(scope="session")
def speech16k(corpus_root) -> Audio:
    """11.7 s of real read speech (LibriSpeech 2412-153948-0000) at 16 kHz."""
    return Audio(load(corpus_root / SPEECH, 16000), 16000)


@pytest.fixture(scope="session")
def speech_short(speech16k) -> Audio:
    """The first 3 s of it (enough for contract tests, fast through every codec)."""
    return Audio(speech16k.samples[:48000], 16000)


def ctx_for(audio: Audio) -> Ctx:
    return Ctx(sr=audio.sr, duration_s=audio.duration_s)


@pytest.fixture(scope="session")
def make_ctx():
    """``make_ctx(audio)`` or ``make_ctx(sr=, duration_s=)``: a sampling context for that audio."""
    def make(audio: Audio | None = None, sr: int = 16000, duration_s: float = 1.0) -> Ctx:
        return ctx_for(audio) if audio is not None else Ctx(sr=sr, duration_s=duration_s)
    return make
