"""Real recordings next to a synthetic set (``synth eval <set> --real <refs>``): the same engine and normalizer
on both, WERs side by side with the ratio and its 95% interval (independent bootstrap resamples of the two
item sets), per value of the slice keys they share, and term recall / TER with ``terms=``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..audio import text_lines
from ..errors import BadInput
from ..profiles.fit import AUDIO_EXTS
from ..rng import item_rng
from ..sources.schema import read_rows
from .engines import EngineSpec, engine_key
from .metrics import SummaryConfig, bootstrap_ratio, interval, score_item, summarize_group
from .normalize import NormalizerConfig
from .run import transcribe_all


def read_nemo(path: Path) -> list[dict]:
    items = []
    for where, row in read_rows(path):
        if "audio_filepath" not in row or "text" not in row:
            raise BadInput(where, "has no audio_filepath and text", "give a NeMo manifest (audio_filepath, text)")
        audio = Path(row["audio_filepath"])
        audio = audio if audio.is_absolute() else path.parent / audio
        meta = {k: v for k, v in row.items() if k not in NEMO_KEYS and isinstance(v, (str, int, float, bool))}
        items.append({"id": str(row.get("id") or audio.stem), "audio_filepath": str(audio), "text": str(row["text"]),
                      "duration": row.get("duration"), "meta": meta})
    return items


NEMO_KEYS = ("audio_filepath", "text", "duration", "id", "offset", "text_verbatim")  # not slice metadata


def read_stm(path: Path) -> list[dict]:
    segs: dict[str, list[tuple[float, str]]] = {}
    for n, line in enumerate(text_lines(path), 1):
        if not line.strip() or line.startswith(";;"):
            continue
        f = line.split()
        if len(f) < 5:
            raise BadInput(path, f"line {n} has fewer than 5 fields", "STM lines: <file> <chan> <speaker> <start> <end> text")
        try:
            start = float(f[3])
        except ValueError:
            raise BadInput(path, f"line {n}: start time {f[3]!r} is not a number", "fix the STM line") from None
        words = f[5:]
        if words and words[0].startswith("<") and words[0].endswith(">"):
            words = words[1:]  # the optional <label> field
        text = " ".join(words)
        if "ignore_time_segment_in_scoring" in text:
            continue
        segs.setdefault(f[0], []).append((start, text))
    items = []
    for name, rows in segs.items():
        audio = next((path.parent / f"{name}{e}" for e in sorted(AUDIO_EXTS) if (path.parent / f"{name}{e}").is_file()), None)
        if audio is None:
            raise BadInput(path, f"names recording {name!r} but no {name}.wav/.flac/... is beside it",
                           "put the audio next to the STM")
        items.append({"id": name, "audio_filepath": str(audio), "text": " ".join(t for _, t in sorted(rows)),
                      "duration": None})
    return items


def read_real(path: str | Path) -> list[dict]:
    """Real items (id, absolute audio_filepath, text) from a NeMo manifest or an STM file.

    NeMo (``.jsonl`` / ``.json``): one object per line with ``audio_filepath`` (absolute or relative to the
    manifest's folder) and ``text``, ``id`` optional (default: the file's stem); its other keys (``device``,
    ``gender``...) are kept as metadata, and each one the synthetic items also carry as a slice label (a set
    built from a ``synth fit --by device`` mixture has ``slice.device``) is reported per value. STM (``.stm``,
    NIST ``<file> <channel> <speaker> <start> <end> [<label>] <text>``): one item per file, the segments'
    words in time order (``ignore_time_segment_in_scoring`` left out), audio ``<file>.<wav|flac|...>``
    beside it. The real items are transcribed (cached under ``<cache>/real/<engine key>``) and scored exactly
    like the synthetic ones; their block is marked ``"real": true`` and the report labels it REAL."""
    p = Path(path)
    if not p.is_file():
        raise BadInput(p, "not found", "give --real a NeMo manifest (.jsonl) or an STM file")
    items = read_stm(p) if p.suffix.lower() == ".stm" else read_nemo(p)
    if not items:
        raise BadInput(p, "lists no recordings", "give at least one recording with its reference")
    for it in items:
        if not Path(it["audio_filepath"]).is_file():
            raise BadInput(p, f"recording {it['audio_filepath']} does not exist", "fix the audio path")
        it["slice"] = {"data": "REAL"}
    return items


def evaluate_real(path: str | Path, engine: EngineSpec, cache_dir: Path, workers: int = 1,
                  normalizer: NormalizerConfig | None = None, summary: SummaryConfig | None = None,
                  show_progress: bool = True) -> dict:
    """Transcribe (cached) and score real recordings with the synthetic set's engine and normalizer."""
    items = read_real(path)
    audio = {str(it["id"]): Path(it["audio_filepath"]) for it in items}  # absolute, checked by read_real
    hyps, _ = transcribe_all(audio, items, engine, Path(cache_dir) / "real" / engine_key(engine) / "hyps",
                             workers, show_progress)
    norm = normalizer or NormalizerConfig()
    scored = [{**score_item(it, hyps[it["id"]], norm), "meta": it.get("meta") or {}} for it in items]
    return {"real": True, "source": str(Path(path).resolve()), "n_items": len(items),
            "summary": summarize_group("REAL", scored, summary or SummaryConfig()), "items": scored}


