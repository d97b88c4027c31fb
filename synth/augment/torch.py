"""PyTorch transform: an :class:`Augmenter` as an ``nn.Module`` applied to batches (extra ``torch``).

``AugmentTransform(aug)(batch, sample_rate, keys=None, lengths=None)`` takes ``(B, T)`` or ``(B, C, T)``
float tensors and returns a tensor of the same shape, dtype and device. Each example gets its own draw
from ``(seed, epoch, key)``; pass your utterance ids as ``keys`` so an utterance is augmented the same way
wherever it lands. Without keys, example ``i`` of the ``k``-th call since :meth:`set_epoch` is keyed
``call{k}/{i}`` (with the epoch, that is the hash input), which repeats only if batches arrive in the same
order. ``lengths`` (samples per example) leaves the padding of a padded batch untouched. In ``eval()``
the transform is the identity. The conditions of the last batch are kept in ``last_conditions``.
"""

from __future__ import annotations

from typing import Sequence

from ..errors import BadInput
from ..extras import require
from .augmenter import Augmenter

torch = require("torch", "torch", "synth.augment.AugmentTransform")


class AugmentTransform(torch.nn.Module):
    """Per-example augmentation of a batch with the build's chain (CPU; the audio goes through numpy)."""

    def __init__(self, augmenter: Augmenter):
        super().__init__()
        self.augmenter = augmenter
        self.epoch = 0
        self.calls = 0
        self.last_conditions: list[dict] = []

    def set_epoch(self, epoch: int) -> None:
        """Draw another augmentation of every utterance (and restart the default key counter)."""
        self.epoch = int(epoch)
        self.calls = 0

    def forward(self, samples, sample_rate: int, keys: Sequence | None = None, lengths=None):
        if samples.dim() not in (2, 3):
            raise BadInput("AugmentTransform input", f"has shape {tuple(samples.shape)}", "pass (B, T) or (B, C, T)")
        batch = samples.shape[0]
        if keys is not None and len(keys) != batch:
            raise BadInput("AugmentTransform keys", f"has {len(keys)} keys for a batch of {batch}", "pass one key per example")
        if not self.training:
            self.last_conditions = [{"augmented": False} for _ in range(batch)]
            return samples
        keys = list(keys) if keys is not None else [f"call{self.calls}/{i}" for i in range(batch)]
        self.calls += 1
        x = samples.detach().to("cpu", torch.float32).numpy()
        n = [int(v) for v in lengths] if lengths is not None else [x.shape[-1]] * batch
        out = x.copy()
        self.last_conditions = []
        for b in range(batch):
            r = self.augmenter(x[b, ..., : n[b]], int(sample_rate), keys[b], self.epoch)
            out[b, ..., : n[b]] = r.samples
            self.last_conditions.append(r.conditions)
        return torch.from_numpy(out).to(device=samples.device, dtype=samples.dtype)

