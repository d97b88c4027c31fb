"""Arrays as users hold them: every input to the Augmenter and the torch transform is answered within 2 s,
with a result in the caller's layout or one line saying what to pass; soundfile's (T, C) arrays of a real
stereo file are augmented channel by channel with one draw, not row by row."""

import threading
import time

import numpy as np
import pytest
import soundfile as sf
import torch

from synth.audio import load
from synth.augment import AugmentTransform, Augmenter
from synth.errors import SynthError

from helpers import CORPUS

LEFT = CORPUS / "speech/librispeech_2412/2412-153948-0000.flac"
RIGHT = CORPUS / "speech/librispeech_2412/2412-153948-0001.flac"
# room, noise, level, clipping, then a phone leg (band limit + AMR-NB): the costly chain, so a row-by-row
# reading of a (T, C) array would take minutes
CALL = [f"sources.root={CORPUS}", "room.pool_size=2", "channel=amr_nb_12k2", "level.clipping.p=1.0"]
LIMIT_S = 2.0


def answered(call, limit_s: float = LIMIT_S):
    """Run ``call`` under a watchdog: ("ok", result) or ("error", exception); fails past ``limit_s``."""
    box = {}

    def run():
        try:
            box["ok"] = call()
        except BaseException as e:  # noqa: BLE001 - reported below
            box["error"] = e

    t0 = time.perf_counter()
    worker = threading.Thread(target=run, daemon=True)  # a hung call cannot hold the test run
    worker.start()
    worker.join(limit_s)
    assert not worker.is_alive(), f"no answer within {limit_s} s"
    assert time.perf_counter() - t0 < limit_s
    return next(iter(box.items()))


def one_line_refusal(outcome, *words):
    kind, value = outcome
    assert kind == "error", f"expected a refusal, got a result {getattr(value, 'shape', value)}"
    assert isinstance(value, SynthError), f"{type(value).__name__}: {value}"  # not a raw numpy/torch error
    msg = str(value)
    assert "\n" not in msg and "pass" in msg, msg   # one line that says what to pass
    for w in words:
        assert w in msg, msg
    return msg


@pytest.fixture(scope="module")
def speech():
    return load(LEFT, 16000)[:16000]  # 1 s of read speech


@pytest.fixture(scope="module")
def aug(speech):
    a = Augmenter.from_config(CALL, seed=7)
    a(speech, 16000, "warm-up")  # codec and noise files opened before the clock runs
    return a


S = object()  # stands for the 1 s speech fixture in the tables below
# (name, samples, rate, words of the one-line refusal)
REFUSED = [
    ("nan", np.array([0.1, np.nan], np.float32), 16000, ["NaN"]),
    ("inf", np.array([0.1, -np.inf] * 50, np.float64), 16000, ["infinite"]),
    ("empty", np.zeros(0, np.float32), 16000, ["no samples"]),
    ("empty_channels", np.zeros((2, 0), np.float32), 16000, ["no samples"]),
    ("3d_batch", np.zeros((2, 2, 800), np.float32), 16000, ["3 dimensions", "AugmentTransform"]),
    ("0d", np.array(0.5, np.float32), 16000, ["0 dimensions"]),
    ("no_channel_axis", np.zeros((100, 200), np.float32), 16000, ["at most 32 channels", "x.T"]),
    ("ambiguous_tiny", np.zeros((20, 5), np.float32), 16000, ["channels of", "x.T"]),
    ("list", [0.0, 0.1, 0.2], 16000, ["np.asarray"]),
    ("str", "speech.wav", 16000, ["numpy array"]),
    ("none", None, 16000, ["is None"]),
    ("bool", np.ones(100, bool), 16000, ["dtype bool", "int16/int32"]),
    ("complex", np.ones(100, np.complex64), 16000, ["dtype complex64"]),
    ("int64", np.ones(100, np.int64), 16000, ["dtype int64"]),
    ("uint8", np.full(100, 128, np.uint8), 16000, ["dtype uint8"]),
    ("rate_too_low", S, 4000, ["4000 Hz", "8000 to 192000"]),
    ("rate_too_high", S, 384000, ["384000 Hz"]),
    ("rate_fraction", S, 16000.5, ["16000.5"]),
    ("rate_bool", S, True, ["True"]),
    ("rate_str", S, "16000", ["'16000'"]),
    ("rate_nan", S, float("nan"), ["nan"]),
    ("rate_none", S, None, ["None"]),
    ("meta_tensor", torch.empty(1600, device="meta"), 16000, ["meta"]),
]