def side_by_side(real_items: list[dict], synth_items: list[dict], cfg: SummaryConfig) -> dict:
    """Real and synthetic corpus WER and their ratio (real / synthetic) with a 95% bootstrap interval."""
    def side(items, stage):
        e = [it["wer"]["errors"] for it in items]
        n = [it["wer"]["ref_words"] for it in items]
        wer = sum(e) / sum(n) if sum(n) else None
        return wer, bootstrap_ratio(e, n, item_rng(cfg.seed, "real-vs-synthetic", stage), cfg.n_boot)

    real_wer, real_reps = side(real_items, "real")
    syn_wer, syn_reps = side(synth_items, "synthetic")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio_reps = np.where(syn_reps > 0, real_reps / np.where(syn_reps > 0, syn_reps, 1), np.nan)
    return {"real_wer": real_wer, "real_wer_ci": interval(real_reps, cfg.level), "synthetic_wer": syn_wer,
            "synthetic_wer_ci": interval(syn_reps, cfg.level),
            "ratio": real_wer / syn_wer if real_wer is not None and syn_wer else None,
            "ratio_ci": interval(ratio_reps, cfg.level),
            "note": "ratio = real WER / synthetic WER; intervals from independent bootstrap resamples of items"}


def shared_keys(real_items: list[dict], synth_items: list[dict]) -> list[str]:
    """Metadata keys of the real recordings that are also slice labels of the synthetic items."""
    real = {k for it in real_items for k in (it.get("meta") or {})}
    syn = {k for it in synth_items for k in (it.get("slice_labels") or {})}
    return sorted(real & syn)


def by_slice(real_items: list[dict], synth_items: list[dict], cfg: SummaryConfig) -> dict:
    """{key: {value: side_by_side(...) + item counts}} for every shared key (``shared_keys``) and every value
    both sides have."""
    out: dict = {}
    for key in shared_keys(real_items, synth_items):
        real_v: dict[str, list] = {}
        syn_v: dict[str, list] = {}
        for it in real_items:
            if key in (it.get("meta") or {}):
                real_v.setdefault(str(it["meta"][key]), []).append(it)
        for it in synth_items:
            if key in (it.get("slice_labels") or {}):
                syn_v.setdefault(str(it["slice_labels"][key]), []).append(it)
        sub = {}
        for value in sorted(set(real_v) & set(syn_v)):
            sub[value] = {"n_real": len(real_v[value]), "n_synthetic": len(syn_v[value]),
                          **side_by_side(real_v[value], syn_v[value], SummaryConfig(
                              cfg.seed + hash_value(f"{key}={value}"), cfg.n_boot, cfg.level))}
        if sub:
            out[key] = sub
    return out


