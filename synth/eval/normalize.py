"""English text normalization applied to reference and hypothesis alike before WER/CER: maps both onto one
written form ("10" vs "ten", "Mr." vs "mister", "Twenty-one" vs "twenty one") so that only recognition
errors remain. Word lists: ``assets/eval/normalize_en.yaml``. English-only, pure and idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

from ..errors import ConfigError
from ..shipped import asset_yaml

_WORDS = asset_yaml("eval/normalize_en.yaml")  # the English word lists, shipped in assets/
_ONES: list[str] = _WORDS["ones"]
_TENS: list[str] = _WORDS["tens"]
_SCALES = [(int(n), name) for n, name in _WORDS["scales"]]
_ORDINAL_IRREGULAR: dict[str, str] = _WORDS["ordinal_irregular"]
_ABBREVIATIONS = {**_WORDS["abbreviations"]["with_or_without_dot"], **_WORDS["abbreviations"]["with_dot"]}
_CURRENCY = {symbol: tuple(names) for symbol, names in _WORDS["currency"].items()}
DEFAULT_FILLERS = tuple(_WORDS["fillers"])


def _under_thousand(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        if n % 10:
            words.append(_ONES[n % 10])
    elif n or not words:
        words.append(_ONES[n])
    return words


def int_to_words(n: int) -> str:
    """Cardinal English words for an integer, American style without "and": 1250 -> one thousand two
    hundred fifty. Numbers of 10**15 and above are read digit by digit."""
    if n < 0:
        return "minus " + int_to_words(-n)
    if n >= 10**15:
        return " ".join(_ONES[int(d)] for d in str(n))
    if n == 0:
        return "zero"
    words: list[str] = []
    for scale, name in _SCALES:
        if n >= scale:
            words += _under_thousand(n // scale) + [name]
            n %= scale
    if n:
        words += _under_thousand(n)
    return " ".join(words)


def ordinal_words(n: int) -> str:
    """21 -> twenty first, 12 -> twelfth, 40 -> fortieth."""
    words = int_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        words[-1] = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_words(n: int) -> str:
    """Read a year as spoken: 1990 -> nineteen ninety, 1905 -> nineteen oh five, 1900 -> nineteen hundred."""
    hi, lo = divmod(n, 100)
    if lo == 0:
        return f"{int_to_words(hi)} hundred"
    if lo < 10:
        return f"{int_to_words(hi)} oh {_ONES[lo]}"
    return f"{int_to_words(hi)} {int_to_words(lo)}"


@dataclass(frozen=True)
class NormalizerConfig:
    """Flags of :func:`normalize` (what each step does is listed there)."""

    lowercase: bool = True
    remove_punctuation: bool = True
    numbers: str = "words"  # words | keep
    years: bool = True
    hyphens: str = "split"  # split | join | keep
    apostrophes: str = "keep"  # keep | remove
    expand_abbreviations: bool = True
    remove_bracketed: bool = True
    remove_fillers: bool = True
    fillers: tuple[str, ...] = field(default=DEFAULT_FILLERS)

    def __post_init__(self):
        allowed = {"numbers": ("words", "keep"), "hyphens": ("split", "join", "keep"),
                   "apostrophes": ("keep", "remove")}
        for key, values in allowed.items():
            if getattr(self, key) not in values:
                raise ConfigError(f"normalize.{key}={getattr(self, key)!r} is not one of {', '.join(values)}")
        object.__setattr__(self, "fillers", tuple(self.fillers))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fillers"] = list(self.fillers)
        return d


_NUMBER_RE = re.compile(
    rf"(?P<cur>[{''.join(map(re.escape, _CURRENCY))}])?(?P<neg>(?<![\w.])-)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
    r"(?P<ord>st|nd|rd|th)?(?P<pct>\s?%)?(?![\w])"
)


def _number_to_words(m: re.Match, years: bool) -> str:
    raw = m.group("num")
    n = int(raw.replace(",", ""))
    dec, ords, cur = m.group("dec"), m.group("ord"), m.group("cur")
    if ords and dec is None:
        words = ordinal_words(n)
    elif years and dec is None and not cur and "," not in raw and len(raw) == 4 and (
            1100 <= n <= 1999 or 2010 <= n <= 2099):
        words = year_words(n)
    else:
        words = int_to_words(n)
        if dec is not None:
            words += " point " + " ".join(_ONES[int(d)] for d in dec)
    if m.group("neg"):
        words = "minus " + words
    if m.group("pct"):
        words += " percent"
    if cur:
        one, many = _CURRENCY[cur]
        if dec is not None and len(dec) == 2:  # $5.50 -> five dollars fifty cents
            words = f"{int_to_words(n)} {one if n == 1 else many}"
            if int(dec):
                words += f" {int_to_words(int(dec))} {'cent' if int(dec) == 1 else 'cents'}"
        else:
            words += " " + (one if n == 1 and dec is None else many)
    return f" {words} "


_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"',
                            "–": "-", "—": " ", "‐": "-", "‑": "-"})
_BRACKETED = re.compile(r"\[[^\]]*\]|<[^>]*>|\{[^}]*\}")


def _alternatives(words) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_ABBREV_RE = re.compile(rf"\b((?:{_alternatives(_WORDS['abbreviations']['with_or_without_dot'])})\b\.?"
                        rf"|(?:{_alternatives(_WORDS['abbreviations']['with_dot'])})\.(?=\s|$))", re.IGNORECASE)
_APOS_EDGE = re.compile(r"(?<![\w])'+|'+(?![\w])")


def normalize(text: str, config: NormalizerConfig | None = None) -> str:
    """Normalize one English transcript (reference or hypothesis) for scoring. Steps, in order (each has a
    flag in :class:`NormalizerConfig`; the defaults are the ones listed):

    1. Unicode NFKC; typographic quotes and dashes become ASCII (``’`` -> ``'``, ``–`` -> ``-``).
    2. ``remove_bracketed``: drop ``[noise]``, ``<unk>``, ``{laugh}`` style annotation tokens.
    3. ``expand_abbreviations``: ``mr mrs`` (with or without the dot), ``ms. dr.`` (with it) -> ``mister missus
       miss doctor``; ``&`` -> ``and``.
    4. ``numbers="words"``: digits become English words, one consistent reading:
       ``10`` -> ``ten``; ``1,250`` -> ``one thousand two hundred fifty`` (no "and");
       ``3.5`` -> ``three point five``; ``21st`` -> ``twenty first``; ``-4`` -> ``minus four``;
       ``50%`` -> ``fifty percent``; ``$5`` -> ``five dollars``, ``$5.50`` -> ``five dollars fifty cents``
       (also £ pounds, € euros);
       with ``years=True`` a bare 4-digit number 1100-1999 or 2010-2099 is read as a year
       (``1990`` -> ``nineteen ninety``, ``1905`` -> ``nineteen oh five``, ``1900`` -> ``nineteen hundred``).
       ``numbers="keep"`` leaves digits alone.
    5. ``lowercase``.
    6. ``hyphens``: ``"split"`` (``twenty-one`` -> ``twenty one``), ``"join"`` (-> ``twentyone``) or ``"keep"``.
    7. ``apostrophes``: ``"keep"`` keeps them inside words (``i'm``, ``o'clock``) and drops quote marks at word
       edges; ``"remove"`` deletes them (``i'm`` -> ``im``).
    8. ``remove_punctuation``: every other character that is not a letter, digit or space becomes a space.
    9. ``remove_fillers``: drop hesitations that references do not transcribe (``uh um hmm mm mhm mmm``).
    10. Whitespace collapsed to single spaces, trimmed.

    Deterministic and pure; ``normalize(normalize(x)) == normalize(x)``.
    """
    c = config or NormalizerConfig()
    s = unicodedata.normalize("NFKC", str(text or "")).translate(_TRANSLATE)
    if c.remove_bracketed:
        s = _BRACKETED.sub(" ", s)
    if c.expand_abbreviations:
        s = _ABBREV_RE.sub(lambda m: _ABBREVIATIONS[m.group(1).rstrip(".").lower()], s)
        s = s.replace("&", " and ")
    if c.numbers == "words":
        s = _NUMBER_RE.sub(lambda m: _number_to_words(m, c.years), s)
    if c.lowercase:
        s = s.lower()
    if c.hyphens == "split":
        s = s.replace("-", " ")
    elif c.hyphens == "join":
        s = re.sub(r"(?<=\w)-(?=\w)", "", s)
    if c.apostrophes == "remove":
        s = s.replace("'", "")
    else:
        s = _APOS_EDGE.sub(" ", s)
    if c.remove_punctuation:
        keep = "'" + ("-" if c.hyphens == "keep" else "")
        s = "".join(ch if (ch.isalnum() or ch.isspace() or ch in keep) else " " for ch in s)
        if c.hyphens == "keep":  # a hyphen that is not between two word characters is punctuation
            s = re.sub(r"(?<!\w)-|-(?!\w)", " ", s)
    words = s.split()
    if c.remove_fillers:
        fillers = {f.lower() for f in c.fillers}
        words = [w for w in words if w.lower() not in fillers]
    return " ".join(words)