@pytest.mark.parametrize("name,samples,rate,words", REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_inputs_to_the_augmenter_are_one_line_within_2_s(aug, speech, name, samples, rate, words):
    x = speech if samples is S else samples
    one_line_refusal(answered(lambda: aug(x, rate, "k", epoch=0)), *words)


def test_bad_epochs_keys_and_recipes_are_one_line(aug, speech):
    one_line_refusal(answered(lambda: aug(speech, 16000, "k", epoch=1.5)), "epoch")
    one_line_refusal(answered(lambda: aug(speech, 16000, "k", epoch=-1)), "epoch")
    one_line_refusal(answered(lambda: aug.apply(speech, {"sample_rate": 16000})), "recipe")
    one_line_refusal(answered(lambda: aug.apply(speech, "recipe.json")), "recipe")
    recipe = aug(speech, 16000, "k").recipe
    one_line_refusal(answered(lambda: aug.apply(speech, {**recipe, "sample_rate": 1000})), "1000 Hz")
    one_line_refusal(answered(lambda: aug.apply(speech[None, None], recipe)), "3 dimensions")


def test_accepted_formats_give_the_float_result_in_the_callers_layout(aug, speech):
    ref = aug(speech, 16000, "k").samples
    pcm16 = np.round(speech * 32767).astype(np.int16)
    cases = {
        "float64": (speech.astype(np.float64), ref),
        "int16": (pcm16, aug(pcm16 / 32768.0, 16000, "k").samples),
        "int32": (pcm16.astype(np.int32) << 16, aug(pcm16 / 32768.0, 16000, "k").samples),
        "cpu_tensor_with_grad": (torch.from_numpy(speech.copy()).requires_grad_(), ref),
        "(1, T)": (speech[None], ref[None]),
        "(T, 1)": (speech[:, None], ref[:, None]),
        "rate_as_float": (speech, ref),
    }
    for name, (x, want) in cases.items():
        kind, r = answered(lambda: aug(x, 16000.0 if name == "rate_as_float" else np.int64(16000), "k"))
        assert kind == "ok", (name, r)
        assert r.samples.dtype == np.float32 and r.samples.shape == np.shape(want), name
        assert np.array_equal(r.samples, want), name
    for n in (1, 2, 31):  # 1 sample to under 2 ms: the chain runs (codecs pad their last frame)
        kind, r = answered(lambda: aug(speech[:n], 16000, "short"))
        assert kind == "ok" and r.samples.shape == (n,) and np.isfinite(r.samples).all(), (n, r)
    for rate in (8000, 192000):  # the ends of the range a build accepts
        kind, r = answered(lambda: aug(speech[:8000], rate, "k"))
        assert kind == "ok" and r.samples.shape == (8000,) and r.sample_rate == rate


def test_a_stereo_file_read_by_soundfile_is_augmented_per_channel_with_one_draw(aug, tmp_path):
    """soundfile gives (T, 2) float64 (or int16): transposed in, one draw on both channels, (T, 2) out.
    Read row by row (the old behavior) this ran for minutes; every call here is bounded by a watchdog."""
    left, right = load(LEFT, 16000)[:48000], load(RIGHT, 16000)[:48000]
    path = tmp_path / "call.wav"
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="PCM_16")
    x, sr = sf.read(path)                       # (48000, 2) float64, as a user holds it
    assert x.shape == (48000, 2) and x.dtype == np.float64
    kind, r = answered(lambda: aug(x, sr, key="call-1", epoch=0))
    assert kind == "ok", r
    assert r.samples.shape == (48000, 2) and r.samples.dtype == np.float32 and r.sample_rate == sr
    for c in range(2):  # each column is that channel with the same draw the mono call gets
        kind, mono = answered(lambda: aug(x[:, c], sr, key="call-1", epoch=0))
        assert np.array_equal(r.samples[:, c], mono.samples), c
    assert np.max(np.abs(r.samples[:, 0] - r.samples[:, 1])) > 0.01       # two talkers, not one channel twice
    kind, channels_first = answered(lambda: aug(x.T, sr, key="call-1", epoch=0))
    assert np.array_equal(channels_first.samples, r.samples.T)             # (C, T) in, (C, T) out
    pcm, _ = sf.read(path, dtype="int16")
    kind, from_pcm = answered(lambda: aug(pcm, sr, key="call-1", epoch=0))  # soundfile's int16 scaling
    assert kind == "ok" and np.array_equal(from_pcm.samples, r.samples)


