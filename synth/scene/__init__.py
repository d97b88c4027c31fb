"""Scenarios: sampling who speaks when (no DSP). Each returns the ``talkers`` part of a recipe."""
