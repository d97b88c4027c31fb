"""Using a profile file in a build: ``synth build profile=<file.yaml>``.

Built-in profiles are config-group options (``conf/profile/<name>.yaml``, bundles of overrides). A profile
*file* is either such a bundle (top-level config keys) or what ``synth fit`` writes: a ``fitted:`` block
of measured distributions, mapped onto build keys here:

===================  ========================================================================
fitted key           build key
===================  ========================================================================
level_dbov           ``level.speech_dbov`` and the recorder's ``calibrate_level`` target: the P.56 level
                     of the speech as recorded (after band limit, noise and codec)
snr_db               recorder ``add_noise.snr_db`` (harvested noise, SNR re active speech level, added
                     after the band limit: the noise was recorded behind the real channel already)
noise_bank           ``sources.noise``: the noise harvested from the real recordings themselves
effective_bandwidth  a recorder ``bandlimit`` whose ``high_hz`` is drawn from the fitted edges, for the share
                     of recordings whose edge shows a telephone band: <= 4.6 kHz -> narrowband (8 kHz),
                     4.6-7.5 kHz -> wideband (16 kHz); above 7.5 kHz only the sample rate limits the band
low_band_rel_db      the band limit's ``low_hz``: the high-pass cutoff that lowers speech below 200 Hz as much
                     as measured (LOW_CUT_DB: -25 dB -> 200 Hz, -48 dB -> 300 Hz) for the share of recordings
                     that show one, else 50 Hz (the energy at 100-300 Hz is kept)
bandwidth            (class weights, used when no effective_bandwidth_hz was fitted)
codec_family         a recorder ``codec`` drawing codecs of the fitted families (CODEC_FAMILIES), applied
                     with the share of recordings whose family could be told: the last hop
codec_chain          a recorder ``codec`` hop of the fitted vocoders (AMR-NB at the fitted modes, GSM-FR,
                     Opus-NB) just before the last hop, applied with the share of recordings that showed one
                     (synth.profiles.codec_chain.chain_step); no frame errors (not fitted)
duration_s           ``scenario.duration_s`` (conversations and meetings: ``exact_duration``)
sample_rate          ``output.sample_rate``: the most common measured rate
clipping.p           ``level.clipping.p``
reverb.p, rt60_s     ``room``: simulated rooms with that probability and RT60 distribution
turns                ``scenario.turns`` when the profile's scenario is a conversation or meeting
scenario, n_speakers the scenario built (fitted from RTTMs: conversation for 2 speakers, meeting for 3+ with
                     those meeting sizes) unless ``scenario=`` is given on the command line
noise_p              ``add_noise.p``: the share of recordings with a noise floor (the rest were digitally
                     silent between the words)
===================  ========================================================================

The command line wins (``apply_profile_file``): a group selected there replaces the fitted stages of that
group, not only its config section. ``noise=<option>`` (``noise=none`` too) removes the fitted recorder noise
and the harvested noise bank; ``noise.<field>=`` (e.g. ``noise.snr_db=[5,10]``) changes the fitted noise;
``channel=<option>`` replaces the fitted band limit and codec (the fitted noise and level calibration are
kept, ahead of the option's own recorder steps); ``level=<option>`` removes the fitted level calibration and
``level.speech_dbov=`` sets it; ``room=<option>`` replaces the fitted room. The profile block lists what was
replaced (``replaced_on_command_line``) and the dataset card shows it.

The profile's own distributions are kept in ``profile.targets`` so the dataset card can put the realized
values next to them.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import yaml

from ..dist import as_dist
from ..errors import BadInput
from ..rng import item_rng
from .codec_chain import chain_step
from .mixture import apply_mixture, mixture_keys


def load_profile(path: str | Path) -> dict:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise BadInput(p, f"cannot be read as a profile YAML ({str(e).splitlines()[0]})",
                       "pass a file written by synth fit or a conf/profile-style bundle") from None
    if not isinstance(data, dict):
        raise BadInput(p, "is not a YAML mapping", "pass a file written by synth fit")
    return data


# codec_guess (estimate.guess_codec) prefix -> codecs of that family synth can run (one drawn per item)
CODEC_FAMILIES = {
    "G.711 mu-law": ["g711_ulaw"],
    "G.711 A-law": ["g711_alaw"],
    "narrowband telephony": ["g711_ulaw", "g711_alaw", "amr_nb", "gsm_fr"],
    "wideband 7 kHz": ["g722", "opus"],
}
NOISE_BANK_MIN_S = 10.0   # below: the (looped) bank, or the default noise without one, is shaped to the fitted spectrum
# Low cut from low_band_rel_db (speech level below 200 Hz re 300-1000 Hz): how far an 8th-order high-pass at
# each cutoff lowers it, median over corpus speech (librispeech, librivox, arctic) at 8 kHz, whose own
# value is about 0 dB (-11..+10). Above LOW_CUT_DB[-1]: no telephone high-pass (50 Hz).
LOW_CUT_DB = (-48.0, -37.0, -25.0, -12.0, -2.5)
LOW_CUT_HZ = (300.0, 250.0, 200.0, 150.0, 100.0)
NARROWBAND_MAX_HZ, WIDEBAND_MAX_HZ = 4600.0, 7500.0


def codecs_of(guess: str) -> list[str]:
    """The codecs of a fitted codec family (``codec_guess`` value); [] for "cannot tell"."""
    return next((c for prefix, c in CODEC_FAMILIES.items() if str(guess).startswith(prefix)), [])


def _draws(spec, key: str, n: int = 4000) -> np.ndarray:
    return as_dist(spec).sample_n(item_rng(0, "profile", key), n)


def codec_step(family: dict | None) -> dict | None:
    """A ``codec`` effect drawing codecs of the fitted families, applied with the share of recordings
    whose family could be told; None when no family was recognised."""
    if not family or not family.get("choice"):
        return None
    weights = dict(zip(family["choice"], family.get("weights") or [1.0] * len(family["choice"])))
    total = sum(weights.values()) or 1.0
    per_codec: dict[str, float] = {}
    for guess, w in weights.items():
        for c in codecs_of(guess):
            per_codec[c] = per_codec.get(c, 0.0) + w / total / len(codecs_of(guess))
    p = sum(per_codec.values())
    if p <= 0:
        return None
    wide = sum(w for g, w in weights.items() if str(g).startswith("wideband")) > total / 2
    return {"name": "codec", "p": round(min(1.0, p), 6),
            "codec": {"choice": list(per_codec), "weights": [round(v / p, 6) for v in per_codec.values()]},
            "bandwidth": "wideband" if wide else "narrowband"}


def bandlimit_step(fitted: dict) -> dict | None:
    """A ``bandlimit`` reproducing the measured band edge (drawn from its fitted distribution) and low cut
    for the share of recordings whose edge shows a telephone band (<= 4.6 kHz narrowband, <= 7.5 kHz
    wideband; the majority class is used). With only class weights, the class's own edges."""
    bw = fitted.get("bandwidth") or {}
    if fitted.get("effective_bandwidth_hz") is not None:
        edges = _draws(fitted["effective_bandwidth_hz"], "bandwidth")
        nb, wb = float(np.mean(edges <= NARROWBAND_MAX_HZ)), float(np.mean((edges > NARROWBAND_MAX_HZ) & (edges <= WIDEBAND_MAX_HZ)))
    elif bw.get("choice"):  # class weights only: narrowband is telephone band, wider classes are rate-limited
        w = dict(zip(bw["choice"], bw.get("weights") or [1.0] * len(bw["choice"])))
        nb, wb = w.get("narrowband", 0.0) / sum(w.values()), 0.0
    else:
        return None
    if nb + wb <= 0:
        return None
    band = "narrowband" if nb >= wb else "wideband"
    step = {"name": "bandlimit", "p": round(nb + wb, 6), "band": band}
    if fitted.get("effective_bandwidth_hz") is not None:
        cap = 3990.0 if band == "narrowband" else WIDEBAND_MAX_HZ
        step["high_hz"] = _clip_dist(fitted["effective_bandwidth_hz"], 1000.0, cap)
    if fitted.get("low_band_rel_db") is not None:
        low = _draws(fitted["low_band_rel_db"], "low_band")
        cut = low < LOW_CUT_DB[-1]
        if cut.any():
            hz = round(float(np.interp(np.median(low[cut]), LOW_CUT_DB, LOW_CUT_HZ)), 1)
            step["low_hz"] = {"choice": [hz, 50.0], "weights": [round(float(cut.mean()), 6), round(1 - float(cut.mean()), 6)]}
        else:
            step["low_hz"] = 50.0
    return step


