"""Training-time augmentation: the build's chains on the fly (:class:`Augmenter`; with a ``behavior``, the
build's disfluencies from the utterance's word alignments: :mod:`.behavior`), and PyTorch adapters.

The torch parts (``AugmentTransform``, ``RenderedDataset``, ``collate``) need the ``torch`` extra and are
imported only when asked for.
"""

from .augmenter import Augmented, Augmenter

TORCH_NAMES = {"AugmentTransform": "synth.augment.torch", "RenderedDataset": "synth.augment.dataset",
               "collate": "synth.augment.dataset"}


def __getattr__(name: str):
    if name in TORCH_NAMES:
        import importlib
        return getattr(importlib.import_module(TORCH_NAMES[name]), name)
    raise AttributeError(f"module 'synth.augment' has no attribute {name!r}")


__all__ = ["Augmented", "Augmenter", *TORCH_NAMES]
