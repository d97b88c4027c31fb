"""Forced alignment of a transcript to its audio with pocketsphinx (offline, US-English model in its wheel).

The model is 16 kHz: audio at any other rate is resampled with soxr first (8 kHz telephone audio is
upsampled; it simply has no energy above 4 kHz). pocketsphinx scores 10 ms frames; a unit's start is
its first frame's start and its end the end of its last frame, so times are multiples of 10 ms. Its
feature state is reset before every utterance, so an alignment never depends on which utterances the
same decoder saw before (i.e. on worker count or order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..audio import resample
from ..errors import BadInput, ConfigError
from .text import Token, tokens, units

SR = 16000
FRAME_S = 0.01
MIN_FRAMES_PER_PHONE = 3          # pocketsphinx's HMMs have 3 emitting states and no skips
_VARIANT = re.compile(r"\(\d+\)$")
# Wider beams than pocketsphinx's recognition defaults and no lattice rescoring: the path through a long
# utterance's last word to the end of the grammar must survive, or pocketsphinx returns the best partial
# path (the transcript's last words missing). On the telephone calls this turns 16 of 21 such failures
# into alignments.
DECODER_OPTIONS = {"beam": 1e-80, "pbeam": 1e-80, "wbeam": 1e-60, "bestpath": False}


@dataclass(frozen=True)
class Phone:
    """One aligned phone: frames [start_f, start_f + frames) and its acoustic score."""

    name: str
    start_f: int
    frames: int
    score: int


@dataclass(frozen=True)
class UnitTime:
    """One aligned unit: a dictionary word, a filler model (``[NOISE]``, ``[SPEECH]``) or a pause
    (``<sil>``, token -1), with its token's position in the transcript, its frames [start_f, end_f), its
    phones and its acoustic score: pocketsphinx's log score of the aligned path over those frames (its
    integer log units, 0 or below; nearer 0 fits better: studio speech scores about -12 per frame,
    telephone calls about -22, a wrong transcript far lower)."""

    unit: str
    token: int
    start_f: int
    end_f: int
    score: int
    phones: tuple[Phone, ...]

    @property
    def frames(self) -> int:
        return self.end_f - self.start_f


@dataclass
class Alignment:
    """The result for one utterance. ``failure``: why no alignment came out (None: it did); ``oov``: the
    words the dictionary lacks; ``units``: every aligned unit of the transcript (words and markup);
    ``silences``: the pauses pocketsphinx put around them; ``words``: the transcript's own words with
    times in seconds, for the manifest; ``n_frames``: 10 ms frames in the audio."""

    tokens: list[Token]
    units: list[UnitTime] = field(default_factory=list)
    silences: list[UnitTime] = field(default_factory=list)
    words: list[dict] = field(default_factory=list)
    n_frames: int = 0
    failure: str | None = None
    oov: list[str] = field(default_factory=list)


def read_dict(path) -> dict[str, str]:
    """Extra pronunciations, CMU dictionary format: one ``word PH PH ...`` per line (ARPAbet phones of the
    US-English model, e.g. ``onword AA N W ER D``); ``#`` starts a comment."""
    out: dict[str, str] = {}
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        raise ConfigError(f"--dict {path}: cannot be read ({e.strerror}); pass a CMU-format pronunciation file")
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, *phones = line.split()
        if not phones:
            raise BadInput(f"{path}:{n}", f"'{word}' has no phones", "write 'word PH PH ...' (ARPAbet), e.g. "
                           "'onword AA N W ER D'")
        out[word.lower()] = " ".join(p.upper() for p in phones)
    return out


