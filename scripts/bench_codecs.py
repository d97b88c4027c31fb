"""Real-time factor of each codec and of a full call-center channel chain.

RTF here = seconds of audio processed per second of CPU time (process_time, one core), so higher is
faster. Input: 60 s of real speech (a LibriSpeech utterance from the shared corpus, repeated) at 16 kHz.
Sampling (which measures each codec's delay once) is excluded; only ``apply`` is timed, best of 3.

    python scripts/bench_codecs.py [--corpus ../shared/corpus] [--seconds 60]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.audio import Audio, load
from synth.channel.base import build_effect

CODECS = [
    ("g711_ulaw", {"codec": "g711_ulaw"}), ("g711_alaw", {"codec": "g711_alaw"}), ("g722", {"codec": "g722"}),
    ("g726 32k", {"codec": "g726", "bitrate_bps": 32000}), ("gsm_fr", {"codec": "gsm_fr"}),
    ("amr_nb 12.2k", {"codec": "amr_nb", "bitrate_bps": 12200}), ("amr_nb 4.75k", {"codec": "amr_nb", "bitrate_bps": 4750}),
    ("opus nb 8k", {"codec": "opus", "bitrate_bps": 8000}),
    ("opus wb 24k", {"codec": "opus", "bitrate_bps": 24000, "bandwidth": "wideband"}),
    ("mp3 16k @8kHz", {"codec": "mp3", "bitrate_bps": 16000}), ("aac 32k @16kHz", {"codec": "aac"}),
]
CALL_CENTER = [
    {"name": "device", "device": "handset"},
    {"name": "agc"},
    {"name": "clipping", "mode": "soft", "drive_db": 3.0, "threshold": 0.9},
    {"name": "bandlimit", "band": "narrowband"},
    {"name": "codec", "codec": "amr_nb", "bitrate_bps": 12200},
    {"name": "codec", "codec": "g711_ulaw"},
    {"name": "packet_loss", "model": "gilbert_elliott", "loss_rate": 0.02, "mean_burst_frames": 2, "concealment": "plc"},
    {"name": "codec", "codec": "mp3", "bitrate_bps": 16000},
]


@dataclass
class Ctx:
    sr: int
    duration_s: float
    pools: object = None


def run_chain(specs: list[dict], audio: Audio) -> float:
    effects = [build_effect(s) for s in specs]
    ctx = Ctx(audio.sr, audio.duration_s)
    params = [e.sample(np.random.default_rng(0), ctx) for e in effects]
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        a = audio
        for e, p in zip(effects, params):
            a = e.apply(a, p)
        best = min(best, time.process_time() - t0)
    return audio.duration_s / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"))
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    x = load(Path(args.corpus) / "speech/librispeech_2412/2412-153948-0000.flac", 16000)
    n = int(args.seconds * 16000)
    audio = Audio(np.tile(x, -(-n // len(x)))[:n], 16000)
    print(f"{'stage':<34}{'RTF (audio s / CPU s)':>22}")
    for label, spec in CODECS:
        print(f"{'codec ' + label:<34}{run_chain([{'name': 'codec', **spec}], audio):>22.0f}")
    print(f"{'packet_loss opus native PLC 12k':<34}"
          f"{run_chain([{'name': 'packet_loss', 'loss_rate': 0.05, 'concealment': 'codec', 'codec': 'opus', 'bitrate_bps': 12000}], audio):>22.0f}")
    print(f"{'packet_loss G.711 App.I PLC @8k':<34}"
          f"{run_chain([{'name': 'bandlimit'}, {'name': 'packet_loss', 'loss_rate': 0.05}], audio):>22.0f}")
    print(f"{'call center chain (8 stages)':<34}{run_chain(CALL_CENTER, audio):>22.0f}")
    print("chain: " + " -> ".join(s.get("codec", s["name"]) for s in CALL_CENTER))


if __name__ == "__main__":
    main()
