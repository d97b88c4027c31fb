"""Pools of real inputs: speech utterances (with transcripts and speaker metadata), noise and RIR files
(:mod:`synth.sources.pools`)."""
