"""PyTorch transform: an :class:`Augmenter` as an ``nn.Module`` applied to batches (extra ``torch``)."""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

from ..errors import BadInput, ConfigError
from ..extras import require
from .augmenter import Augmenter
from .inputs import MAX_CHANNELS, PCM_SCALE, check_rate, is_tensor

torch = require("torch", "torch", "synth.augment.AugmentTransform")

NAME = "AugmentTransform input"
FORMATS = "float tensors or int16/int32 PCM"


class AugmentTransform(torch.nn.Module):
    """Per-example augmentation of a batch with the build's chain (CPU; the audio goes through numpy).

    ``AugmentTransform(aug)(batch, sample_rate=None, keys=None, lengths=None)`` takes a ``(B, T)`` or
    ``(B, C, T)`` tensor (``(B, T, C)`` with ``C <= 32 < T`` is taken as soundfile's layout, as the Augmenter
    does) and returns a tensor of the same shape, dtype and device: float tensors stay float, int16/int32 PCM
    is scaled to [-1, 1) for the chain and rounded back to PCM (clipped at full scale). ``sample_rate``
    defaults to the transform's (``AugmentTransform(aug, sample_rate=...)``), which defaults to the config's
    working rate (``sample_rate``, 16000). Each example gets its own draw from ``(seed, epoch, key)``; pass
    your utterance ids as ``keys`` so an utterance is augmented the same way wherever it lands. Without keys,
    example ``i`` of the ``k``-th call since :meth:`set_epoch` is keyed ``call{k}/{i}`` (with the epoch, that
    is the hash input), which repeats only if batches arrive in the same order. ``lengths`` (samples per
    example) leaves the padding of a padded batch untouched. In ``eval()`` the transform is the identity. The
    conditions of the last batch are kept in ``last_conditions``. Anything else is refused in one line.

    An Augmenter with a ``behavior`` is refused when the transform is made: disfluencies make an utterance
    longer, which a transform returning the batch's shape cannot give back, and they need each utterance's
    word alignments, which a batch does not carry. Skipping them in every example would leave a configured
    stage silently doing nothing; add disfluencies per utterance (``aug(x, sr, key, words=...)`` in your
    Dataset, before batching) and give the transform an Augmenter with ``behavior=none``.
    """

    def __init__(self, augmenter: Augmenter, sample_rate: int | None = None):
        super().__init__()
        if augmenter.plan.behavior is not None:
            raise ConfigError(f"behavior={augmenter.plan.behavior.name}: AugmentTransform keeps each example's shape "
                              "and has no word alignments, which disfluencies need; add them per utterance with "
                              "aug(x, sr, key, words=...) before batching, and pass behavior=none to the transform's "
                              "Augmenter")
        self.augmenter = augmenter
        self.sample_rate = check_rate(augmenter.plan.sr if sample_rate is None else sample_rate,
                                      "AugmentTransform sample_rate")
        self.epoch = 0
        self.calls = 0
        self.last_conditions: list[dict] = []

    def set_epoch(self, epoch: int) -> None:
        """Draw another augmentation of every utterance (and restart the default key counter)."""
        self.epoch = int(epoch)
        self.calls = 0

    def forward(self, samples, sample_rate: int | None = None, keys: Sequence | None = None, lengths=None):
        if not is_tensor(samples):
            raise BadInput(NAME, "is None" if samples is None else f"is a {type(samples).__name__}",
                           "pass a (B, T) or (B, C, T) torch tensor (torch.from_numpy(x)); the Augmenter takes numpy")
        if samples.device.type == "meta":
            raise BadInput(NAME, "is a tensor on device 'meta', which holds no samples", "pass a tensor with data")
        if samples.dim() not in (2, 3):
            raise BadInput(NAME, f"has shape {tuple(samples.shape)}",
                           "pass (B, T) or (B, C, T); a single utterance as x.unsqueeze(0)")
        is_pcm = samples.dtype in (torch.int16, torch.int32)
        if not (samples.dtype.is_floating_point or is_pcm):
            raise BadInput(NAME, f"has dtype {samples.dtype}", f"pass {FORMATS}")
        rate = self.sample_rate if sample_rate is None else check_rate(sample_rate, "AugmentTransform sample_rate")
        batch = samples.shape[0]
        if keys is not None and (isinstance(keys, (str, bytes)) or not hasattr(keys, "__len__") or len(keys) != batch):
            raise BadInput("AugmentTransform keys", f"is {keys!r:.60} for a batch of {batch}",
                           "pass a list with one key per example")
        channels_last = samples.dim() == 3 and samples.shape[2] <= MAX_CHANNELS < samples.shape[1]
        n_time = samples.shape[1 if channels_last else -1]
        n = self._lengths(lengths, batch, n_time)
        if not self.training or batch == 0:
            self.last_conditions = [{"augmented": False} for _ in range(batch)]
            return samples
        keys = list(keys) if keys is not None else [f"call{self.calls}/{i}" for i in range(batch)]
        self.calls += 1
        x = samples.detach().to("cpu")
        x = x.transpose(1, 2) if channels_last else x
        x = (x.float() if x.dtype.is_floating_point else x).numpy()  # float16/bfloat16/float64 -> float32
        out = x.copy()
        self.last_conditions = []
        for b in range(batch):
            try:
                r = self.augmenter(x[b, ..., : n[b]], rate, keys[b], self.epoch)  # int PCM is scaled in there
            except BadInput as e:  # name the example
                raise BadInput(f"{NAME}[{b}]", e.problem, e.fix) from None
            y = r.samples
            if is_pcm:  # back to PCM, as soundfile writes it: rounded, clipped at full scale
                scale = 1.0 / PCM_SCALE[np.dtype(out.dtype)]
                info = np.iinfo(out.dtype)
                y = np.clip(np.round(y.astype(np.float64) * scale), info.min, info.max)
            out[b, ..., : n[b]] = y
            self.last_conditions.append(r.conditions)
        y = torch.from_numpy(out)
        y = y.transpose(1, 2).contiguous() if channels_last else y
        return y.to(device=samples.device, dtype=samples.dtype)

    @staticmethod
    def _lengths(lengths, batch: int, n_time: int) -> list[int]:
        """Valid samples per example: whole numbers from 1 to T, one per example (default: all T)."""
        if lengths is None:
            return [n_time] * batch
        if is_tensor(lengths):
            lengths = lengths.tolist()
        fix = f"pass one length per example, each from 1 to {n_time} samples"
        if isinstance(lengths, (str, bytes)) or not hasattr(lengths, "__len__") or len(lengths) != batch:
            raise BadInput("AugmentTransform lengths", f"is {lengths!r:.60} for a batch of {batch}", fix)
        bad = [v for v in lengths if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 1 <= v <= n_time]
        if bad:
            raise BadInput("AugmentTransform lengths", f"has {bad[0]!r} for examples of {n_time} samples", fix)
        return [int(v) for v in lengths]