def test_more_channels_than_the_cap_are_refused_not_run_row_by_row(aug):
    many = np.zeros((40, 16000), np.float32)
    one_line_refusal(answered(lambda: aug(many, 16000, "k")), "at most 32 channels")
    one_line_refusal(answered(lambda: aug(many.T, 16000, "k")), "at most 32 channels")


# ----------------------------------------------------------------------------------------- the transform
@pytest.fixture(scope="module")
def transform(aug):
    return AugmentTransform(aug)


@pytest.fixture(scope="module")
def batch(speech):
    return torch.from_numpy(np.stack([speech, speech[::-1].copy()]))  # (2, 16000)


T_REFUSED = [
    ("numpy", lambda b: (b.numpy(),), ["torch.from_numpy"]),
    ("list", lambda b: (b.tolist(),), ["torch tensor"]),
    ("none", lambda b: (None,), ["is None"]),
    ("1d", lambda b: (b[0],), ["unsqueeze(0)"]),
    ("4d", lambda b: (b[None, None],), ["(B, C, T)"]),
    ("meta", lambda b: (torch.empty(2, 1600, device="meta"),), ["meta"]),
    ("bool", lambda b: (b > 0,), ["torch.bool"]),
    ("complex", lambda b: (b.to(torch.complex64),), ["complex64"]),
    ("int64", lambda b: ((b * 100).long(),), ["int64"]),
    ("nan", lambda b: (torch.tensor([[0.0, float("nan")] * 50] * 2),), ["input[0]", "NaN"]),
    ("rate_low", lambda b: (b, 1000), ["1000 Hz"]),
    ("rate_bool", lambda b: (b, False), ["False"]),
    ("keys_str", lambda b: (b, 16000, "ab"), ["one key per example"]),
    ("keys_short", lambda b: (b, 16000, ["a"]), ["one key per example"]),
    ("lengths_zero", lambda b: (b, 16000, None, [0, 5]), ["from 1 to 16000"]),
    ("lengths_long", lambda b: (b, 16000, None, [5, 99999]), ["99999"]),
    ("lengths_float", lambda b: (b, 16000, None, [5.5, 6]), ["5.5"]),
    ("no_channel_axis", lambda b: (torch.zeros(2, 40, 50),), ["input[0]", "at most 32 channels"]),
]


@pytest.mark.parametrize("name,args,words", T_REFUSED, ids=[c[0] for c in T_REFUSED])
def test_bad_inputs_to_the_transform_are_one_line_within_2_s(transform, batch, name, args, words):
    a = args(batch)
    one_line_refusal(answered(lambda: transform(*a)), *words)


def test_the_transform_keeps_shape_dtype_and_layout_and_defaults_to_the_working_rate(transform, aug, batch):
    kind, y = answered(lambda: transform(batch))  # the README's AugmentTransform(aug)(x): rate from the config
    assert kind == "ok", y
    assert y.shape == batch.shape and y.dtype == batch.dtype and not torch.equal(y, batch)
    keys = ["a", "b"]
    ref = transform(batch, 16000, keys)
    pcm = (batch * 32767).round().to(torch.int16)
    kind, y16 = answered(lambda: transform(pcm, keys=keys))
    assert kind == "ok" and y16.dtype == torch.int16 and y16.shape == pcm.shape
    want = torch.from_numpy(np.stack([aug(pcm[b].numpy(), 16000, k).samples for b, k in enumerate(keys)]))
    assert torch.equal(y16, (want.double() * 32768).round().clamp(-32768, 32767).to(torch.int16))
    for dtype in (torch.float16, torch.bfloat16, torch.float64):
        kind, y = answered(lambda: transform(batch.to(dtype), keys=keys))
        assert kind == "ok" and y.dtype == dtype and y.shape == batch.shape
    stereo = torch.stack([batch, batch.flip(-1)], dim=1)        # (B, C, T)
    kind, y_ct = answered(lambda: transform(stereo, keys=keys))
    kind, y_tc = answered(lambda: transform(stereo.transpose(1, 2), keys=keys))   # (B, T, C): soundfile-like
    assert y_tc.shape == (2, 16000, 2) and torch.equal(y_tc.transpose(1, 2), y_ct)
    assert torch.equal(y_ct[:, 0], ref)
