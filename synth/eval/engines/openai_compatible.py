"""``asr=openai_compatible``: a self-hosted server implementing OpenAI's audio transcription endpoint."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from ...audio import load
from ...errors import SynthError
from . import Engine, register
from ._audio import wav_bytes


def _multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes, ctype: str):
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@register("openai_compatible")
class OpenAICompatibleEngine(Engine):
    """A self-hosted server implementing OpenAI's ``POST /v1/audio/transcriptions`` (multipart form:
    ``file``, ``model``, ``language``, ``response_format=json``); reads ``text`` from the JSON reply.
    Uploads a 16-bit mono WAV at ``sample_rate`` (16 kHz by default; 0 = the original file unchanged).
    Uses urllib only. Per-speaker ``speakers``/``segments`` in the reply are passed through."""

    needs = "url"

    def transcribe(self, audio_path: Path, item: dict) -> dict:
        s = self.spec
        sr = 16000 if s.sample_rate is None else s.sample_rate
        if sr:
            data, name, ctype = wav_bytes(load(audio_path, sr), sr), Path(audio_path).stem + ".wav", "audio/wav"
        else:
            data, name = Path(audio_path).read_bytes(), Path(audio_path).name
            ctype = {"flac": "audio/flac", "wav": "audio/wav"}.get(name.rsplit(".", 1)[-1], "application/octet-stream")
        fields = {"model": s.model or "default", "response_format": "json"}
        if s.language:
            fields["language"] = s.language
        fields.update({str(k): str(v) for k, v in (s.extra or {}).items()})
        body, content_type = _multipart(fields, "file", name, data, ctype)
        req = urllib.request.Request(s.url, data=body, method="POST", headers={"Content-Type": content_type})
        if s.api_key_env and os.environ.get(s.api_key_env):
            req.add_header("Authorization", f"Bearer {os.environ[s.api_key_env]}")
        try:
            with urllib.request.urlopen(req, timeout=s.timeout_s) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as e:
            raise SynthError(f"asr.url={s.url} answered HTTP {e.code} for {audio_path}: "
                             f"{e.read()[:200].decode('utf-8', 'replace').strip()}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise SynthError(f"asr.url={s.url} not reachable ({reason}); is the server running?") from None
        try:
            out = json.loads(payload)
            text = out["text"]
        except (ValueError, KeyError, TypeError):
            raise SynthError(f"asr.url={s.url} did not return JSON with a 'text' field for {audio_path}") from None
        hyp = {"text": str(text).strip()}
        for k in ("speakers", "segments"):
            if out.get(k):
                hyp[k] = out[k]
        return hyp