def _clip_dist(spec: dict, lo: float, hi: float) -> dict:
    """``spec`` with its ``clip`` range narrowed to [lo, hi] (a histogram keeps its own edges)."""
    if "histogram" in spec:
        return spec
    clip = spec.get("clip") or [lo, hi]
    return {**spec, "clip": [max(lo, float(clip[0])), min(hi, max(lo + 1.0, float(clip[1])))]}


def scenario_of(fitted: dict) -> str:
    """The scenario a fitted profile builds: its ``scenario`` key, else from its RTTM turns (conversation for
    2 speakers, meeting for 3+, the median over the recordings), else single_talker."""
    if fitted.get("scenario"):
        return str(fitted["scenario"])
    turns = fitted.get("turns")
    if not turns:
        return "single_talker"
    n = (turns.get("fitted") or {}).get("n_speakers") or (turns.get("n_speakers") or {}).get("choice") or [2]
    return "meeting" if float(np.median([float(x) for x in n])) >= 2.5 else "conversation"


def _fitted_duration(spec, kind: str):
    """The fitted durations inside the range scenario ``kind`` accepts (a profile fitted for one scenario
    may be built as another: conversations need >= 1 s)."""
    from .limits import clamp_spec, scenario_limits

    return clamp_spec(spec, *scenario_limits(kind, "duration_s"))[0]


