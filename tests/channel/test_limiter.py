"""Peak limiter: real read speech driven to -14 dBov (its peaks well above full scale) comes out with no sample
above the ceiling and its active level almost unchanged; speech below the ceiling passes bit for bit."""

from __future__ import annotations

import numpy as np

from synth.audio import Audio, active_speech_level
from synth.channel.base import build_effect
from synth.profiles.apply import overrides_from_fitted


def _limit(x: np.ndarray, sr: int, **cfg) -> np.ndarray:
    e = build_effect({"name": "limiter", **cfg})
    return e.apply(Audio(x.astype(np.float32), sr), e.sample(np.random.default_rng(0), None)).samples


def test_loud_speech_stays_below_the_ceiling(speech16k):
    x = speech16k.samples * np.float32(10 ** ((-14 - active_speech_level(speech16k.samples, 16000).level_dbov) / 20))
    assert np.abs(x).max() > 1.5                                 # would clip hard at the converter
    for ceiling in (-1.0, -6.0):
        y = _limit(x, 16000, ceiling_dbfs=ceiling)
        assert np.abs(y).max() <= 10 ** (ceiling / 20) * (1 + 1e-6)
        assert len(y) == len(x)
    y = _limit(x, 16000)
    drop = active_speech_level(x, 16000).level_dbov - active_speech_level(y, 16000).level_dbov
    assert 0.0 <= drop < 2.0                                     # only the peaks were turned down
    quiet = x[: 16000] * np.float32(0.01)
    np.testing.assert_array_equal(_limit(quiet, 16000), quiet)   # below the ceiling: untouched


def test_fitted_profile_limits_only_when_no_recording_clipped():
    steps = lambda f: [s["name"] for s in overrides_from_fitted(f, "p")["channel"]["recorder"]]  # noqa: E731
    base = {"level_dbov": {"normal": [-26, 3]}, "codec_family": {"choice": ["G.711 mu-law"], "weights": [1.0]}}
    assert steps({**base, "clipping": {"p": 0.0}}) == ["calibrate_level", "limiter", "codec"]
    assert "limiter" not in steps({**base, "clipping": {"p": 0.2, "fraction": None}})
    assert "limiter" not in steps(base)                          # not measured: nothing assumed
