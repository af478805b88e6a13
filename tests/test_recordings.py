"""Recordings for human review (issue 12, section 4): the encoder, sealing, storage, consent and playback with Range.

Unit tests run the real encoder (PyAV: Opus, VP8, WebM), the real vault on a
real SQLite store and the real app over HTTP; the live test at the end runs a
real interview over WebRTC with the real models (slow).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import av
import numpy as np
import pytest
from starlette.testclient import TestClient

from db import Store
from recordings import (
    AnswerEncoder, LocalBlobStore, RangeNotSatisfiable, RecorderConfig, RecordingInfo, Recordings, byte_range, file_time_at,
)
from recordings.s3 import S3BlobStore
from server.app import create_app
from server.policy import PROFILES
from tests.helpers import HR_TOKEN, free_port, make_settings
from vault import LocalKeyWrapper

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
WEBM_MAGIC = bytes.fromhex("1A45DFA3")


def tone(seconds: float, freq: float = 440.0, start_sample: int = 0) -> list[np.ndarray]:
    """32 ms chunks of a 16 kHz sine, as the media layer hands them over."""
    n = int(seconds * 16_000) // 512
    t = (np.arange(n * 512) + start_sample) / 16_000
    samples = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return [samples[i * 512:(i + 1) * 512] for i in range(n)]


def decode(data: bytes) -> dict[str, Any]:
    """What a player sees in the file: streams, audio seconds (decoded), video frames."""
    with av.open(io.BytesIO(data)) as container:
        kinds = {s.type: s.codec_context.name for s in container.streams}
        has_video = "video" in kinds
    with av.open(io.BytesIO(data)) as container:
        audio_s = sum(f.samples for f in container.decode(audio=0)) / 48_000
    frames = 0
    if has_video:
        with av.open(io.BytesIO(data)) as container:
            frames = sum(1 for _ in container.decode(video=0))
    return {"kinds": kinds, "audio_s": audio_s, "frames": frames}


# -- the encoder -------------------------------------------------------------------------------------
def test_the_encoder_makes_a_webm_that_decodes_back_with_the_right_duration() -> None:
    enc = AnswerEncoder(video=True)
    media = 12.0
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    image[:, :320] = (200, 30, 30)
    for i, chunk in enumerate(tone(3.2)):
        t = media + i * 0.032
        enc.add_audio(chunk, t)
        if i % 6 == 0:  # ~5 fps, as the video sampler hands them over
            enc.add_video(image, t)
    out = enc.finish()
    assert out.data[:4] == WEBM_MAGIC
    got = decode(out.data)
    assert got["kinds"] == {"audio": "opus", "video": "vp8"}
    assert out.duration == pytest.approx(3.2, abs=0.04)
    assert got["audio_s"] == pytest.approx(out.duration, abs=0.03)
    assert got["frames"] >= 15 and out.kinds == ("audio", "video")
    assert out.segments == ((12.0, 0.0),)


def test_a_jump_in_media_time_starts_a_segment_and_quotes_map_into_the_file() -> None:
    enc = AnswerEncoder(video=False)
    for i, chunk in enumerate(tone(2.0)):
        enc.add_audio(chunk, 5.0 + i * 0.032)
    for i, chunk in enumerate(tone(1.0)):  # the candidate came back 30 s later
        enc.add_audio(chunk, 40.0 + i * 0.032)
    out = enc.finish()
    assert decode(out.data)["kinds"] == {"audio": "opus"}
    assert [s[0] for s in out.segments] == [5.0, 40.0]
    assert out.segments[1][1] == pytest.approx(1.984, abs=1e-3)
    assert file_time_at(out.segments, 6.5) == pytest.approx(1.5)
    assert file_time_at(out.segments, 40.5, out.duration) == pytest.approx(2.484, abs=1e-3)
    assert file_time_at(out.segments, 1.0) == 0.0  # before the answer: its start
    assert file_time_at(out.segments, 99.0, out.duration) == out.duration  # past it: its end


def test_byte_ranges() -> None:
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-", 100) == (0, 99)
    assert byte_range("bytes=10-19", 100) == (10, 19)
    assert byte_range("bytes=90-500", 100) == (90, 99)
    assert byte_range("bytes=-30", 100) == (70, 99)
    assert byte_range("bytes=0-1,5-6", 100) is None  # several: the whole
    assert byte_range("items=0-1", 100) is None
    with pytest.raises(RangeNotSatisfiable):
        byte_range("bytes=100-", 100)


# -- sealing and storage -------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'candor.db'}", master=LocalKeyWrapper(os.urandom(32)))
    yield s
    s.close()


async def record_answers(recordings: Recordings, session_id: str, answers: list[tuple[int, float, float]], *, video: bool = False) -> None:
    """Drive a recorder as a live session does: answer windows, 32 ms chunks on media time, frames at ~5 fps."""
    recordings.prepare(session_id)
    recorder = recordings.recorder(session_id, video=video)
    image = np.full((240, 320, 3), 90, dtype=np.uint8)
    for index, start, seconds in answers:
        recorder.answer_started(index, f"question-{index}-intro", start)
        for i, chunk in enumerate(tone(seconds)):
            recorder.push_audio(chunk, start + i * 0.032)
            if i % 6 == 0:
                recorder.push_video(image, start + i * 0.032)
            if i % 50 == 0:
                await asyncio.sleep(0)
        recorder.answer_ended(index, start + seconds)
    await recorder.aclose()


async def test_a_recording_is_sealed_before_it_touches_the_disk(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "recordings"
    recordings = Recordings(LocalBlobStore(root), store.vault)
    try:
        await record_answers(recordings, "sess-1", [(1, 10.0, 2.0), (2, 20.0, 1.5)], video=True)
    finally:
        recordings.close()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert [p.name for p in files] == ["answer-1.json.sealed", "answer-1.webm.sealed", "answer-2.json.sealed", "answer-2.webm.sealed"]
    for path in files:
        raw = path.read_bytes()
        assert raw[:3] == b"CV1" and WEBM_MAGIC not in raw and b"question-1-intro" not in raw  # a vault blob, no WebM, no plain entry
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "sess-1").stat().st_mode) == 0o700 and stat.S_IMODE(root.stat().st_mode) == 0o700
    assert not list(root.rglob(".*"))  # no temporary file left behind
    listed = recordings.list("sess-1")
    assert [(i.answer, i.question_id, i.kinds) for i in listed] == [(1, "question-1-intro", ("audio", "video")), (2, "question-2-intro", ("audio", "video"))]
    assert listed[0].start == 10.0 and listed[0].end == 12.0 and listed[0].duration == pytest.approx(1.984, abs=0.04)
    info, webm = recordings.read("sess-1", 2)
    assert webm[:4] == WEBM_MAGIC and decode(webm)["audio_s"] == pytest.approx(info.duration, abs=0.03)
    # a blob moved under another answer's name (or session's) does not open
    (root / "sess-1" / "answer-1.webm.sealed").write_bytes((root / "sess-1" / "answer-2.webm.sealed").read_bytes())
    with pytest.raises(Exception):
        recordings.read("sess-1", 1)


async def test_delete_recordings_removes_them_and_an_erased_key_leaves_nothing_readable(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "recordings"
    recordings = Recordings(LocalBlobStore(root), store.vault)
    try:
        await record_answers(recordings, "sess-a", [(1, 0.0, 1.0), (3, 5.0, 1.0)])
        await record_answers(recordings, "sess-b", [(1, 0.0, 1.0)])
        assert recordings.sessions() == ["sess-a", "sess-b"]
        store.vault.forget("sess-b")  # erasure forgets the key first: the files no longer open
        assert recordings.list("sess-b") == [] and recordings.read("sess-b", 1) is None
        assert recordings.delete_recordings("sess-a") == 2
        assert recordings.delete_recordings("sess-b") == 1
        assert recordings.delete_recordings("sess-b") == 0
        assert not any(p.is_file() for p in root.rglob("*")) and not (root / "sess-a").exists()
    finally:
        recordings.close()


async def test_an_answer_ending_after_the_session_was_erased_is_not_kept(tmp_path: Path, store: Store) -> None:
    recordings = Recordings(LocalBlobStore(tmp_path / "rec"), store.vault)
    try:
        recordings.prepare("sess-e")
        recorder = recordings.recorder("sess-e", video=False)
        recorder.answer_started(1, "q1", 0.0)
        for i, chunk in enumerate(tone(1.0)):
            recorder.push_audio(chunk, i * 0.032)
        store.vault.forget("sess-e")  # erased while the answer was on
        recorder.answer_ended(1, 1.0)
        await recorder.aclose()
        assert not (tmp_path / "rec" / "sess-e").exists()
        assert store.vault.data_key("sess-e", create=False) is None  # and no new key was made for it
    finally:
        recordings.close()


async def test_a_dropped_connection_goes_on_in_the_same_file_and_a_restart_keeps_the_first_part(tmp_path: Path, store: Store) -> None:
    recordings = Recordings(LocalBlobStore(tmp_path / "rec"), store.vault)
    try:
        recordings.prepare("sess-r")
        recorder = recordings.recorder("sess-r", video=False)
        recorder.answer_started(2, "q2", 10.0)
        for i, chunk in enumerate(tone(1.0)):
            recorder.push_audio(chunk, 10.0 + i * 0.032)
        recorder.answer_started(2, "q2", 55.0, resumed=True)  # the candidate came back: the same answer goes on
        for i, chunk in enumerate(tone(1.0)):
            recorder.push_audio(chunk, 55.0 + i * 0.032)
        recorder.answer_ended(2, 56.0)
        recorder.answer_started(3, "q3", 60.0)
        for i, chunk in enumerate(tone(1.0)):
            recorder.push_audio(chunk, 60.0 + i * 0.032)
        await recorder.aclose()  # the server stops mid-answer: what answer 3 had so far is kept
        first, second = recordings.list("sess-r")
        assert first.answer == 2 and [s[0] for s in first.segments] == [10.0, 55.0] and first.duration == pytest.approx(1.984, abs=1e-3)
        assert second.answer == 3 and second.end is None and second.duration == pytest.approx(0.992, abs=1e-3)
        # after the restart the answer resumes: the part stored before stays, nothing overwrites it
        again = recordings.recorder("sess-r", video=False)
        again.answer_started(3, "q3", 80.0, resumed=True)
        for i, chunk in enumerate(tone(2.0)):
            again.push_audio(chunk, 80.0 + i * 0.032)
        again.answer_ended(3, 82.0)
        await again.aclose()
        assert [(i.answer, i.duration) for i in recordings.list("sess-r")] == [(2, first.duration), (3, second.duration)]
    finally:
        recordings.close()


async def test_a_withdrawn_consent_drops_the_answer_being_recorded(tmp_path: Path, store: Store) -> None:
    recordings = Recordings(LocalBlobStore(tmp_path / "rec"), store.vault)
    try:
        recordings.prepare("sess-w")
        recorder = recordings.recorder("sess-w", video=False)
        recorder.answer_started(1, "q1", 0.0)
        for i, chunk in enumerate(tone(1.0)):
            recorder.push_audio(chunk, i * 0.032)
        await recorder.aclose(keep=False)
        assert recordings.list("sess-w") == [] and not (tmp_path / "rec" / "sess-w").exists()
    finally:
        recordings.close()


async def test_an_answer_longer_than_the_limit_is_cut_there(tmp_path: Path, store: Store) -> None:
    recordings = Recordings(LocalBlobStore(tmp_path / "rec"), store.vault, RecorderConfig(max_answer_s=1.0))
    try:
        await record_answers(recordings, "sess-l", [(1, 0.0, 3.0)])
        (info,) = recordings.list("sess-l")
        assert info.duration == pytest.approx(1.0, abs=0.04)
    finally:
        recordings.close()


# -- the API: list, play with Range, audit, consent scope ---------------------------------------------------
@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, recordings_dir=tmp_path / "recordings")
    app = create_app(settings, load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def _session(client: TestClient) -> dict[str, Any]:
    response = client.post("/v1/sessions", json={}, headers=HR)
    assert response.status_code == 201, response.text
    return response.json()


def _record(client: TestClient, session_id: str, answer: int = 1, seconds: float = 4.0) -> bytes:
    enc = AnswerEncoder()
    for i, chunk in enumerate(tone(seconds)):
        enc.add_audio(chunk, 30.0 + i * 0.032)
    out = enc.finish()
    info = RecordingInfo(session_id, answer, "q_intro", 30.0, 30.0 + seconds, out.duration, out.kinds, out.segments, len(out.data), "2026-01-01T00:00:00+00:00")
    client.app.state.candor.recordings.prepare(session_id)
    client.app.state.candor.recordings.store(info, out.data)
    return out.data


def test_hr_lists_and_plays_an_answer_with_range_requests_and_each_playback_is_audited(client: TestClient) -> None:
    session = _session(client)
    sid = session["id"]
    assert client.get(f"/v1/sessions/{sid}/recordings", headers=HR).json()["recordings"] == []
    webm = _record(client, sid)
    listed = client.get(f"/v1/sessions/{sid}/recordings", headers=HR)
    assert listed.status_code == 200
    (entry,) = listed.json()["recordings"]
    assert entry["answer"] == 1 and entry["question_id"] == "q_intro" and entry["kinds"] == ["audio"]
    assert entry["media_type"] == "audio/webm" and entry["url"] == f"/v1/sessions/{sid}/recordings/1"
    assert entry["segments"] == [[30.0, 0.0]] and entry["duration"] == pytest.approx(4.0, abs=0.04)

    whole = client.get(entry["url"], headers=HR)
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/webm"
    assert whole.headers["accept-ranges"] == "bytes" and whole.content == webm
    start = client.get(entry["url"], headers={**HR, "Range": "bytes=0-"})  # how Chromium starts playing
    assert start.status_code == 206 and start.content == webm
    part = client.get(entry["url"], headers={**HR, "Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == webm[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(webm)}"
    tail = client.get(entry["url"], headers={**HR, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == webm[-10:]
    past = client.get(entry["url"], headers={**HR, "Range": f"bytes={len(webm)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(webm)}"
    assert past.headers["content-type"].startswith("application/problem+json")

    assert client.get(entry["url"]).status_code == 401
    assert client.get(f"/v1/sessions/{sid}/recordings").status_code == 401
    assert client.get(f"/v1/sessions/{sid}/recordings/2", headers=HR).status_code == 404
    assert client.get(f"/v1/sessions/{sid}/recordings/x1", headers=HR).status_code == 404
    assert client.get("/v1/sessions/nope/recordings", headers=HR).status_code == 404

    # two playbacks (from byte 0), not one entry per seek
    audit = client.get("/v1/audit", params={"action": "recording.played"}, headers=HR).json()
    entries = audit["entries"]
    assert len(entries) == 2, audit
    assert all(e["target_id"] == sid and e["details"] == {"answer": 1} for e in entries), entries


def test_erasing_the_candidate_deletes_their_recordings_files(client: TestClient, tmp_path: Path) -> None:
    candidate = client.post("/v1/candidates", json={"profile": {"name": "录音测试"}}, headers=HR)
    assert candidate.status_code == 201, candidate.text
    cid = candidate.json()["id"]
    session = client.post("/v1/sessions", json={"candidate_id": cid}, headers=HR).json()
    other = _session(client)
    _record(client, session["id"])
    _record(client, other["id"])
    folder = tmp_path / "recordings"
    assert (folder / session["id"]).is_dir() and any((folder / session["id"]).iterdir())
    erased = client.delete(f"/v1/candidates/{cid}", headers=HR)
    assert erased.status_code == 200, erased.text
    assert not (folder / session["id"]).exists() or not any((folder / session["id"]).iterdir())
    assert any((folder / other["id"]).iterdir())  # another session's recordings stay
    assert client.get(f"/v1/sessions/{other['id']}/recordings", headers=HR).json()["recordings"]


def test_recording_is_its_own_optional_scope_off_by_default(client: TestClient) -> None:
    session = _session(client)
    for profile in PROFILES.values():  # what the candidate page is told (exchange: policy.consent.scopes)
        assert {"id": "recording", "required": False} in profile.public()["consent"]["scopes"]
    url = f"/v1/sessions/{session['id']}/consent"
    auth = {"Authorization": f"Bearer {session['candidate_token']}"}
    given = client.post(url, json={"voice": True, "face": False}, headers=auth)
    assert given.status_code == 200 and given.json()["recording"] is False
    given = client.post(url, json={"voice": True, "face": True, "recording": True}, headers=auth)
    assert given.status_code == 200 and given.json()["recording"] is True
    shown = client.get(f"/v1/sessions/{session['id']}", headers=HR).json()
    assert shown["consent"]["recording"] is True
    assert client.post(url, json={"voice": True, "face": True, "recording": "maybe"}, headers=auth).status_code == 422


# -- S3-compatible object storage: the same interface against a real S3 server (s3rver, from npm) ---------------
def _s3rver() -> str | None:
    return os.environ.get("CANDOR_TEST_S3RVER") or shutil.which("s3rver")


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An S3-compatible server on loopback with a bucket ``recordings``: (CANDOR_RECORDINGS_URL, its data folder)."""
    exe = _s3rver()
    if exe is None:
        pytest.skip("s3rver is not installed (npm install -g s3rver@3.7.1, as .ci/run does)")
    data = tmp_path_factory.mktemp("s3rver")
    port = free_port()
    proc = subprocess.Popen([exe, "-d", str(data), "-a", "127.0.0.1", "-p", str(port), "-s", "--configure-bucket", "recordings"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "s3rver exited"
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "s3rver did not listen"
            time.sleep(0.2)
        yield f"http://S3RVER:S3RVER@127.0.0.1:{port}/recordings/candor", data
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_every_blob_store_keeps_lists_and_deletes(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = LocalBlobStore(tmp_path / "blobs") if kind == "local" else S3BlobStore.from_url(request.getfixturevalue("s3")[0])
    prefix = f"sess-{kind}-{secrets.token_hex(3)}"
    assert store.get(f"{prefix}/answer-1.webm.sealed") is None and store.list(f"{prefix}/") == []
    store.put(f"{prefix}/answer-1.webm.sealed", b"CV1 one")
    store.put(f"{prefix}/answer-2.webm.sealed", b"CV1 two")
    store.put(f"{prefix}/answer-2.webm.sealed", b"CV1 two again")  # replaced
    store.put(f"{prefix}x/answer-1.webm.sealed", b"another session")
    assert store.get(f"{prefix}/answer-2.webm.sealed") == b"CV1 two again"
    assert store.list(f"{prefix}/") == [f"{prefix}/answer-1.webm.sealed", f"{prefix}/answer-2.webm.sealed"]
    assert store.delete(f"{prefix}/answer-1.webm.sealed") is True
    assert store.delete(f"{prefix}/answer-1.webm.sealed") is False
    assert store.list(f"{prefix}/") == [f"{prefix}/answer-2.webm.sealed"]
    for bad in ("../etc/passwd", "/abs", "a/../../b", ""):
        with pytest.raises(ValueError):
            store.put(bad, b"x")


def test_an_s3_url_is_https_or_loopback_and_names_a_bucket() -> None:
    with pytest.raises(ValueError, match="loopback"):
        S3BlobStore.from_url("http://k:s@s3.bank.cn/recordings")
    with pytest.raises(ValueError, match="bucket"):
        S3BlobStore.from_url("https://k:s@s3.bank.cn/")
    store = S3BlobStore.from_url("https://AK%2F1:S%40K@s3.bank.cn:9000/recordings/prod/a?region=cn-east-1")
    assert (store.bucket, store.prefix) == ("recordings", "prod/a/")


def test_hr_plays_a_recording_kept_in_s3_and_the_bucket_holds_only_sealed_bytes(s3: tuple[str, Path], tmp_path: Path) -> None:
    url, data_dir = s3
    app = create_app(make_settings(tmp_path, recordings_url=url), load_models=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        sid = _session(client)["id"]
        webm = _record(client, sid, answer=2, seconds=3.0)
        (entry,) = client.get(f"/v1/sessions/{sid}/recordings", headers=HR).json()["recordings"]
        assert entry["answer"] == 2
        part = client.get(entry["url"], headers={**HR, "Range": "bytes=0-499"})
        assert part.status_code == 206 and part.content == webm[:500]
        stored = [p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and sid in str(p) and "answer-2.webm" in p.name]
        assert stored and all(WEBM_MAGIC not in b for b in stored)
        assert any(b[:3] == b"CV1" for b in stored)
        assert client.app.state.candor.recordings.delete_recordings(sid) == 1
        assert client.get(f"/v1/sessions/{sid}/recordings", headers=HR).json()["recordings"] == []


# -- a real interview over WebRTC: kept with the consent, nothing without it (slow: real models) ---------------
@pytest.mark.slow
async def test_a_live_interview_is_recorded_only_with_recording_consent(models, tmp_path: Path) -> None:
    import httpx
    import websockets
    import yaml

    from jobs.catalog import BANKS_DIR
    from media.whip_client import WhipPublisher
    from tests.helpers import LiveServer
    from tests.media_fixtures import ANSWERS_ZH, padded_speech_wav, require_media

    answer = ANSWERS_ZH / "wealth_manager.complaint_nav_loss.strong.opus"
    require_media(answer)
    speech = padded_speech_wav(tmp_path, answer, lead_s=0.5, tail_s=2.0, name="answer.wav")
    root = tmp_path / "recordings"
    server = LiveServer(make_settings(tmp_path, recordings_dir=root), models).start()
    try:
        data = yaml.safe_load((BANKS_DIR / "wealth_manager.yaml").read_text(encoding="utf-8"))
        question = next(q for q in data["bank"]["questions"] if q["id"] == "complaint_nav_loss")
        question.update(prep_s=0, answer_s=15)
        bank = {"id": "wm_one", "job_id": "wealth_manager", "title": {"en": "One"}, "questions": [question]}
        assert httpx.post(f"{server.url}/v1/banks", json=bank, headers=HR).status_code == 201

        async def interview(recording: bool) -> dict[str, Any]:
            async with httpx.AsyncClient(base_url=server.url, headers=HR) as http:
                made = await http.post("/v1/sessions", json={"job_id": "wealth_manager", "bank_id": "wm_one"})
                assert made.status_code == 201, made.text
                session = made.json()
                consent = {"voice": True, "face": False, "recording": recording}
                publisher = WhipPublisher(session["whip_url"], session["candidate_token"], str(speech), None, consent=consent)
                events: list[dict[str, Any]] = []
                async with websockets.connect(session["events_url"], additional_headers=HR) as ws:
                    await publisher.start()
                    try:
                        async with asyncio.timeout(90):
                            while not any(e["type"] == "interview.ended" for e in events):
                                events.append(json.loads(await ws.recv()))
                    finally:
                        await publisher.close()
                window = next(e["payload"] for e in events if e["type"] == "answer.ended")
                listed: list[dict[str, Any]] = []
                for _ in range(50):  # the worker seals and stores it just after the answer ends
                    listed = (await http.get(f"/v1/sessions/{session['id']}/recordings")).json()["recordings"]
                    if listed or not recording:
                        break
                    await asyncio.sleep(0.2)
                return {"id": session["id"], "window": window, "listed": listed}

        kept, not_kept = await asyncio.gather(interview(True), interview(False))
        (rec,) = kept["listed"]
        assert rec["kinds"] == ["audio"]  # no face consent: no video
        assert rec["start"] == pytest.approx(kept["window"]["start"], abs=0.05)
        assert rec["duration"] == pytest.approx(kept["window"]["end"] - kept["window"]["start"], abs=0.5)
        async with httpx.AsyncClient(base_url=server.url, headers=HR) as http:
            webm = (await http.get(rec["url"])).content
        assert decode(webm)["audio_s"] == pytest.approx(rec["duration"], abs=0.1)
        # without the consent: nothing listed, nothing on disk
        assert not_kept["listed"] == []
        assert not (root / not_kept["id"]).exists()
        assert sorted(p.name for p in root.iterdir()) == [kept["id"]]
    finally:
        server.stop()
