"""Pools of real inputs: speech utterances (with transcripts and speaker metadata), noise and RIR files."""

from .pools import Pools, build_pools  # noqa: F401