def overrides_from_fitted(fitted: dict, name: str, scenario: dict | None = None) -> dict:
    """Build overrides that reproduce the fitted conditions *where they were measured*, on the recording.

    Talkers are levelled to the fitted level, then the recorder stage (one per item, after the legs are
    mixed) applies, in the order a call recording is made: the fitted band limit, the harvested noise at
    the fitted SNR (it was recorded after the real channel, so it is not band-limited again), a final
    ``calibrate_level`` that puts the speech at the drawn level as recorded, and a codec of the fitted
    family last (so decoded samples keep their codec's signature, e.g. the G.711 grid). Item durations
    follow the fitted recording durations. A profile fitted per leg from two-channel calls (``legs:``) builds
    the same stages per leg instead (``stereo_overrides``).
    """
    if fitted.get("legs"):
        return stereo_overrides(fitted, name, scenario)
    o: dict = {"profile": {"name": name, "fitted": True, "targets": {}}}
    t = o["profile"]["targets"]
    recorder: list[dict] = []
    if fitted.get("level_dbov") is not None:
        o["level"] = {"speech_dbov": fitted["level_dbov"]}
        t["speech_level_dbov"] = fitted["level_dbov"]
    band = bandlimit_step(fitted)
    if band is not None:
        recorder.append(band)
        t["bandwidth"] = fitted.get("bandwidth") or {}
        if "high_hz" in band:
            t["effective_bandwidth_hz"] = fitted["effective_bandwidth_hz"]
    o["noise"] = {"kind": "none"}  # the fitted noise is added by the recorder stage; none measured: none added
    if fitted.get("snr_db") is not None:
        noise = {"name": "add_noise", "snr_db": fitted["snr_db"], "walk_sd_db": 0.0, "bursts_per_min": 0.0}
        if fitted.get("noise_p") is not None and float(fitted["noise_p"]) < 1.0:
            noise["p"] = float(fitted["noise_p"])
        t["snr_db"] = fitted["snr_db"]
        bank_s = float(fitted.get("noise_bank_s") or 0.0)
        if fitted.get("noise_bank") and Path(fitted["noise_bank"]).is_dir() and bank_s > 0:
            o["sources"] = {"noise": str(fitted["noise_bank"])}  # real noise carries its own level changes
        if bank_s < NOISE_BANK_MIN_S and fitted.get("noise_shape_db"):  # thin bank, or other noise: shape it
            noise["shape_db"] = {int(k): float(v) for k, v in fitted["noise_shape_db"].items()}
        recorder.append(noise)
        if fitted.get("noise_tilt_db_per_oct") is not None:
            t["noise_tilt_db_per_oct"] = fitted["noise_tilt_db_per_oct"]
    if fitted.get("level_dbov") is not None:
        recorder.append({"name": "calibrate_level", "target_dbov": fitted["level_dbov"]})
    if (fitted.get("clipping") or {}).get("p") == 0:  # no recording clipped: loud talkers' peaks were limited
        recorder.append({"name": "limiter"})
    vocoder = chain_step(fitted.get("codec_chain"))
    if vocoder is not None:  # the cellular / VoIP leg's vocoder, decoded before the last hop
        recorder.append(vocoder)
        t["codec_chain"] = fitted["codec_chain"]
    codec = codec_step(fitted.get("codec_family"))
    if codec is not None:
        recorder.append(codec)
        t["codec_family"] = fitted["codec_family"]
    o["channel"] = {"name": f"{name}_recorded", "legs": [{"name": "mono", "chain": []}], "recorder": recorder}
    sr = fitted.get("sample_rate") or {}
    if sr.get("choice"):
        weights = sr.get("weights") or [1.0] * len(sr["choice"])
        o["output"] = {"sample_rate": int(sr["choice"][max(range(len(weights)), key=weights.__getitem__)])}
    clip = fitted.get("clipping") or {}
    if clip.get("p") is not None:
        o.setdefault("level", {})["clipping"] = {"p": float(clip["p"])}
    reverb = fitted.get("reverb") or {}
    if reverb.get("p"):
        o["room"] = {"kind": "simulated", "p": float(reverb["p"]), "rt60_s": reverb.get("rt60_s") or [0.3, 0.8]}
        t["rt60_s"] = reverb.get("rt60_s")
    else:
        o["room"] = {"kind": "none"}
    if fitted.get("behavior"):  # rates counted in verbatim transcripts (synth fit --refs)
        o["behavior"] = dict(fitted["behavior"])
    kind = (scenario or {}).get("name", "single_talker")
    o["scenario"] = {}
    if fitted.get("duration_s") is not None:
        o["scenario"]["duration_s"] = _fitted_duration(fitted["duration_s"], kind)
        t["duration_s"] = fitted["duration_s"]
        if kind in ("conversation", "meeting"):
            o["scenario"]["exact_duration"] = True
    if fitted.get("turns") and kind in ("conversation", "meeting"):
        o["scenario"]["turns"] = fitted["turns"]
    if fitted.get("n_speakers") and kind == "meeting":
        o["scenario"]["n_speakers"] = fitted["n_speakers"]
    return o


