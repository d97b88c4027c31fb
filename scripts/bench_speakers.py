"""Per-item cost of drawing speakers from a large pool with a metadata mix (``scenario.speakers.weights``).

A LibriSpeech-sized pool (2,400 speakers, 2 genders, 12 accents), one utterance each:

    python scripts/bench_speakers.py [--speakers 2400] [--items 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth.scene.speakers import sample_speakers  # noqa: E402
from synth.sources.speech import SpeechPool, Utterance  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speakers", type=int, default=2400)
    ap.add_argument("--items", type=int, default=300)
    a = ap.parse_args()
    pool = SpeechPool([Utterance(f"u{i}", Path(f"u{i}.flac"), f"u{i}.flac", f"spk{i:05d}", "text", 5.0,
                                 {"gender": "FM"[i % 2], "accent": f"accent{i % 12}"}) for i in range(a.speakers)])
    mixes = {"none": None, "gender": {"gender": {"F": 0.5, "M": 0.5}},
             "gender+accent": {"gender": {"F": 0.5, "M": 0.5}, "accent": {"accent1": 1.0, "accent2": 2.0}}}
    rng = np.random.default_rng(0)
    out = {}
    for name, weights in mixes.items():
        t = time.process_time()
        for _ in range(a.items):
            sample_speakers(rng, pool, 2, weights)
        out[name] = round((time.process_time() - t) / a.items * 1e3, 3)
    print(json.dumps({"speakers": a.speakers, "ms_per_item": out}, indent=2))


if __name__ == "__main__":
    main()
