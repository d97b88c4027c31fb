"""How slices of one config group become one spec drawing from a mixture of their conditions."""

from __future__ import annotations

import pytest

from synth.target import _mixture, merge_group


def comp(slice_, weight, spec):
    return {"slice": slice_, "weight": weight, "spec": spec}


def test_noise_slices_become_a_choice_of_snrs():
    base = {"kind": "recorded", "p": 1.0, "walk_sd_db": 0.0}
    spec, varies, kept, dropped = merge_group("noise", [comp("a", 1.0, {**base, "snr_db": 5.0}),
                                                        comp("b", 3.0, {**base, "snr_db": -5.0})])
    assert varies == "noise.snr_db" and not dropped
    assert spec["snr_db"] == {"choice": [-5.0, 5.0], "weights": [0.75, 0.25]}
    # a slice that also changes another field cannot share the spec
    spec, _, kept, dropped = merge_group("noise", [comp("a", 1.0, {**base, "snr_db": 5.0}),
                                                   comp("b", 3.0, {**base, "snr_db": -5.0}),
                                                   comp("c", 2.0, {**base, "snr_db": 0.0, "walk_sd_db": 3.0})])
    assert [c["slice"] for c in dropped] == ["c"] and spec["snr_db"]["choice"] == [-5.0, 5.0]


def test_room_ranges_become_a_histogram_with_gaps():
    assert _mixture([[0.4, 0.6], [0.8, 1.2]], [1.0, 3.0]) == {
        "histogram": {"edges": [0.4, 0.6, 0.8, 1.2], "counts": [0.25, 0.0, 0.75]}}
    assert _mixture([[0.2, 0.6], [0.4, 0.8]], [1.0, 1.0]) is None  # overlapping ranges cannot be mixed
    room = {"kind": "simulated", "p": 1.0, "pool_size": 8}
    spec, _, kept, dropped = merge_group("room", [comp("a", 1.0, {**room, "rt60_s": [0.2, 0.6]}),
                                                  comp("b", 2.0, {**room, "rt60_s": [0.4, 0.8]})])
    assert spec["rt60_s"] == [0.4, 0.8] and [c["slice"] for c in dropped] == ["a"]


def channel(*chain, name="x"):
    return {"name": name, "legs": [{"name": "customer", "chain": list(chain)}]}


NB = {"name": "bandlimit", "band": "narrowband"}


def test_codec_slices_share_one_codec_stage_with_bitrates_per_codec():
    comps = [comp("amr_4k75", 4.0, channel(NB, {"name": "codec", "codec": "amr_nb", "bitrate_bps": 4750})),
             comp("amr_12k2", 1.0, channel(NB, {"name": "codec", "codec": "amr_nb", "bitrate_bps": 12200})),
             comp("opus", 3.0, channel(NB, {"name": "codec", "codec": "opus", "bitrate_bps": 8000,
                                            "bandwidth": "narrowband"})),
             comp("gsm", 2.0, channel(NB, {"name": "codec", "codec": "gsm_fr"})),
             comp("g722", 5.0, channel({"name": "bandlimit", "band": "wideband"}, {"name": "codec", "codec": "g722"})),
             comp("3hop", 2.5, channel(NB, {"name": "codec", "codec": "amr_nb"},
                                       {"name": "codec", "codec": "g711_ulaw"}))]
    spec, varies, kept, dropped = merge_group("channel", comps)
    # g722 is the heaviest alone, but the codec stage of the narrowband chain carries more weight (10 vs 5)
    assert sorted(c["slice"] for c in dropped) == ["3hop", "g722"] and varies == "channel.legs[0].chain[1].codec"
    node = spec["legs"][0]["chain"][1]
    assert node["codec"] == {"choice": ["amr_nb", "opus", "gsm_fr"], "weights": [0.5, 0.3, 0.2]}
    assert node["bitrate_bps"] == {"amr_nb": {"choice": [4750, 12200], "weights": [0.8, 0.2]}, "opus": 8000}
    assert node["bandwidth"] == "narrowband" and spec["legs"][0]["chain"][0] == NB


def test_packet_loss_slices_vary_their_loss_rate():
    def loss(rate):
        return channel(NB, {"name": "codec", "codec": "g711_ulaw"},
                       {"name": "packet_loss", "model": "gilbert_elliott", "loss_rate": rate})
    spec, varies, kept, dropped = merge_group("channel", [comp("l1", 1.0, loss(0.01)), comp("l20", 3.0, loss(0.2))])
    assert varies == "channel.legs[0].chain[2].loss_rate" and not dropped
    assert spec["legs"][0]["chain"][2]["loss_rate"] == {"choice": [0.2, 0.01], "weights": [0.75, 0.25]}


@pytest.mark.parametrize("values, weights, expected", [
    ([3.0, 3.0], [1.0, 2.0], 3.0),
    (["a", "b", "a"], [1.0, 1.0, 2.0], {"choice": ["a", "b"], "weights": [0.75, 0.25]}),
])
def test_mixture_aggregates_equal_values(values, weights, expected):
    assert _mixture(values, weights) == expected