def stereo_overrides(fitted: dict, name: str, scenario: dict | None = None) -> dict:
    """Build overrides for a profile fitted per leg from two-channel calls (synth.profiles.stereo): stereo
    conversations (``output.layout=stereo``) whose two talkers have the legs' names as roles, so each talker's
    channel leg (``channel.legs``, picked by role as in conf/channel/call_center.yaml) carries the conditions
    fitted on that channel: the stages a mono fit puts in the recorder (band limit, harvested noise at the
    fitted SNR, level calibration, codec; ``overrides_from_fitted`` on the leg's block), after the leg's own
    clipping. Each leg draws its noise from its own folder of the noise bank (``add_noise.folder``); a leg
    whose channel gave no noise draws from the whole bank, shaped to its fitted noise spectrum. The call-level
    keys (durations, sample rate, rooms, turns) apply as in a mono fit. Leg 0 is channel 0 and opens the call.
    """
    call = {k: v for k, v in fitted.items() if k not in ("legs", "layout", "noise_bank", "noise_bank_s")}
    o = overrides_from_fitted(call, name, scenario)
    targets = o["profile"]["targets"]
    o["level"] = {"clipping": {"p": 0.0}}   # clipping is fitted per leg: in each leg's chain
    bank, bank_s = fitted.get("noise_bank"), float(fitted.get("noise_bank_s") or 0.0)
    if bank and Path(bank).is_dir() and bank_s > 0:
        o["sources"] = {"noise": str(bank)}
    legs = []
    for leg in fitted["legs"]:
        sub = overrides_from_fitted({k: v for k, v in leg.items() if k not in ("name", "channel")}, name)
        chain = list(sub["channel"]["recorder"])
        noise = next((s for s in chain if s.get("name") == "add_noise"), None)
        if noise is not None and (sub.get("sources") or {}).get("noise") and "sources" in o:
            noise["folder"] = str(leg["name"])   # its own channel's noise: noise_bank/<leg>/
        clip = ((sub.get("level") or {}).get("clipping") or {}).get("p")
        if clip:
            chain.insert(0, {"name": "clipping", "p": float(clip)})
        legs.append({"name": str(leg["name"]), "chain": chain})
        targets.setdefault("legs", {})[str(leg["name"])] = sub["profile"]["targets"]
    o["channel"] = {"name": f"{name}_recorded", "legs": legs, "recorder": []}
    o["output"] = {**(o.get("output") or {}), "layout": "stereo"}
    if (scenario or {}).get("name", "conversation") == "conversation":
        o["scenario"]["roles"] = [leg["name"] for leg in legs]
    return o


