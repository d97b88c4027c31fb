"""synth: realistic-condition speech test sets and augmentation for ASR.

Every item synth writes is synthetic: a complement to real production audio, never a replacement.
"""

__version__ = "0.1.0"
