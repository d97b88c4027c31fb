"""Render a recipe into audio and labels. Pure: no RNG; the same recipe gives identical samples."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .audio import Audio, db_to_gain, resample
from .behavior.place import label_behavior, place_pieces
from .channel.base import build_effect


@dataclass
class Rendered:
    audio: np.ndarray                     # (T,) mono or (C, T)
    sr: int
    segments: list[dict]
    conditions: dict
    stems: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict)  # name -> (samples, sr)
    lost_spans: list[dict] = field(default_factory=list)                    # {"leg", "start", "end"}


def effect_of(step: dict, ctx=None):
    """The effect a recipe step names, built from its config (once per worker when ``ctx`` keeps them)."""
    if hasattr(ctx, "effect"):
        return ctx.effect(step)
    return build_effect({"name": step["name"], **(step.get("config") or {})})


def run_effects(audio: Audio, steps: list[dict], ctx, scope: str, stems: dict, conditions: dict,
                lost: list, speech: Audio | None = None, effects: list | None = None) -> tuple[Audio, Audio | None]:
    """Apply ``steps`` in order. The first effect to report a condition key names it; codec hops are
    also listed in order as ``codec_chain`` (e.g. ``amr_nb@12200>g711_ulaw>mp3@16000``).

    ``speech``: the same signal without anything additive (noise), run through the same non-additive
    effects alongside, so a ``calibrate_level`` step can measure the speech as it is recorded. Returns
    (audio, speech); speech stays None when not given. ``effects``: the steps' effects already built from
    their configs (the plan's), so a caller applying many recipes of one plan does not rebuild them."""
    hops = []
    for k, step in enumerate(steps):
        effect = effects[k] if effects is not None else effect_of(step, ctx)
        params = effect.params_from_dict(step["params"])
        before = audio
        if effect.additive and getattr(params, "applied", True) is not False:
            comp = effect.component(audio, params, ctx)
            stems[f"{step['name']}_{scope}"] = (comp, audio.sr)
            audio = audio.with_samples(audio.samples + comp)
        elif getattr(effect, "calibrates", False) and getattr(params, "applied", True) is not False:
            gain_db = effect.gain_db(speech if speech is not None else audio, params)
            conditions.setdefault("calibration_gain_db", round(gain_db, 3))
            audio = audio.with_samples(audio.samples * db_to_gain(gain_db))
            speech = speech.with_samples(speech.samples * db_to_gain(gain_db)) if speech is not None else None
        else:
            audio = effect.apply(audio, params, ctx)
            speech = effect.apply(speech, params, ctx) if speech is not None else None
        summary = effect.summary(params)
        for k, v in {**summary, **effect.realized(before, audio, params)}.items():
            conditions.setdefault(k, v)
        if summary.get("codec"):
            bitrate = summary.get("bitrate_bps")
            hops.append(f"{summary['codec']}@{bitrate}" if bitrate else str(summary["codec"]))
        lost.extend(effect.lost_spans(params))
    if hops:
        conditions["codec_chain"] = ">".join(hops)
    return audio, speech


def calibrates(steps: list[dict]) -> bool:
    return any(s["name"] == "calibrate_level" for s in steps)


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


def render(recipe: dict, ctx) -> Rendered:
    """A recipe's audio, stems, labels and conditions: each talker's placed utterances through their effects
    (room, level), each leg's talkers summed through its effects in order, then ``mono`` (legs summed) or
    ``stereo`` (a channel per leg). Effects keep time alignment: segment times are the placement times."""
    sr = int(recipe["sample_rate"])
    n = int(round(recipe["duration_s"] * sr))
    stems: dict = {}
    talker_conditions: dict[str, dict] = {}
    tracks: dict[str, Audio] = {}
    for t in recipe["talkers"]:
        dry = np.zeros(n, dtype=np.float32)
        for u in t["utterances"]:
            if (u.get("behavior") or {}).get("pieces"):
                place_pieces(dry, u, ctx, sr)  # restarts, repetitions, pauses, fillers (synth.behavior)
                continue
            src = ctx.load(u["path"], sr)
            seg = src[int(round(u["src_start_s"] * sr)): int(round(u["src_end_s"] * sr))]
            at = int(round(u["start_s"] * sr))
            seg = seg[: max(0, n - at)]
            dry[at: at + len(seg)] += seg
        cond: dict = {}
        track, _ = run_effects(Audio(dry, sr), t["effects"], ctx, t["label"], stems, cond, [])
        tracks[t["label"]] = track
        stems[f"speech_{t['label']}"] = (track.samples, sr)
        talker_conditions[t["label"]] = cond

    leg_conditions: dict[str, dict] = {}
    leg_audio: list[Audio] = []
    leg_speech: list[Audio | None] = []
    lost_spans: list[dict] = []
    shadow = any(calibrates(leg["effects"]) for leg in recipe["legs"]) or calibrates(recipe.get("recorder") or [])
    for i, leg in enumerate(recipe["legs"]):
        mix = np.zeros(n, dtype=np.float32)
        on_leg = [tracks[t["label"]] for t in recipe["talkers"] if t["leg"] == i]
        for track in on_leg:
            mix += track.samples
        meter = on_leg[0].meter if len(on_leg) == 1 else None  # a lone talker's mix is its track, sample for sample
        cond, lost = {}, []
        a, s = run_effects(Audio(mix, sr, meter), leg["effects"], ctx, leg["name"], stems, cond, lost,
                           speech=Audio(mix.copy(), sr) if shadow else None)
        leg_audio.append(a)
        leg_speech.append(s)
        leg_conditions[leg["name"]] = cond
        lost_spans += [{"leg": i, "start": float(a), "end": float(b)} for a, b in lost]

    out = recipe.get("output") or {}
    out_sr = int(out.get("sample_rate") or leg_audio[0].sr)
    n_out = int(round(recipe["duration_s"] * out_sr))
    legs = [fit_length(resample(a.samples, a.sr, out_sr), n_out) for a in leg_audio]
    stereo = out.get("layout", "mono") == "stereo" and len(legs) > 1
    channels = legs if stereo else [legs[0] if len(legs) == 1 else np.sum(legs, axis=0)]
    conditions = merge_conditions(talker_conditions, leg_conditions)
    if recipe.get("recorder"):
        speech_ch = [None] * len(channels)
        if shadow:
            sp = [fit_length(resample(a.samples, a.sr, out_sr), n_out) for a in leg_speech]
            speech_ch = sp if stereo else [np.sum(sp, axis=0)]
        channels = record(channels, speech_ch, recipe["recorder"], ctx, out_sr, n_out, conditions)
    audio = np.stack(channels) if stereo else channels[0]
    segments = label_segments(recipe, lost_spans, stereo=stereo)
    return Rendered(audio=np.asarray(audio, dtype=np.float32), sr=out_sr, segments=segments, conditions=conditions,
                    stems=stems, lost_spans=lost_spans)


def record(channels: list[np.ndarray], speech: list[np.ndarray | None], steps: list[dict], ctx, sr: int, n: int,
           conditions: dict, effects: list | None = None) -> list[np.ndarray]:
    """The recorder stage: ``steps`` (one draw for the call) on every stored channel at ``sr`` Hz, each
    with its noise-free shadow in ``speech`` (or None), returned ``n`` samples long at ``sr``. Its
    conditions go to ``conditions["recorder"]``; a calibrated level (the level as recorded) and its
    codec hops are lifted to the item's ``speech_level_dbov`` and ``codec_chain``."""
    rec: dict = {}
    out = []
    for ch, s in zip(channels, speech):
        a, _ = run_effects(Audio(ch, sr), steps, ctx, "recorder", {}, rec, [],
                           speech=Audio(s, sr) if s is not None else None, effects=effects)
        out.append(fit_length(resample(a.samples, a.sr, sr), n))
    conditions["recorder"] = rec
    if "speech_level_dbov" in rec and calibrates(steps):
        conditions["speech_level_dbov"] = rec["speech_level_dbov"]
    if "codec_chain" in rec:
        conditions["codec_chain"] = ">".join(filter(None, [conditions.get("codec_chain"), rec["codec_chain"]]))
    return out


def merge_conditions(talkers: dict[str, dict], legs: dict[str, dict]) -> dict:
    """Flat conditions for single-talker, single-leg items; per-talker/per-leg blocks always kept."""
    flat: dict = {}
    for block in list(talkers.values())[:1] + list(legs.values())[:1]:
        flat.update(block)
    if len(talkers) > 1 or len(legs) > 1:
        flat["talkers"] = talkers
        flat["legs"] = legs
    return flat


def label_segments(recipe: dict, lost_spans: list[dict], stereo: bool) -> list[dict]:
    segs = []
    for t in recipe["talkers"]:
        for u in t["utterances"]:
            start = float(u["start_s"])
            end = min(start + float(u["src_end_s"]) - float(u["src_start_s"]), float(recipe["duration_s"]))
            seg = {"speaker": t["label"], "source_speaker": t["source_speaker"], "role": t.get("role"),
                   "channel": t["leg"] if stereo else 0, "start": round(start, 4), "end": round(end, 4),
                   "text": u["text"], "overlap": False, "truncated": bool(u.get("truncated")),
                   "backchannel": bool(u.get("backchannel")), "source_id": u["source_id"],
                   "lost": _lost(u, start, t["leg"], lost_spans)}
            if u.get("words"):  # word times moved from the source file onto the item's timeline
                offs = start - float(u["src_start_s"])
                seg["words"] = [{"word": w["word"], "start": round(w["start"] + offs, 4), "end": round(w["end"] + offs, 4)}
                                for w in u["words"] if w["end"] <= float(u["src_end_s"]) + 1e-6]
            if "behavior" in u:
                label_behavior(seg, u, start, float(recipe["duration_s"]))
            if u.get("partial_word"):
                seg["partial_word"] = u["partial_word"]  # cut mid-word by the interruption: not in `text`
            segs.append(seg)
    segs.sort(key=lambda s: (s["start"], s["speaker"]))
    for a in segs:
        a["overlap"] = any(b is not a and b["speaker"] != a["speaker"] and b["start"] < a["end"] and a["start"] < b["end"]
                           for b in segs)
    return segs


def _lost(u: dict, start: float, leg: int, lost_spans: list[dict]) -> bool:
    """True if audio of this utterance's words fell into a packet-loss span on its leg."""
    spans = [(s["start"], s["end"]) for s in lost_spans if s["leg"] == leg]
    if not spans:
        return False
    if (u.get("behavior") or {}).get("words"):  # the words as placed, restarts and repetitions included
        words = [(w["start"] + start, w["end"] + start) for w in u["behavior"]["words"]]
    elif u.get("words"):
        offs = start - float(u["src_start_s"])
        words = [(w["start"] + offs, w["end"] + offs) for w in u["words"]]
    else:
        words = [(start, start + float(u["src_end_s"]) - float(u["src_start_s"]))]
    return any(a < we and ws < b for ws, we in words for a, b in spans)
