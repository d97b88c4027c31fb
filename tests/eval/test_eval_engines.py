"""Engines without a model (command, hypotheses, a loopback OpenAI-compatible stub) and pocketsphinx on
real speech."""

from __future__ import annotations

import email
import io
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from evalsets import write_hyps, write_set
from synth.audio import load
from synth.errors import BadInput, ConfigError, SynthError
from synth.eval.engines import EngineSpec, build_engine, engine_key
from synth.eval.run import evaluate


def script(tmp_path: Path, body: str) -> str:
    p = tmp_path / "asr.py"
    p.write_text(body)
    return f"{sys.executable} {p} {{audio}}"


def test_command_engine_prints_fixed_text(tmp_path):
    cmd = script(tmp_path, "import sys\nprint('  Go forward\\n 10 meters. ')\n")
    eng = build_engine(EngineSpec(name="command", command=cmd))
    assert eng.transcribe(tmp_path / "whatever.flac", {"id": "a"}) == {"text": "Go forward 10 meters."}


def test_command_engine_gets_converted_audio_when_asked(tmp_path):
    """Stereo 8 kHz item -> the program receives a mono 16 kHz WAV when asr.sample_rate=16000."""
    sr = 8000
    t = np.arange(sr) / sr
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 300 * t), 0.3 * np.sin(2 * np.pi * 300 * t)])
    set_dir = write_set(tmp_path / "set", [{"id": "st", "text": "x", "audio": stereo, "sr": sr}])
    cmd = script(tmp_path, "import sys, soundfile as sf\ni = sf.info(sys.argv[1])\n"
                           "print(i.samplerate, i.channels, i.format)\n")
    orig = build_engine(EngineSpec(name="command", command=cmd))
    assert orig.transcribe(set_dir / "audio/st.flac", {"id": "st"})["text"] == "8000 2 FLAC"
    conv = build_engine(EngineSpec(name="command", command=cmd, sample_rate=16000))
    assert conv.transcribe(set_dir / "audio/st.flac", {"id": "st"})["text"] == "16000 1 WAV"


def test_command_engine_errors_are_one_line(tmp_path):
    cmd = script(tmp_path, "import sys\nsys.stderr.write('model exploded\\n')\nsys.exit(3)\n")
    with pytest.raises(SynthError, match="exited 3 .*model exploded"):
        build_engine(EngineSpec(name="command", command=cmd)).transcribe(tmp_path / "a.flac", {"id": "a"})
    with pytest.raises(ConfigError, match="placeholder"):
        build_engine(EngineSpec(name="command", command="echo hi"))
    with pytest.raises(ConfigError, match="not found"):
        build_engine(EngineSpec(name="command", command="/nonexistent/asr {audio}")).transcribe(Path("a"), {})
    with pytest.raises(ConfigError, match="asr.command"):
        EngineSpec(name="command")


def test_hypotheses_engine(tmp_path):
    p = write_hyps(tmp_path / "h.jsonl", {"a": "hello world", "b": ""})
    eng = build_engine(EngineSpec(name="hypotheses", hypotheses=str(p)))
    assert eng.transcribe(Path("x"), {"id": "a"}) == {"text": "hello world"}
    assert eng.transcribe(Path("x"), {"id": "b"}) == {"text": ""}
    with pytest.raises(BadInput, match="no hypothesis for item 'c'"):
        eng.transcribe(Path("x"), {"id": "c"})
    (tmp_path / "bad.jsonl").write_text('{"text": "no id"}\n')
    with pytest.raises(BadInput, match="line 1"):
        build_engine(EngineSpec(name="hypotheses", hypotheses=str(tmp_path / "bad.jsonl")))
    # the cache key follows the file's content, so edited hypotheses are never served stale
    k1 = engine_key(EngineSpec(name="hypotheses", hypotheses=str(p)))
    write_hyps(p, {"a": "hello there"})
    assert engine_key(EngineSpec(name="hypotheses", hypotheses=str(p))) != k1


class _Stub(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        msg = email.message_from_bytes(b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        fields, audio = {}, None
        for part in msg.get_payload():
            name = part.get_param("name", header="content-disposition")
            if name == "file":
                audio = part.get_payload(decode=True)
            else:
                fields[name] = part.get_payload(decode=True).decode()
        x, sr = sf.read(io.BytesIO(audio))
        _Stub.received.append({"path": self.path, "fields": fields, "sr": sr, "ndim": x.ndim})
        if fields.get("model") == "broken":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal error")
            return
        out = json.dumps({"text": f"heard {len(x)} samples"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


@pytest.fixture
def stub_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    srv.timeout = 5
    th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    th.start()
    _Stub.received = []
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/v1/audio/transcriptions"
    finally:
        srv.shutdown()
        srv.server_close()
        th.join(timeout=5)


def test_openai_compatible_against_loopback_stub(tmp_path, stub_server):
    sr = 8000
    stereo = 0.1 * np.ones((2, sr // 2))
    set_dir = write_set(tmp_path / "set", [{"id": "a", "text": "heard 8000 samples", "audio": stereo, "sr": sr}])
    res = evaluate(set_dir, EngineSpec(name="openai_compatible", url=stub_server, model="my-model"),
                   show_progress=False)
    assert res["items"][0]["hyp"] == "heard 8000 samples"  # 0.5 s resampled to 16 kHz mono
    assert res["summary"]["overall"]["wer"] == 0.0
    rec = _Stub.received[0]
    assert rec["path"] == "/v1/audio/transcriptions" and rec["sr"] == 16000 and rec["ndim"] == 1
    assert rec["fields"]["model"] == "my-model" and rec["fields"]["language"] == "en"
    with pytest.raises(SynthError, match="HTTP 500"):
        build_engine(EngineSpec(name="openai_compatible", url=stub_server, model="broken")).transcribe(
            set_dir / "audio/a.flac", {"id": "a"})


def test_openai_compatible_unreachable_is_one_line(tmp_path, stub_server):
    set_dir = write_set(tmp_path / "set", [{"id": "a", "text": "x"}])
    dead = "http://127.0.0.1:9/v1/audio/transcriptions"  # discard port: nothing listens on loopback
    with pytest.raises(SynthError, match="not reachable"):
        build_engine(EngineSpec(name="openai_compatible", url=dead, timeout_s=5)).transcribe(
            set_dir / "audio/a.flac", {"id": "a"})


def test_pocketsphinx_on_real_speech(tmp_path, corpus_root):
    """Go forward ten meters (cmusphinx test file): WER below 0.5, also as 8 kHz stereo (downmixed,
    resampled to 16 kHz for the engine)."""
    x, sr = sf.read(corpus_root / "speech/cmusphinx_goforward/goforward.wav", dtype="float32")
    x8 = load(corpus_root / "speech/cmusphinx_goforward/goforward.wav", 8000)
    set_dir = write_set(tmp_path / "set", [
        {"id": "gf", "text": "go forward 10 meters", "audio": x, "sr": sr},
        {"id": "gf8", "text": "go forward 10 meters", "audio": np.stack([x8, x8]), "sr": 8000}])
    res = evaluate(set_dir, EngineSpec(name="pocketsphinx"), show_progress=False)
    by_id = {it["id"]: it for it in res["items"]}
    wer16 = by_id["gf"]["wer"]["errors"] / by_id["gf"]["wer"]["ref_words"]
    assert wer16 < 0.5, by_id["gf"]["hyp"]
    assert by_id["gf8"]["hyp"].strip()
