"""Word alignments for transcribed corpora (pocketsphinx forced alignment), checked for plausibility, and a
bank of real filler tokens cut at the aligned boundaries. ``synth align``: :mod:`synth.align.cli`."""