def profile_overrides(path: str | Path, scenario: dict | None = None) -> dict:
    """The config overrides a profile file stands for (``scenario``: the composed scenario section; a fitted
    profile's scenario keys are made for it)."""
    data = load_profile(path)
    name = Path(path).stem
    if "fitted" in data:
        return overrides_from_fitted(data["fitted"] or {}, name, scenario)
    data = {k: v for k, v in data.items() if k != "defaults"}
    data.setdefault("profile", {"name": name})
    return data


DIST_KEYS = {"const", "uniform", "loguniform", "normal", "lognormal", "gamma", "exponential", "choice",
             "histogram", "clip", "weights"}


def is_dist(v) -> bool:
    return isinstance(v, dict) and bool(v) and set(v) <= DIST_KEYS


def deep_update(dst: dict, src: dict) -> dict:
    """Merge ``src`` into ``dst``: nested config sections merge, distributions and other values replace."""
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict) and not is_dist(v) and not is_dist(dst[k]):
            deep_update(dst[k], v)
        else:
            dst[k] = v
    return dst


def set_dotted(cfg: dict, key: str, value) -> None:
    node = cfg
    *path, last = key.lstrip("+").split(".")
    for p in path:
        node = node.setdefault(p, {})
    node[last] = value


def get_dotted(cfg: dict, key: str, missing=None):
    node = cfg
    for p in key.split("."):
        if not isinstance(node, dict) or p not in node:
            return missing
        node = node[p]
    return node


def scenario_config(name: str) -> dict:
    """The shipped scenario option ``conf/scenario/<name>.yaml`` as a plain dict."""
    from ..confdir import conf_dir

    return yaml.safe_load((conf_dir() / "scenario" / f"{name}.yaml").read_text()) or {}


def profile_keys(path: str | Path) -> set[str]:
    """Every dotted config key a profile file sets a value of (``scenario.duration_s``; not the sections
    holding them): a plain ``key=value`` on the command line for one of them, a key under one or a section
    holding one overrides the profile (see synth.compose)."""
    data = load_profile(path)
    if "mixture" in data:
        return mixture_keys(path, data, profile_keys)
    if "fitted" in data:
        fitted = data["fitted"] or {}
        data = overrides_from_fitted(fitted, Path(path).stem, {"name": scenario_of(fitted)})
    out: set[str] = set()

    def walk(node, prefix: str) -> None:
        for k, v in node.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict) and v and not is_dist(v):
                walk(v, key + ".")
            else:
                out.add(key)
    walk({k: v for k, v in data.items() if k != "defaults"}, "")
    return out


