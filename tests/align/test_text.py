"""What the aligner aligns: transcript tokens (words, marks, fragments, markup) and dictionary look-up."""

import pytest

from synth.align.text import NOISE, SPEECH, tokens, units, words_of

DICT = {"think", "engine", "ninety", "nine", "twenty", "first", "i'm", "tv", "uh", "the"}


def known(w: str) -> bool:
    return w in DICT


def test_plain_transcripts_keep_their_words_without_edge_punctuation():
    assert words_of("And so, my fellow Americans, ask not.") == ["And", "so", "my", "fellow", "Americans", "ask", "not"]
    assert words_of("I'M GLAD") == ["I'M", "GLAD"]


def test_verbatim_markup_becomes_noise_speech_or_nothing():
    toks = tokens("{breath} hey ^John [static/] (( )) *gonna +you _ThinkEngine_ [/static] <as> hi </as> [prices paid]")
    assert [(t.word, t.kind) for t in toks] == [
        (None, "noise"), ("hey", "word"), ("John", "word"), (None, "open"), (None, "speech"), ("gonna", "word"),
        ("you", "word"), ("ThinkEngine", "word"), (None, "close"), ("hi", "word"), (None, "noise")]
    assert [t.index for t in toks if t.word] == [0, 1, 2, 3, 4, 5]


def test_fragments_uncertain_words_and_joined_words():
    toks = tokens("th- ju(-) -ing ((the, the,))application little_ThinkEngine_whose uh,the T.V.")
    assert [(t.word, t.kind) for t in toks][:3] == [("th-", "fragment"), ("ju-", "fragment"), ("-ing", "fragment")]
    assert [t.word for t in toks if t.uncertain] == ["the", "the"]
    assert words_of("little_ThinkEngine_whose uh,the T.V.") == ["little", "ThinkEngine", "whose", "uh", "the", "TV"]


@pytest.mark.parametrize("word,want", [
    ("I'm", ("i'm",)), ("ThinkEngine", ("think", "engine")), ("ninety-nine", ("ninety", "nine")),
    ("21st", ("twenty", "first")), ("TV", ("tv",)), ("Onword", None), ("uh", ("uh",))])
def test_dictionary_lookup_tries_spoken_forms_then_parts(word, want):
    (tok,) = tokens(word)
    assert units(tok, known) == want


def test_markup_units():
    noise, speech, frag, opening = tokens("{breath} (( )) th- [static/]")
    assert units(noise, known) == (NOISE,) and units(speech, known) == (SPEECH,)
    assert units(frag, known) == (SPEECH,) and units(opening, known) == ()
