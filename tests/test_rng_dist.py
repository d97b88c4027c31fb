import numpy as np
import pytest

from synth.dist import Choice, Const, Histogram, Normal, Uniform, as_dist, dist_field
from synth.errors import ConfigError
from synth.rng import item_rng


def test_item_rng_depends_on_seed_id_and_stage_only():
    a = item_rng(0, "st-000001", "scene").uniform(size=4)
    assert np.array_equal(a, item_rng(0, "st-000001", "scene").uniform(size=4))
    assert not np.array_equal(a, item_rng(1, "st-000001", "scene").uniform(size=4))
    assert not np.array_equal(a, item_rng(0, "st-000002", "scene").uniform(size=4))
    assert not np.array_equal(a, item_rng(0, "st-000001", "leg-0").uniform(size=4))


@pytest.mark.parametrize("cfg,expected", [
    (3, Const(3)), ("g711", Const("g711")), ([0, 20], Uniform(0.0, 20.0)),
    ({"normal": [-26, 5], "clip": [-40, -10]}, Normal(-26.0, 5.0, (-40.0, -10.0))),
    ({"choice": ["a", "b"], "weights": [1, 3]}, Choice(("a", "b"), (1.0, 3.0))),
])
def test_as_dist_parses_every_form(cfg, expected):
    assert as_dist(cfg) == expected


def test_dist_roundtrip_through_to_config(rng):
    for cfg in ([1, 2], {"lognormal": [0.3, 0.5]}, {"histogram": {"edges": [0, 1, 2], "counts": [1, 3]}},
                {"choice": [1, 2, 3]}, {"gamma": [2.0, 0.5], "clip": [0, 3]}):
        d = as_dist(cfg)
        assert as_dist(d.to_config()) == d


def test_histogram_samples_follow_counts(rng):
    x = Histogram((0.0, 1.0, 2.0), (1.0, 3.0)).sample_n(rng, 20000)
    assert 0.73 < np.mean(x >= 1.0) < 0.77 and x.min() >= 0 and x.max() <= 2


def test_bad_distributions_name_the_field():
    with pytest.raises(ConfigError, match="snr_db"):
        dist_field("snr_db", [0, 200], -20, 80)
    with pytest.raises(ConfigError, match="unknown distribution"):
        as_dist({"poisson": 3})
    with pytest.raises(ConfigError, match="uniform range"):
        as_dist([1, 2, 3])
