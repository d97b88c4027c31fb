"""What the aligner aligns: a transcript split into spoken words and markup (:func:`tokens`), each mapped
onto the words pocketsphinx's dictionary knows (:func:`units`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

NOISE, SPEECH = "[NOISE]", "[SPEECH]"
# hesitation fillers as transcripts spell them (a speaker fills a pause with a sound); not backchannels
# such as "mhm" or "uh-huh", which answer the other talker
HESITATIONS = frozenset({"uh", "um", "uhm", "er", "erm", "ah", "eh", "hm", "hmm", "mm"})

# markup groups first (a bracket may hold parentheses: "[(( ))/]"), then runs of other characters
_SCAN = re.compile(r"\[+(?P<brack>[^\]]*)\]+|\{(?P<brace>[^}]*)\}|<(?P<tag>[^>]*)>"
                   r"|\(\((?P<unc>.*?)\)\)|(?P<run>[^\s{}\[\]<>]+)")
_MARKS = "^*+~@"
_EDGE_PUNCT = ".,;:!?\"()“”‘’`«»"
_CAMEL = re.compile(r"[A-Z][a-z]+|[a-z]+|[A-Z]+(?![a-z])")


@dataclass(frozen=True)
class Token:
    """One unit of a transcript. ``word``: as it goes into ``words`` (None for markup, which has no
    word); ``kind``: ``word``, ``fragment`` (a cut-off word), ``noise``, ``speech`` (unintelligible or
    foreign speech), ``open``/``close`` (a condition spanning words starts/ends); ``index``: its place
    among the transcript's words (None for markup); ``uncertain``: transcribed as uncertain ``((...))``."""

    word: str | None
    kind: str
    index: int | None = None
    uncertain: bool = False

    @property
    def spoken(self) -> str:
        return (self.word or "").lower()


def tokens(text: str) -> list[Token]:
    """The transcript's words and markup, in order.

    A transcript may be upper case with punctuation (``"And so, my fellow Americans,"``) or a verbatim
    transcript with markup in the LDC / Switchboard style of ../shared/corpus/telephone's ``text_verbatim``.
    Both are read; what each kind of token becomes:

    =============================  =========================================  ==============================
    in the transcript              meaning                                    aligned as / in ``words``
    =============================  =========================================  ==============================
    ``Americans,`` ``I'M``         a word; edge punctuation is not part of it  the word / ``Americans``
    ``^John *gonna +gonna ~TV``    a word with a mark (name, nonstandard,      the word without the mark
    ``@NASA``                      mispronounced, spelled acronym)
    ``_ThinkEngine_`` ``a_b``      keyword marks; ``_`` (or a comma without    each word
    ``uh,the``                     its space) joins words
    ``th- -ing ju(-)``             a word fragment (cut off)                  ``[SPEECH]`` (garbage model) /
                                                                              the fragment, e.g. ``th-``
    ``uh um ah er hm``             fillers: ordinary dictionary words          the word / the word
    ``((word word))``              uncertain transcription                    the words
    ``(( ))``                      unintelligible speech                      ``[SPEECH]`` / not a word
    ``{breath} {smack} {laugh}``   speaker noise                              ``[NOISE]`` / not a word
    ``[click] [static] [[skip]]``  background noise                           ``[NOISE]`` / not a word
    ``[static/]`` ``[/static]``    start / end of a condition spanning words  nothing (the words inside are
    ``{breath/}``                  (noise under them); no sound of its own    aligned as usual)
    ``<as>`` ``</as>``             an aside (to someone else)                 nothing
    ``<language text>``            speech in another language                 ``[SPEECH]`` / not a word
    =============================  =========================================  ==============================
    """
    out: list[Token] = []
    for m in _SCAN.finditer(text):
        brack, brace, tag, unc, run = m.group("brack", "brace", "tag", "unc", "run")
        if brack is not None or brace is not None:
            inner = (brack if brack is not None else brace).strip()
            # a span marker has no sound of its own
            out.append(Token(None, "open" if inner.endswith("/") else "close" if inner.startswith("/") else "noise"))
        elif tag is not None:
            if len(tag.split()) > 1:  # "<language text>": speech that is not transcribed
                out.append(Token(None, "speech"))
        elif unc is not None:
            inner = [Token(t.word, t.kind, None, True) for t in tokens(unc)]
            out.extend(inner if any(t.word for t in inner) else [Token(None, "speech")])
        else:
            out.extend(_words(run))
    n = 0
    numbered = []
    for t in out:
        if t.word is not None:
            t = Token(t.word, t.kind, n, t.uncertain)
            n += 1
        numbered.append(t)
    return numbered


def _words(run: str) -> list[Token]:
    out = []
    for part in re.split(r"_|[,;](?=[A-Za-z])", run):  # "a_b", "uh,the": two words
        part = part.lstrip(_MARKS).replace("(-)", "-").strip(_EDGE_PUNCT).lstrip(_MARKS)
        if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?", part):  # T.V. -> TV
            part = part.replace(".", "")
        if not part or not re.search(r"[A-Za-z0-9]", part):
            continue
        kind = "fragment" if part.endswith("-") or part.startswith("-") else "word"
        out.append(Token(part, kind))
    return out


def words_of(text: str) -> list[str]:
    """The words :func:`tokens` finds in ``text`` (what an alignment of it lists, in order)."""
    return [t.word for t in tokens(text) if t.word is not None]


def units(token: Token, known: Callable[[str], bool]) -> tuple[str, ...] | None:
    """What the aligner is given for ``token``: dictionary words (``known(word)`` says whether the
    dictionary has one), ``[NOISE]``/``[SPEECH]`` for markup and fragments, None when out of vocabulary.

    ``[NOISE]`` and ``[SPEECH]`` are the filler entries of pocketsphinx's US-English model (``+NSN+``,
    ``+SPN+``). Dictionary look-up tries the word, then its spoken form through synth's eval
    normalizer (``21st`` -> ``twenty first``, ``Mr.`` -> ``mister``), then its hyphen or CamelCase parts
    (``ninety-nine``, ``ThinkEngine`` -> ``think engine``); a word none of these finds is out of vocabulary
    (there is no offline letter-to-sound: add it with ``--dict``).

    A fragment's time comes from the garbage model, which often takes its 30 ms minimum and leaves the
    fragment's sound to the neighbouring words: trust its place in ``words``, not its duration.
    """
    if token.kind in ("open", "close"):
        return ()
    if token.kind == "noise":
        return (NOISE,)
    if token.kind in ("speech", "fragment"):
        return (SPEECH,)
    w = token.spoken
    if known(w):
        return (w,)
    candidates = []
    if re.search(r"[0-9$%&]", w) or "." in w:
        from ..eval.normalize import NormalizerConfig, normalize
        candidates.append(normalize(token.word, NormalizerConfig(hyphens="split", remove_fillers=False)).split())
    if "-" in w:
        candidates.append([p for p in w.split("-") if p])
    camel = _CAMEL.findall(token.word)
    if len(camel) > 1 and "".join(camel) == re.sub(r"[^A-Za-z]", "", token.word):
        candidates.append([p.lower() for p in camel])
    if "'" in w:
        candidates.append([w.replace("'", "")])
    for parts in candidates:
        if parts and all(known(p) for p in parts):
            return tuple(parts)
    return None