# fields of the add_noise effect a `noise.<field>=` override may set on the fitted recorder noise
NOISE_FIELDS = ("snr_db", "walk_sd_db", "bursts_per_min", "burst_db", "burst_dur_s", "crossfade_s", "shape_db", "p")


FITTED_CHANNEL = ("bandlimit", "limiter", "codec")   # the fitted stages a channel=<option> replaces


def command_line_stages(extra: dict, cfg: dict, cli: dict, gone) -> dict:
    """Make the command line win over the fitted recorder stages of ``extra`` (profile overrides): returns
    {group: what was replaced} for the card. ``cli``: the command line's keys and values (``gone``: deleted).
    A profile fitted per leg (stereo calls) has those stages in its legs' chains: they are treated alike."""
    channel = extra.get("channel") or {}
    recorder = list(channel.get("recorder") or [])
    legs = [{**leg, "chain": list(leg.get("chain") or [])} for leg in channel.get("legs") or []]
    chains = [recorder] + [leg["chain"] for leg in legs]
    if not any(chains):
        return {}
    where = "per-leg" if any(leg["chain"] for leg in legs) else "recorder"
    replaced: dict[str, str] = {}
    steps = lambda n: [(c, s) for c in chains for s in c if s.get("name") == n]  # noqa: E731
    noises = steps("add_noise")
    if noises and ("noise" in cli or (cli.get("noise.kind") not in (None, gone) and cli["noise.kind"] == "none")):
        for c, s in noises:
            c.remove(s)
        (extra.get("sources") or {}).pop("noise", None)
        sel = (cfg.get("noise") or {}).get("kind", "none")
        replaced["noise"] = (f"noise={sel}: the fitted {where} noise (add_noise at the fitted SNR, harvested noise "
                             "bank) was removed" + ("" if sel == "none" else "; the noise option's own noise is added"))
    elif noises:
        changed = [f for f in NOISE_FIELDS if f"noise.{f}" in cli and cli[f"noise.{f}"] is not gone]
        for f in changed:
            for _, noise in noises:
                noise[f] = copy.deepcopy(cli[f"noise.{f}"])
        if changed:
            replaced["noise"] = f"the fitted {where} noise takes " + ", ".join(f"noise.{f}" for f in changed)
    cals = steps("calibrate_level")
    if cals and "level" in cli:
        for c, s in cals + [(leg["chain"], s) for leg in legs for s in leg["chain"] if s.get("name") == "clipping"]:
            c.remove(s)
        extra.pop("level", None)
        replaced["level"] = "level=<option>: the fitted level (talker level and recorder calibration) was removed"
    elif cals and cli.get("level.speech_dbov") not in (None, gone):
        for _, cal in cals:
            cal["target_dbov"] = copy.deepcopy(cli["level.speech_dbov"])
        replaced["level"] = "level.speech_dbov sets the fitted recorder's level calibration too"
    if "channel" in cli:
        fitted_channel = list(dict.fromkeys(s["name"] for c in chains for s in c
                                            if s.get("name") in FITTED_CHANNEL))
        keep = lambda chain: [s for s in chain if s.get("name") not in FITTED_CHANNEL]  # noqa: E731
        kept = keep(recorder)
        option = copy.deepcopy(cfg.get("channel") or {})
        option["recorder"] = kept + list(option.get("recorder") or [])
        if where == "per-leg":
            option["legs"] = legs_with_kept(option.get("legs") or [],
                                            [{**leg, "chain": keep(leg["chain"])} for leg in legs])
        extra["channel"] = option
        kept_names = list(dict.fromkeys(s["name"] for c in [kept] + [keep(leg["chain"]) for leg in legs] for s in c))
        replaced["channel"] = (f"channel={option.get('name', '?')}: its legs and recorder replace the fitted "
                               f"{' and '.join(fitted_channel) or 'channel'}"
                               + (f"; the fitted {' and '.join(kept_names)} are kept" if kept_names else ""))
    else:
        channel["recorder"] = recorder
        if legs:
            channel["legs"] = legs
    return replaced


