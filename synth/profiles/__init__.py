"""Production profiles from real audio: estimators (estimate.py), VAD (vad.py), ``synth fit`` (fit.py) and
``synth compare`` (compare.py)."""