class Aligner:
    """One pocketsphinx decoder (made on first use, so an Aligner can be sent to a worker process and
    build its decoder there). ``extra``: word -> phones added to the dictionary."""

    def __init__(self, extra: dict[str, str] | None = None):
        self.extra = dict(extra or {})
        self._decoder = None

    def __getstate__(self):
        return {"extra": self.extra, "_decoder": None}

    @property
    def decoder(self):
        if self._decoder is None:
            try:
                from pocketsphinx import Decoder
            except ImportError:
                raise ConfigError("synth align needs pocketsphinx: pip install 'synth[eval]' (or pip install "
                                  "'pocketsphinx>=5')") from None
            d = Decoder(samprate=SR, loglevel="FATAL", **DECODER_OPTIONS)
            for word, phones in self.extra.items():
                try:
                    d.add_word(word, phones, True)
                except RuntimeError:
                    raise ConfigError(f"--dict: the pronunciation of '{word}' ({phones}) uses a phone the "
                                      "US-English model lacks; use its ARPAbet phones (AA AE AH AO AW AY B CH D "
                                      "DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH)"
                                      ) from None
            self._decoder = d
        return self._decoder

    def known(self, word: str) -> bool:
        return bool(word) and self.decoder.lookup_word(word) is not None

    def plan(self, text: str) -> tuple[list[Token], list[tuple[str, int]], list[str]]:
        """The transcript's tokens, the units to align (unit, token position) and its out-of-vocabulary words."""
        toks = tokens(text)
        plan, oov = [], []
        for i, t in enumerate(toks):
            u = units(t, self.known)
            if u is None:
                oov.append(t.word)
            else:
                plan.extend((x, i) for x in u)
        return toks, plan, oov

    def align(self, samples: np.ndarray, sr: int, text: str) -> Alignment:
        """Align ``text`` to mono ``samples`` (float, [-1, 1]) at ``sr`` Hz."""
        toks, plan, oov = self.plan(text)
        result = Alignment(toks, oov=oov)
        x = resample(samples, sr, SR) if sr != SR else np.asarray(samples, dtype=np.float32)
        result.n_frames = len(x) // (SR // 100)
        if oov:
            result.failure = "out-of-vocabulary words: " + " ".join(dict.fromkeys(oov))
            return result
        if not any(t.word for t in toks):
            result.failure = "the transcript has no words to align"
            return result
        d = self.decoder
        pcm = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
        try:
            d.set_align_text(" ".join(u for u, _ in plan))
        except RuntimeError as e:
            result.failure = f"pocketsphinx refused the transcript ({e})"
            return result
        _decode(d, pcm)
        names = [_VARIANT.sub("", s.word) for s in d.seg() or () if s.word not in ("<s>", "</s>", "<sil>")]
        want = [u for u, _ in plan]
        if names != want:
            result.failure = ("no alignment (pocketsphinx found no path through the transcript)" if not names else
                              f"the alignment stops after {len(names)} of {len(want)} units" if names == want[:len(names)]
                              else "the alignment does not follow the transcript")
            return result
        # second pass: phone and state alignment along the path found, which also scores every phone
        d.set_alignment()
        _decode(d, pcm)
        al = d.get_alignment()
        # read each word's phones while on it: pocketsphinx's iterators are valid only in place
        entries = [(w.name, w.start, w.duration, w.score, tuple(Phone(p.name, p.start, p.duration, p.score) for p in w))
                   for w in (al or ())]
        if [_VARIANT.sub("", e[0]) for e in entries if e[0] != "<sil>"] != want:
            result.failure = "the phone alignment does not follow the transcript"
            return result
        it = iter(plan)
        for name, start, dur, score, phones in entries:
            ti = -1 if name == "<sil>" else next(it)[1]
            u = UnitTime(_VARIANT.sub("", name), ti, start, start + dur, score, phones)
            (result.silences if ti < 0 else result.units).append(u)
        result.words = words_from_units(toks, result.units, result.n_frames)
        return result


def _decode(d, pcm: bytes) -> None:
    d.reinit_feat()  # no state carried over from the previous utterance
    d.start_utt()
    d.process_raw(pcm, full_utt=True)
    d.end_utt()


def words_from_units(toks: list[Token], units_: list[UnitTime], n_frames: int) -> list[dict]:
    """The transcript's words with times in seconds: a word aligned as several units (``ThinkEngine`` as
    ``think engine``) spans them all; markup has no word."""
    spans: dict[int, list[int]] = {}
    for u in units_:
        s = spans.setdefault(u.token, [u.start_f, u.end_f])
        s[0], s[1] = min(s[0], u.start_f), max(s[1], u.end_f)
    out = []
    for i, t in enumerate(toks):
        if t.word is None or i not in spans:
            continue
        a, b = spans[i]
        out.append({"word": t.word, "start": round(a * FRAME_S, 2), "end": round(min(b, n_frames) * FRAME_S, 2)})
    return out

