"""Benchmark: synth's Augmenter against an audiomentations Compose doing the closest chain, on the same
corpus utterances, in CPU seconds (``time.process_time``); plus phone-call chains and a DataLoader figure.

    python scripts/bench_augment.py [--corpus ../shared/corpus] [--n 24] [--repeats 3]

Chains (the same order on both sides: room, noise, clipping, codec):

* ``comparable, MP3 LAME q7`` / ``q3``: measured RIRs (the corpus's rir/ files) + recorded noise (its
  noise/ files) at 0-20 dB SNR + clipping + MP3 16 kbit/s at 16 kHz, both sides at the same LAME quality
  (-q): 7, audiomentations' default, and 3, LAME's own default (synth's codec effect with no
  ``lame_quality``). audiomentations: ApplyImpulseResponse + AddBackgroundNoise + ClippingDistortion +
  Mp3Compression (fast-mp3-augment, its default backend: LAME 3.100 + minimp3); synth: FFmpeg's
  libmp3lame (LAME 3.100) + mp3float through PyAV. Both keep each utterance's own level
  (``level.speech_dbov=null``); synth measures the SNR against the P.56 active speech level (audiomentations:
  plain RMS). At equal quality synth's MP3 stage
  costs ~2.5x fast-mp3-augment's: the LAME 3.100 bundled in PyAV's wheels, called directly, encodes ~2x
  slower than fast-mp3-augment's build of the same LAME encodes and decodes (FFmpeg adds ~3 ms per 5 s);
* ``comparable, no codec``: the same without the MP3 stage; ``+ P.56 level`` adds synth's default talker
  level (P.56 active speech level drawn from N(-26, 5) dBov) before the room and noise;
* ``call G.711`` / ``call AMR-NB``: synth only (audiomentations has no telephone codecs): the room and
  noise above, G.712 band limit to 8 kHz, G.711 mu-law or AMR-NB 12.2 kbit/s, back to 16 kHz.

Each chain runs one untimed warm-up pass (files into the caches), then ``--repeats`` timed passes with a new
epoch (another draw) each. Needs the torch extra and audiomentations + fast-mp3-augment.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import warnings

import numpy as np

from synth.audio import load
from synth.augment import Augmenter

SR = 16000
ROOM_NOISE_CLIP = ["room=measured", "noise=recorded", "noise.snr_db=[0.0,20.0]", "level.clipping.p=1.0",
                   "level.clipping.mode=hard"]
# as in the audiomentations chain, each utterance keeps its own level (synth's default first sets a P.56
# active speech level; the "+ P.56 level" row shows what that costs)
KEEP_LEVEL = "level.speech_dbov=null"
MP3_16K = ("channel.legs=[{{name:mono,chain:[{{name:codec,codec:mp3,bitrate_bps:16000,sample_rate_hz:16000,"
           "lame_quality:{q}}}]}}]")
NO_CODEC = "channel.legs=[{name:mono,chain:[]}]"


def utterances(corpus: Path, n: int) -> list[np.ndarray]:
    rows = [json.loads(l) for l in (corpus / "manifest.jsonl").read_text().splitlines() if l.strip()]
    paths = [corpus / r["path"] for r in rows if r.get("kind") == "speech"]
    return [load(p, SR) for p in sorted(paths)[:n]]


def cpu_rate(fn, utts: list[np.ndarray], repeats: int) -> tuple[float, float]:
    """(utterances per CPU-second, audio seconds per CPU-second) over ``repeats`` passes after a warm-up."""
    for k, x in enumerate(utts):
        fn(x, k, 0)
    t = time.process_time()
    for epoch in range(1, repeats + 1):
        for k, x in enumerate(utts):
            fn(x, k, epoch)
    cpu = time.process_time() - t
    return repeats * len(utts) / cpu, repeats * sum(len(x) for x in utts) / SR / cpu


def audiomentations_chain(corpus: Path, codec: bool, mp3_quality: int = 7):
    from audiomentations import (AddBackgroundNoise, ApplyImpulseResponse, ClippingDistortion, Compose,
                                 Mp3Compression)
    steps = [ApplyImpulseResponse(ir_path=str(corpus / "rir"), p=1.0),
             AddBackgroundNoise(sounds_path=str(corpus / "noise"), min_snr_db=0.0, max_snr_db=20.0, p=1.0),
             ClippingDistortion(min_percentile_threshold=0, max_percentile_threshold=10, p=1.0)]
    if codec:
        steps.append(Mp3Compression(min_bitrate=16, max_bitrate=16, quality=mp3_quality, p=1.0))
    chain = Compose(steps)
    return lambda x, k, epoch: chain(samples=x, sample_rate=SR)


def synth_chain(corpus: Path, extra: list[str], keep_level: bool = True):
    aug = Augmenter.from_config([f"sources.root={corpus}", *ROOM_NOISE_CLIP, *([KEEP_LEVEL] if keep_level else []),
                                 *extra])
    return lambda x, k, epoch: aug(x, SR, f"utt{k}", epoch).samples


def dataloader_rate(corpus: Path, utts: list[np.ndarray], workers: int, repeats: int) -> float:
    """Utterances per wall-clock second through one DataLoader pass (``repeats`` x the utterances, worker
    start-up included) whose workers run the G.711 call chain."""
    import torch

    aug = Augmenter.from_config([f"sources.root={corpus}", *ROOM_NOISE_CLIP, "channel=g711_ulaw"])

    class Utterances(torch.utils.data.Dataset):
        def __len__(self):
            return repeats * len(utts)

        def __getitem__(self, i):
            return torch.from_numpy(aug(utts[i % len(utts)], SR, f"utt{i}", 0).samples)

    t = time.perf_counter()
    n = sum(1 for _ in torch.utils.data.DataLoader(Utterances(), batch_size=None, num_workers=workers))
    return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"))
    ap.add_argument("--n", type=int, default=24, help="utterances")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*had to be resampled")  # audiomentations, once per RIR file
    corpus = Path(a.corpus).resolve()
    utts = utterances(corpus, a.n)
    total = sum(len(x) for x in utts) / SR
    print(f"{len(utts)} utterances, {total:.1f} s of speech at {SR} Hz; {a.repeats} timed passes each")
    rows = [
        ("comparable, MP3 LAME q7", "audiomentations", audiomentations_chain(corpus, True, 7)),
        ("comparable, MP3 LAME q7", "synth", synth_chain(corpus, [MP3_16K.format(q=7)])),
        ("comparable, MP3 LAME q3", "audiomentations", audiomentations_chain(corpus, True, 3)),
        ("comparable, MP3 LAME q3", "synth", synth_chain(corpus, [MP3_16K.format(q=3)])),
        ("comparable, no codec", "audiomentations", audiomentations_chain(corpus, codec=False)),
        ("comparable, no codec", "synth", synth_chain(corpus, [NO_CODEC])),
        ("no codec + P.56 level to N(-26, 5) dBov", "synth", synth_chain(corpus, [NO_CODEC], keep_level=False)),
        ("call G.711 mu-law (+room+noise+clip)", "synth", synth_chain(corpus, ["channel=g711_ulaw"])),
        ("call AMR-NB 12.2k (+room+noise+clip)", "synth", synth_chain(corpus, ["channel=amr_nb_12k2"])),
    ]
    print(f"{'chain':<40} {'library':<18} {'utt/CPU-s':>10} {'audio-s/CPU-s':>14}")
    for chain, lib, fn in rows:
        utt_s, audio_s = cpu_rate(fn, utts, a.repeats)
        print(f"{chain:<40} {lib:<18} {utt_s:>10.1f} {audio_s:>14.1f}")
    rate = dataloader_rate(corpus, utts, a.workers, a.repeats)
    print(f"DataLoader, {a.workers} workers, G.711 call chain: {rate:.1f} utterances/s (wall clock; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