def hash_value(text: str) -> int:
    """A small stable offset for per-slice bootstrap seeds (so slices do not share resamples)."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "little")


def add_terms(results: dict, terms: list, cfg: SummaryConfig) -> None:
    """Term recall / TER on the real recordings (``real.summary.terms``) and, per value of the shared slice
    keys, real next to synthetic (``real_vs_synthetic.terms_by``)."""
    from .metrics import summarize_terms

    real = results["real"]
    real["summary"]["terms"] = summarize_terms(real["items"], terms, cfg)
    keys = shared_keys(real["items"], results["items"])
    if not keys:
        return
    if not all("terms" in it for it in results["items"]):
        summarize_terms(results["items"], terms, cfg)
    out: dict = {}
    for key in keys:
        for value in (results["real_vs_synthetic"].get("by") or {}).get(key, {}):
            r = [it for it in real["items"] if str((it.get("meta") or {}).get(key)) == value]
            s_ = [it for it in results["items"] if str((it.get("slice_labels") or {}).get(key)) == value]
            out.setdefault(key, {})[value] = {"real": summarize_terms(r, terms, cfg)["overall"],
                                              "synthetic": summarize_terms(s_, terms, cfg)["overall"]}
    results["real_vs_synthetic"]["terms_by"] = out


def add_real(results: dict, path: str | Path, engine: EngineSpec, cache_dir: Path, workers: int,
             normalizer: NormalizerConfig, summary: SummaryConfig, terms: list | None = None) -> dict:
    """``results`` of a synthetic set with the REAL block and the side-by-side comparison added, and
    results.json rewritten with them."""
    from ..audio import atomic_write_text

    real = evaluate_real(path, engine, cache_dir, workers, normalizer, summary)
    results["real"] = real
    results["real_vs_synthetic"] = side_by_side(real["items"], results["items"], summary)
    per = by_slice(real["items"], results["items"], summary)
    if per:
        results["real_vs_synthetic"]["by"] = per
    if terms:
        add_terms(results, terms, summary)
    out = Path(results["out_dir"])
    atomic_write_text(out / "results.json", json.dumps({k: v for k, v in results.items() if k != "out_dir"},
                                                       ensure_ascii=False, indent=1))
    return results


def side_by_side_lines(results: dict) -> list[str]:
    c = results["real_vs_synthetic"]
    pct = lambda x: "-" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    ci = lambda v, f=pct: "" if not v else f" [{f(v[0])}, {f(v[1])}]"  # noqa: E731
    num = lambda x: f"{x:.2f}"  # noqa: E731
    lines = [f"REAL recordings ({results['real']['n_items']}, {results['real']['source']}): WER {pct(c['real_wer'])}"
             f"{ci(c['real_wer_ci'])}",
             f"SYNTHETIC set ({len(results['items'])} items): WER {pct(c['synthetic_wer'])}{ci(c['synthetic_wer_ci'])}",
             "real / synthetic WER ratio: " + ("-" if c["ratio"] is None else num(c["ratio"]))
             + ci(c["ratio_ci"], num)]
    for key, vals in (c.get("by") or {}).items():
        for value, v in vals.items():
            lines.append(f"  {key}={value}: REAL {pct(v['real_wer'])} ({v['n_real']} items), SYNTHETIC "
                         f"{pct(v['synthetic_wer'])} ({v['n_synthetic']} items), ratio "
                         + ("-" if v["ratio"] is None else num(v["ratio"])) + ci(v["ratio_ci"], num))
    t = (results["real"]["summary"] or {}).get("terms")
    if t:
        o = t["overall"]
        lines.append(f"REAL terms: recall {pct(o['recall'])}, TER {pct(o['ter'])}{ci(o['ter_ci'])} "
                     f"({o['ref']} term occurrences)")
    for key, vals in (c.get("terms_by") or {}).items():
        for value, v in vals.items():
            lines.append(f"  {key}={value}: term recall REAL {pct(v['real']['recall'])} / SYNTHETIC "
                         f"{pct(v['synthetic']['recall'])}, TER REAL {pct(v['real']['ter'])} / SYNTHETIC "
                         f"{pct(v['synthetic']['ter'])}")
    return lines
