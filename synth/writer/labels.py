"""Label files for a whole set: RTTM (diarization) and CTM (word times, when alignments are known)."""

from __future__ import annotations


def rttm_lines(item: dict) -> list[str]:
    """``SPEAKER <id> <chan> <start> <dur> <NA> <NA> <speaker> <NA> <NA>`` per segment (NIST RTTM)."""
    out = []
    for s in item["segments"]:
        out.append(f"SPEAKER {item['id']} {s.get('channel', 0) + 1} {s['start']:.3f} {s['end'] - s['start']:.3f} "
                   f"<NA> <NA> {s['speaker']} <NA> <NA>")
    return out


def ctm_lines(item: dict) -> list[str]:
    """``<id> <chan> <start> <dur> <word>`` for segments whose source had word alignments."""
    out = []
    for s in item["segments"]:
        for w in s.get("words") or []:
            out.append(f"{item['id']} {s.get('channel', 0) + 1} {w['start']:.3f} {w['end'] - w['start']:.3f} {w['word']}")
    return out


def seglst(items: list[dict]) -> list[dict]:
    """Per-speaker reference segments in meeteval's SegLST format (``meeteval-wer cpwer -r <this>``)."""
    return [{"session_id": it["id"], "speaker": s["speaker"], "start_time": s["start"], "end_time": s["end"],
             "words": s["text"]} for it in items for s in it["segments"]]


def stm_lines(item: dict) -> list[str]:
    """NIST STM: ``<file> <channel> <speaker> <start> <end> <transcript>``, sorted by start time."""
    return [f"{item['id']} {s.get('channel', 0) + 1} {s['speaker']} {s['start']:.3f} {s['end']:.3f} {s['text']}"
            for s in sorted(item["segments"], key=lambda s: (s["start"], s["speaker"]))]
