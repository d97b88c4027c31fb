"""Every conf/channel option builds, samples and renders its leg chains on real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from synth.audio import Audio
from synth.channel.base import build_effect

CONF = Path(__file__).resolve().parents[2] / "conf" / "channel"
OPTIONS = sorted(p.stem for p in CONF.glob("*.yaml"))
EXPECTED_SR = {"car_handsfree": (8000, 16000),  # Bluetooth HFP: narrowband or wideband per call
               "clean": 16000, "g722": 16000, "voip_wideband": 16000}
REQUIRED = {"clean", "g711_ulaw", "g711_alaw", "g722", "gsm_fr", "amr_nb_12k2", "amr_nb_4k75", "opus_nb_8k",
            "mp3_16k", "transcode_3hop", "call_center"}


def test_required_options_exist():
    assert REQUIRED <= set(OPTIONS)


@pytest.mark.parametrize("option", OPTIONS)
def test_option_builds_and_renders(option, speech_short, make_ctx):
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / f"{option}.yaml"), resolve=True)
    assert cfg["name"] == option and cfg["legs"]
    for i, leg in enumerate(cfg["legs"]):
        a = speech_short
        for seed, spec in enumerate(leg["chain"]):
            e = build_effect(dict(spec))
            p = e.sample(np.random.default_rng(100 * i + seed), make_ctx(speech_short))
            a = e.apply(a, p)
        assert isinstance(a, Audio) and a.samples.dtype == np.float32
        expected = EXPECTED_SR.get(option, 8000)
        assert a.sr in (expected if isinstance(expected, tuple) else (expected,)), (option, leg["name"], a.sr)
        assert abs(a.duration_s - speech_short.duration_s) <= 1 / a.sr


def test_call_center_has_distinct_agent_and_customer_legs():
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / "call_center.yaml"))
    names = [leg["name"] for leg in cfg["legs"]]
    assert names == ["agent", "customer"]
    agent, customer = (leg["chain"] for leg in cfg["legs"])
    assert agent != customer
    for chain in (agent, customer):
        kinds = [s["name"] for s in chain]
        assert kinds.index("device") < kinds.index("bandlimit") < kinds.index("codec") < kinds.index("packet_loss")
