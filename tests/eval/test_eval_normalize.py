"""Text normalizer: one written form for numbers, case, punctuation, hyphens, apostrophes."""

import pytest

from synth.errors import ConfigError
from synth.eval.normalize import NormalizerConfig, int_to_words, normalize, ordinal_words


@pytest.mark.parametrize("text, expected", [
    ("Go forward 10 meters.", "go forward ten meters"),
    ("GO FORWARD TEN METERS", "go forward ten meters"),
    ("It costs 1,250 dollars", "it costs one thousand two hundred fifty dollars"),
    ("the 21st of May", "the twenty first of may"),
    ("3.5 and -4", "three point five and minus four"),
    ("50% off", "fifty percent off"),
    ("$5 or $1", "five dollars or one dollar"),
    ("$5.50", "five dollars fifty cents"),
    ("in 1990, 1905 and 2005", "in nineteen ninety nineteen oh five and two thousand five"),
    ("Mr. Smith & Dr. Jones", "mister smith and doctor jones"),
    ("MISSUS ALLEN met mrs allen and Mr Dr Ms", "missus allen met missus allen and mister dr ms"),
    ("Twenty-one", "twenty one"),
    ("I'm 'quoted' rock'n'roll", "i'm quoted rock'n'roll"),
    ("It’s fine – really", "it's fine really"),
    ("[noise] uh hello <unk> um world", "hello world"),
    ("  lots   of\tspace \n", "lots of space"),
])
def test_default_normalization(text, expected):
    assert normalize(text) == expected


def test_idempotent_and_digits_match_words():
    for t in ["Go forward 10 meters.", "The 3rd time, 1,000,000 people!", "Mr. O'Neil's x-ray 42%"]:
        assert normalize(normalize(t)) == normalize(t)
    assert normalize("call 911 now") == normalize("Call nine hundred eleven now")


def test_int_and_ordinal_words():
    assert int_to_words(0) == "zero"
    assert int_to_words(115) == "one hundred fifteen"
    assert int_to_words(2_000_017) == "two million seventeen"
    assert ordinal_words(12) == "twelfth"
    assert ordinal_words(40) == "fortieth"
    assert ordinal_words(103) == "one hundred third"


def test_flags():
    assert normalize("Go 10 m", NormalizerConfig(numbers="keep")) == "go 10 m"
    assert normalize("Go Home", NormalizerConfig(lowercase=False)) == "Go Home"
    assert normalize("twenty-one", NormalizerConfig(hyphens="join")) == "twentyone"
    assert normalize("twenty-one -", NormalizerConfig(hyphens="keep")) == "twenty-one"
    assert normalize("I'm", NormalizerConfig(apostrophes="remove")) == "im"
    assert normalize("uh yes", NormalizerConfig(remove_fillers=False)) == "uh yes"
    assert normalize("in 1990", NormalizerConfig(years=False)) == "in one thousand nine hundred ninety"
    assert normalize("hi, there", NormalizerConfig(remove_punctuation=False)) == "hi, there"


def test_bad_flag_names_the_key():
    with pytest.raises(ConfigError, match="normalize.numbers"):
        NormalizerConfig(numbers="digits")