def legs_with_kept(option_legs: list[dict], fitted_legs: list[dict]) -> list[dict]:
    """A channel option's legs, each followed by the fitted stages a per-leg profile keeps for the leg of the
    same name (else at the same position). An option with fewer legs than the profile (one leg for any
    call) is repeated once per fitted leg, under the fitted leg's name, so each party keeps its own stages."""
    out = [copy.deepcopy(leg) for leg in option_legs]
    if len(out) < len(fitted_legs):
        base = out[-1] if out else {"chain": []}
        out = [{**copy.deepcopy(base), "name": leg["name"]} for leg in fitted_legs]
    by_name = {leg["name"]: leg["chain"] for leg in fitted_legs}
    for i, leg in enumerate(out):
        mine = by_name.get(leg.get("name"), fitted_legs[min(i, len(fitted_legs) - 1)]["chain"])
        leg["chain"] = list(leg.get("chain") or []) + copy.deepcopy(mine)
    return out


def apply_profile_file(cfg: dict, path: str | Path, cli_keys: list[str]) -> dict:
    """``cfg`` (composed with the command line) with the profile applied, then every key in ``cli_keys``
    (the keys the command line set) put back as the command line had it: the command line wins over the
    profile, group selections (``noise=none``) included, and over the fitted recorder stages of those groups
    (``command_line_stages``). The profile block lists those keys (``set_on_command_line``) and what they
    replaced (``replaced_on_command_line``) for the dataset card. A mixture profile (``mixture:``) applies each
    of its component profiles this way (synth.profiles.mixture)."""
    from ..config import check_keys

    data = load_profile(path)
    if "mixture" in data:
        return apply_mixture(cfg, path, data, cli_keys, apply_profile_file)
    gone = object()
    cli = {k: copy.deepcopy(get_dotted(cfg, k, gone)) for k in cli_keys if k != "profile"}
    if "fitted" in data and "scenario" not in cli:  # the fitted scenario (RTTMs of calls or meetings)
        kind = scenario_of(data["fitted"] or {})
        if kind != (cfg.get("scenario") or {}).get("name", "single_talker"):
            cfg["scenario"] = scenario_config(kind)
    extra = profile_overrides(path, cfg.get("scenario"))
    check_keys(extra, f"profile file {path}")
    replaced = command_line_stages(extra, cfg, cli, gone) if "fitted" in data else {}
    if "channel" in replaced:  # the option, with the fitted stages it keeps, is what the command line asked for
        cli["channel"] = copy.deepcopy(extra["channel"])
    if "room" in cli and "room" in extra and "fitted" in data and (extra["room"] or {}).get("kind") != "none":
        replaced["room"] = f"room={(cfg.get('room') or {}).get('kind', '?')}: replaces the fitted room"
    for key in ("channel", "room"):  # a profile's channel and room replace the defaults whole
        if key in extra:
            cfg[key] = extra.pop(key)
    deep_update(cfg, extra)
    for key, value in cli.items():
        if value is gone:  # deleted on the command line (~key)
            *parent, last = key.split(".")
            node = get_dotted(cfg, ".".join(parent)) if parent else cfg
            if isinstance(node, dict):
                node.pop(last, None)
        else:
            set_dotted(cfg, key, value)
    if "scenario" in cli and extra.get("scenario"):
        # the profile's scenario keys (fitted turns, durations) were derived for the scenario the command line
        # selected, so a `scenario=<name>` selection keeps them; scenario.<key> on the command line still wins
        deep_update(cfg["scenario"], copy.deepcopy(extra["scenario"]))
        for key, value in cli.items():
            if key.startswith("scenario.") and value is not gone:
                set_dotted(cfg, key, value)
    cfg["profile"] = {**(cfg.get("profile") or {}), "set_on_command_line": sorted(cli)}
    if replaced:
        cfg["profile"]["replaced_on_command_line"] = replaced
    return cfg
