"""WHIP ingest end to end with the Python aiortc client (no browser).

One real server on loopback per module (``live_server``), real models, real
media from tests/media published in real time by :class:`WhipPublisher`
and watched on the HR event stream. The expensive runs (an English and a
Mandarin interview) happen once per module in fixtures; the tests then look
at what they produced. Failure cases use offers from a bare aiortc peer and
need no media.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator
from urllib.parse import urljoin

import httpx
import pytest
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from sqlalchemy import update
from sqlalchemy.orm import Session as DbSession

from media.whip_client import WhipPublisher
from db import SessionRow, utcnow
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.conftest import Media
from tests.media_fixtures import (
    AISHELL_TEXT,
    JFK_TEXT,
)
from tests.test_analyzers_speech import cer_zh, wer

HR = {"Authorization": f"Bearer {HR_TOKEN}"}
EVENT_FIELDS = {"type", "session_id", "seq", "media_time", "wall_time", "payload"}
DOCUMENTED_TYPES = {  # docs/events.md
    "session.created",
    "consent.given",
    "consent.withdrawn",
    "expression.metrics",
    "voice.affect",
    "connection.started",
    "media.flowing",
    "connection.ended",
    "speech.start",
    "speech.end",
    "transcript.partial",
    "transcript.final",
    "face.metrics",
    "face.absent",
    "face.multiple",
    "media.dropped",
    "session.error",
}
# How long after the last audio sample the analyzers may take to publish
# the last final on this 2-core machine (ASR of an 11 s utterance included).
SETTLE_S = 30.0


# ---------------------------------------------------------------- helpers --


class EventStream:
    """An HR watcher on one session's event stream, reading in the background."""

    def __init__(self, url: str, *, from_seq: int = 0) -> None:
        self.url = f"{url}?from_seq={from_seq}"
        self.events: list[dict[str, Any]] = []
        self.closed: websockets.ConnectionClosed | None = None
        self._changed = asyncio.Event()
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "EventStream":
        self._ws = await websockets.connect(self.url, additional_headers=HR, open_timeout=10, max_size=None)
        self._task = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._ws.close()
        assert self._task is not None
        await self._task

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                self.events.append(json.loads(raw))
                self._changed.set()
        except websockets.ConnectionClosed as exc:
            self.closed = exc
        self._changed.set()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for e in self.events:
            counts[e["type"]] = counts.get(e["type"], 0) + 1
        finals = [e["payload"].get("text") for e in self.of_type("transcript.final")]
        return f"events: {counts}; finals: {finals!r}; closed: {self.closed!r}"

    async def wait_for(
        self, predicate: Callable[["EventStream"], Any], timeout: float, what: str, *, fail: bool = True
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = predicate(self)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                if fail:
                    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; {self.summary()}")
                return None
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.5))


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem: the status, the media type, the four members."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].split(";")[0].strip() == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status, body
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member], body
    return body


async def assert_healthy(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


async def create_session(http: httpx.AsyncClient, *, consent: bool = True) -> dict[str, Any]:
    """A free-talk session whose candidate has consented to analysis (unless told not to)."""
    response = await http.post("/v1/sessions", json={}, headers=HR)
    assert response.status_code == 201, response.text
    session = response.json()
    if consent:
        given = await http.post(
            f"/v1/sessions/{session['id']}/consent",
            json={"voice": True, "face": True},
            headers={"Authorization": f"Bearer {session['candidate_token']}"},
        )
        assert given.status_code == 200, given.text
    return session


@contextlib.asynccontextmanager
async def bare_peer(*, audio: int = 1, video: int = 1, data: bool = True) -> AsyncIterator[RTCPeerConnection]:
    """An aiortc peer with the given sections and its offer set (no media sent)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        for _ in range(audio):
            pc.addTransceiver("audio", direction="sendonly")
        for _ in range(video):
            pc.addTransceiver("video", direction="sendonly")
        if data:
            pc.createDataChannel("control")
        await pc.setLocalDescription(await pc.createOffer())
        yield pc
    finally:
        await pc.close()


def sdp_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"}


async def post_offer(
    http: httpx.AsyncClient, session: dict[str, Any], pc: RTCPeerConnection, token: str | None = None
) -> httpx.Response:
    return await http.post(
        session["whip_url"], content=pc.localDescription.sdp, headers=sdp_headers(token or session["candidate_token"])
    )


def final_texts(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["payload"].get("text") or "") for e in events if e["type"] == "transcript.final"]


# --------------------------------------------------------------- fixtures --


@dataclass
class Interview:
    """What one published clip produced: events, captions, the hang-up."""

    session: dict[str, Any]
    events: list[dict[str, Any]]
    captions: list[dict[str, Any]]
    connection_id: str
    delete_status: int
    metrics: str = ""
    settled: bool = False


def clip_done(started: float, duration_s: float) -> Callable[[EventStream], bool]:
    """The whole clip was sent, no utterance is open, the last one has its final."""

    def done(s: EventStream) -> bool:
        if time.monotonic() - started < duration_s + 0.5:
            return False
        starts, ends = s.of_type("speech.start"), s.of_type("speech.end")
        if not ends or len(starts) != len(ends):
            return False
        last = ends[-1]["payload"]["utterance_id"]
        return any(e["payload"].get("utterance_id") == last for e in s.of_type("transcript.final"))

    return done


async def run_interview(server: LiveServer, audio: Path, video: Path, duration_s: float) -> Interview:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        session = await create_session(http)
        async with EventStream(session["events_url"]) as stream:
            publisher = WhipPublisher(
                session["whip_url"], session["candidate_token"], audio_path=str(audio), video_path=str(video)
            )
            await publisher.start()
            assert publisher.location is not None
            connection_id = publisher.location.rsplit("/", 1)[1]
            started = time.monotonic()
            try:
                settled = bool(
                    await stream.wait_for(clip_done(started, duration_s), duration_s + SETTLE_S, "the clip", fail=False)
                )
                # Captions for the last final may still be on the wire.
                deadline = time.monotonic() + 3
                while not any(c.get("final") for c in publisher.captions) and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                deleted = await http.delete(
                    publisher.location, headers={"Authorization": f"Bearer {session['candidate_token']}"}
                )
            finally:
                await publisher.close(delete=False)
            await stream.wait_for(
                lambda s: any(
                    e["payload"].get("connection_id") == connection_id for e in s.of_type("connection.ended")
                ),
                10,
                "connection.ended after the hang-up",
                fail=False,
            )
            metrics = (await http.get("/metrics")).text
        return Interview(
            session=session,
            events=list(stream.events),
            captions=list(publisher.captions),
            connection_id=connection_id,
            delete_status=deleted.status_code,
            metrics=metrics,
            settled=settled,
        )


@pytest.fixture(scope="module")
def english(live_server: LiveServer, media: Media) -> Interview:
    return asyncio.run(run_interview(live_server, media.jfk, media.video, media.jfk_s))


@pytest.fixture(scope="module")
def mandarin(live_server: LiveServer, media: Media) -> Interview:
    return asyncio.run(run_interview(live_server, media.aishell, media.video, media.aishell_s))


# ------------------------------------------------- end to end: english --


@pytest.mark.slow
def test_english_answer_is_transcribed(english: Interview) -> None:
    texts = final_texts(english.events)
    assert english.settled, f"the clip never settled; finals {texts!r}"
    joined = " ".join(texts)
    print(f"\nJFK over WHIP: WER {wer(JFK_TEXT, joined):.3f}: {joined!r}")
    assert wer(JFK_TEXT, joined) < 0.15, joined
    assert all(e["payload"]["language"] == "en" for e in english.events if e["type"] == "transcript.final")


@pytest.mark.slow
def test_english_face_is_seen(english: Interview) -> None:
    metrics = [e["payload"] for e in english.events if e["type"] == "face.metrics"]
    assert any(p["faces_max"] == 1 and (p["presence"] or 0) > 0.5 for p in metrics), metrics


@pytest.mark.slow
def test_english_captions_come_back_on_the_data_channel(english: Interview) -> None:
    assert english.captions, "no caption on the data channel"
    assert any(c.get("final") is True for c in english.captions), english.captions
    finals = {
        e["payload"]["utterance_id"]: e["payload"]["text"] for e in english.events if e["type"] == "transcript.final"
    }
    for caption in english.captions:
        if caption.get("final"):
            assert finals.get(caption["utterance_id"]) == caption["text"], (caption, finals)


@pytest.mark.slow
def test_english_events_are_well_formed_and_in_order(english: Interview) -> None:
    events = english.events
    assert events and events[0]["type"] == "session.created"
    for e in events:
        assert set(e) == EVENT_FIELDS, e
        assert e["session_id"] == english.session["id"]
        assert isinstance(e["payload"], dict) and isinstance(e["wall_time"], float)
        assert e["media_time"] is None or isinstance(e["media_time"], (int, float))
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(len(seqs))), seqs  # from_seq=0: the whole log, then live, no gap
    kinds = [e["type"] for e in events]
    first_transcript = min(i for i, k in enumerate(kinds) if k.startswith("transcript."))
    assert "connection.started" in kinds[:first_transcript], kinds[: first_transcript + 1]
    started = next(e for e in events if e["type"] == "connection.started")
    assert started["payload"] == {"connection_id": english.connection_id, "replaces": None}
    # The first audio is announced once, after the answer and before any words.
    flowing = [e for e in events if e["type"] == "media.flowing"]
    assert [e["payload"] for e in flowing] == [{"connection_id": english.connection_id}]
    assert started["seq"] < flowing[0]["seq"] < events[first_transcript]["seq"]
    assert flowing[0]["media_time"] is not None
    assert set(kinds) <= DOCUMENTED_TYPES, set(kinds) - DOCUMENTED_TYPES
    assert "session.error" not in kinds


@pytest.mark.slow
def test_english_hang_up_ends_the_connection(english: Interview) -> None:
    assert english.delete_status == 200
    ended = [e for e in english.events if e["type"] == "connection.ended"]
    assert [e["payload"] for e in ended] == [{"connection_id": english.connection_id, "reason": "hung up"}]


@pytest.mark.slow
def test_metrics_count_frames_once_media_flows(english: Interview) -> None:
    assert 'candor_frames_in_total{kind="audio"}' in english.metrics
    assert 'candor_frames_in_total{kind="video"}' in english.metrics


@pytest.mark.slow
def test_stage_latency_is_measured_with_injected_models(english: Interview) -> None:
    """Models handed to create_app (shared, as here) report to that app's metrics too."""
    for stage in ("vad", "asr", "face"):
        counted = re.search(
            rf'^candor_stage_latency_seconds_count{{stage="{stage}"}} ([0-9.e+]+)$', english.metrics, re.MULTILINE
        )
        assert counted and float(counted.group(1)) > 0, (
            stage,
            [line for line in english.metrics.splitlines() if "stage_latency" in line],
        )
        assert f'candor_stage_latency_seconds_bucket{{le="+Inf",stage="{stage}"}}' in english.metrics


# ------------------------------------------------ end to end: mandarin --


@pytest.mark.slow
def test_mandarin_answer_is_transcribed_in_simplified_chinese(mandarin: Interview) -> None:
    finals = [e["payload"] for e in mandarin.events if e["type"] == "transcript.final"]
    text = "".join(p["text"] for p in finals)
    assert mandarin.settled, f"the clip never settled; finals {text!r}"
    print(f"\nAISHELL over WHIP: CER {cer_zh(AISHELL_TEXT, text):.3f}: {text!r}")
    assert cer_zh(AISHELL_TEXT, text) < 0.3, text
    assert finals[0]["language"] == "zh", finals
    assert "广" in text and "廣" not in text, text
    assert any(c.get("final") for c in mandarin.captions), mandarin.captions


# --------------------------------------------------------- failure cases --


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        yield client
        await assert_healthy(client)  # whatever the test did, the server is still well


@pytest.fixture
async def session(http: httpx.AsyncClient) -> dict[str, Any]:
    return await create_session(http)


async def test_malformed_sdp_is_400(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    response = await http.post(session["whip_url"], content="hello", headers=sdp_headers(session["candidate_token"]))
    assert_problem(response, 400)


async def test_offer_with_two_audio_sections_is_422(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    async with bare_peer(audio=2) as pc:
        body = assert_problem(await post_offer(http, session, pc), 422)
    assert "audio=2" in body["detail"], body


async def test_offer_without_audio_is_422(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    async with bare_peer(audio=0) as pc:
        body = assert_problem(await post_offer(http, session, pc), 422)
    assert "audio=0" in body["detail"], body


async def test_audio_only_offer_is_answered(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    """A candidate who declines face processing publishes audio only."""
    async with bare_peer(video=0) as pc:
        response = await post_offer(http, session, pc)
        assert response.status_code == 201, response.text
        assert "m=video" not in response.text
        await http.delete(urljoin(session["whip_url"], response.headers["location"]), headers=sdp_headers(session["candidate_token"]))


async def test_edited_offer_with_a_second_audio_line_is_422(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    async with bare_peer() as pc:
        sdp = pc.localDescription.sdp
    lines = sdp.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("m=audio"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("m="))
    edited = "\r\n".join(lines[:end] + lines[start:end] + lines[end:]) + "\r\n"
    response = await http.post(session["whip_url"], content=edited, headers=sdp_headers(session["candidate_token"]))
    assert_problem(response, 422)


async def test_wrong_content_type_is_415(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    async with bare_peer() as pc:
        response = await http.post(
            session["whip_url"],
            content=pc.localDescription.sdp,
            headers={"Authorization": f"Bearer {session['candidate_token']}", "Content-Type": "text/plain"},
        )
    assert_problem(response, 415)


async def test_missing_token_is_401_with_challenge(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    async with bare_peer() as pc:
        response = await http.post(
            session["whip_url"], content=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}
        )
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("bearer")


async def test_wrong_token_is_401(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    async with bare_peer() as pc:
        response = await post_offer(http, session, pc, token="not-the-token")
    assert_problem(response, 401)
    assert "www-authenticate" in response.headers


async def test_hr_token_is_not_a_candidate_token(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    async with bare_peer() as pc:
        response = await post_offer(http, session, pc, token=HR_TOKEN)
    assert_problem(response, 401)


async def test_token_of_another_session_is_401(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    other = await create_session(http)
    async with bare_peer() as pc:
        response = await post_offer(http, session, pc, token=other["candidate_token"])
    assert_problem(response, 401)


async def test_expired_token_is_401_token_expired(
    live_server: LiveServer, http: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    engine = live_server.candor.store.store.engine

    def expire() -> None:
        with DbSession(engine) as db, db.begin():
            db.execute(
                update(SessionRow)
                .where(SessionRow.id == session["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )

    await asyncio.to_thread(expire)
    async with bare_peer() as pc:
        response = await post_offer(http, session, pc)
    body = assert_problem(response, 401)
    assert body["type"].endswith("/token-expired"), body
    assert "invalid_token" in response.headers["www-authenticate"]
    listed = (await http.get(f"/v1/sessions/{session['id']}", headers=HR)).json()
    assert listed["state"] == "expired"


async def test_unknown_session_is_refused(
    http: httpx.AsyncClient, session: dict[str, Any], live_server: LiveServer
) -> None:
    async with bare_peer() as pc:
        response = await http.post(
            f"{live_server.url}/whip/no-such-session",
            content=pc.localDescription.sdp,
            headers=sdp_headers(session["candidate_token"]),
        )
    assert response.status_code in (401, 404)
    assert_problem(response, response.status_code)


async def test_patch_is_405(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    response = await http.patch(
        f"{session['whip_url']}/some-connection",
        content="a=candidate:1 1 udp 1 127.0.0.1 9 typ host",
        headers={
            "Authorization": f"Bearer {session['candidate_token']}",
            "Content-Type": "application/trickle-ice-sdpfrag",
        },
    )
    assert_problem(response, 405)
    assert "DELETE" in response.headers["allow"]


@pytest.mark.parametrize("method", ["PUT", "GET"])
async def test_other_methods_on_the_endpoint_are_405_with_allow(
    http: httpx.AsyncClient, session: dict[str, Any], method: str
) -> None:
    """A routing 405 is a problem too, and keeps its Allow header (RFC 9110 15.5.6)."""
    response = await http.request(method, session["whip_url"])
    assert_problem(response, 405)
    assert "POST" in response.headers.get("allow", ""), response.headers


async def test_options_is_204_with_accept_post(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    response = await http.options(session["whip_url"])
    assert response.status_code == 204
    assert response.headers["accept-post"] == "application/sdp"


async def test_delete_of_an_unknown_connection_is_404(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    response = await http.delete(
        f"{session['whip_url']}/no-such-connection", headers={"Authorization": f"Bearer {session['candidate_token']}"}
    )
    assert_problem(response, 404)


async def test_delete_without_token_is_401(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    response = await http.delete(f"{session['whip_url']}/whatever")
    assert_problem(response, 401)


async def test_delete_of_the_live_connection_hangs_up(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    auth = {"Authorization": f"Bearer {session['candidate_token']}"}
    async with EventStream(session["events_url"]) as stream, bare_peer() as pc:
        response = await post_offer(http, session, pc)
        assert response.status_code == 201, response.text
        assert response.headers["content-type"].startswith("application/sdp")
        assert response.text.startswith("v=0")
        location = urljoin(session["whip_url"], response.headers["location"])
        connection_id = location.rsplit("/", 1)[1]
        assert response.headers["etag"] == f'"{connection_id}"'
        await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))

        deleted = await http.delete(location, headers=auth)
        assert deleted.status_code == 200, deleted.text
        ended = await stream.wait_for(lambda s: s.of_type("connection.ended"), 10, "connection.ended")
        assert ended[0]["payload"] == {"connection_id": connection_id, "reason": "hung up"}
        # Gone now: a second DELETE finds nothing.
        assert_problem(await http.delete(location, headers=auth), 404)
        listed = (await http.get(f"/v1/sessions/{session['id']}", headers=HR)).json()
        assert listed["connected"] is False


async def test_second_offer_replaces_the_live_connection(http: httpx.AsyncClient, session: dict[str, Any]) -> None:
    auth = {"Authorization": f"Bearer {session['candidate_token']}"}
    async with EventStream(session["events_url"]) as stream, bare_peer() as first, bare_peer() as second:
        r1 = await post_offer(http, session, first)
        assert r1.status_code == 201, r1.text
        await first.setRemoteDescription(RTCSessionDescription(sdp=r1.text, type="answer"))
        deadline = time.monotonic() + 10
        while first.connectionState != "connected" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert first.connectionState == "connected"
        id1 = r1.headers["location"].rsplit("/", 1)[1]
        assert (await http.get(f"/v1/sessions/{session['id']}", headers=HR)).json()["connected"] is True

        r2 = await post_offer(http, session, second)
        assert r2.status_code == 201, r2.text
        id2 = r2.headers["location"].rsplit("/", 1)[1]
        assert id2 != id1
        await stream.wait_for(
            lambda s: len(s.of_type("connection.started")) == 2 and s.of_type("connection.ended"), 10, "the replacement"
        )
        assert [e["payload"] for e in stream.of_type("connection.started")] == [
            {"connection_id": id1, "replaces": None},
            {"connection_id": id2, "replaces": id1},
        ]
        assert [e["payload"] for e in stream.of_type("connection.ended")] == [
            {"connection_id": id1, "reason": "replaced"}
        ]
        # The replaced connection cannot be hung up any more; the new one can.
        assert_problem(await http.delete(urljoin(session["whip_url"], r1.headers["location"]), headers=auth), 404)
        assert (
            await http.delete(urljoin(session["whip_url"], r2.headers["location"]), headers=auth)
        ).status_code == 200


# ------------------------------------------------------------------ CORS --

ORIGIN = "https://careers.bank.example"


@pytest.fixture(scope="module")
def cors_server(models: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(make_settings(tmp_path_factory.mktemp("cors"), cors_origins=[ORIGIN]), models).start()
    yield server
    server.stop()


async def test_cors_preflight_and_post_from_an_allowed_origin(cors_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=cors_server.url, timeout=30) as http:
        session = await create_session(http)
        preflight = await http.options(
            session["whip_url"],
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert preflight.headers["accept-post"] == "application/sdp"

        async with bare_peer() as pc:
            response = await http.post(
                session["whip_url"],
                content=pc.localDescription.sdp,
                headers={**sdp_headers(session["candidate_token"]), "Origin": ORIGIN},
            )
        assert response.status_code == 201, response.text
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert "Location" in response.headers["access-control-expose-headers"]
        location = urljoin(session["whip_url"], response.headers["location"])
        hung_up = await http.delete(
            location, headers={"Authorization": f"Bearer {session['candidate_token']}", "Origin": ORIGIN}
        )
        assert hung_up.status_code == 200
        assert hung_up.headers["access-control-allow-origin"] == ORIGIN

        other = await http.options(
            session["whip_url"], headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in other.headers
        await assert_healthy(http)


async def test_cors_preflight_for_hang_up_on_the_session_url(cors_server: LiveServer) -> None:
    """A page on another origin can hang up: the session URL answers the DELETE preflight."""
    async with httpx.AsyncClient(base_url=cors_server.url, timeout=30) as http:
        session = await create_session(http)
        async with bare_peer() as pc:
            response = await post_offer(http, session, pc)
            assert response.status_code == 201, response.text
            location = urljoin(session["whip_url"], response.headers["location"])
            preflight = await http.options(
                location,
                headers={
                    "Origin": ORIGIN,
                    "Access-Control-Request-Method": "DELETE",
                    "Access-Control-Request-Headers": "authorization",
                },
            )
            await http.delete(location, headers={"Authorization": f"Bearer {session['candidate_token']}"})
        assert 200 <= preflight.status_code < 300, (preflight.status_code, preflight.text)
        assert preflight.headers.get("access-control-allow-origin") == ORIGIN
        assert "DELETE" in preflight.headers.get("access-control-allow-methods", "")


# ------------------------------------------------------------ invitation --


async def test_invite_code_is_exchanged_once_for_a_working_token(
    http: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    code = session["candidate_url"].split("#code=", 1)[1]
    response = await http.post("/v1/candidate/exchange", json={"code": code})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["session_id"] == session["id"]
    assert body["whip_url"] == session["whip_url"]
    assert isinstance(body["token"], str) and len(body["token"]) >= 32 and body["token"] != session["candidate_token"]
    assert body["ice_servers"] == []
    assert body["language_hint"] in ("zh", "en")
    assert body["video"] == {"max_fps": 5.0, "max_bitrate": 300_000}  # the page caps its camera at what is analysed
    assert "expires_at" in body

    again = await http.post("/v1/candidate/exchange", json={"code": code})
    assert assert_problem(again, 404)["type"].endswith("/invite-invalid")

    # The exchanged token publishes; the HR-issued one stays valid too.
    auth = {"Authorization": f"Bearer {body['token']}"}
    async with bare_peer() as pc:
        answer = await http.post(body["whip_url"], content=pc.localDescription.sdp, headers=sdp_headers(body["token"]))
        assert answer.status_code == 201, answer.text
        hung_up = await http.delete(urljoin(body["whip_url"], answer.headers["location"]), headers=auth)
        assert hung_up.status_code == 200


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"this is not json", 400), (b"[1, 2]", 422), (b'{"code": 7}', 422), (b"{}", 422)],
)
async def test_exchange_with_a_garbage_body_is_refused(http: httpx.AsyncClient, content: bytes, status: int) -> None:
    response = await http.post("/v1/candidate/exchange", content=content, headers={"Content-Type": "application/json"})
    assert_problem(response, status)


async def test_exchange_with_an_unknown_code_is_404(http: httpx.AsyncClient) -> None:
    assert_problem(await http.post("/v1/candidate/exchange", json={"code": "no-such-code"}), 404)


# ------------------------------------------------------------- reconnect --


@pytest.mark.slow
async def test_candidate_who_drops_and_comes_back_continues_the_session(live_server: LiveServer, media: Media) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        session = await create_session(http)
        token = session["candidate_token"]
        async with EventStream(session["events_url"]) as stream:
            first = WhipPublisher(session["whip_url"], token, audio_path=str(media.jfk), video_path=str(media.video))
            await first.start()
            assert first.location is not None
            old_id = first.location.rsplit("/", 1)[1]
            # Mid-answer: speech has started when the peer vanishes.
            await stream.wait_for(lambda s: s.of_type("speech.start"), 10, "speech.start")
            await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - (first.answered_at or 0))))
            await first.close(delete=False)  # no DELETE: the tab crashed
            cut_seq = stream.events[-1]["seq"]
            before = max(e["media_time"] for e in stream.events if e["media_time"] is not None)
            await asyncio.sleep(1.0)

            second = WhipPublisher(session["whip_url"], token, audio_path=str(media.jfk), video_path=str(media.video))
            await second.start()  # raises WhipError unless 201
            assert second.location is not None
            new_id = second.location.rsplit("/", 1)[1]
            assert new_id != old_id
            reconnected_at = time.monotonic()
            try:

                def resumed(s: EventStream) -> Any:
                    return [e for e in s.of_type("connection.started") if e["payload"]["connection_id"] == new_id]

                started = (await stream.wait_for(resumed, 10, "connection.started of the new connection"))[0]
                assert started["payload"]["replaces"] in (None, old_id)
                await stream.wait_for(
                    clip_done(reconnected_at, media.jfk_s), media.jfk_s + SETTLE_S, "the second reading"
                )
            finally:
                await second.close()
            await stream.wait_for(
                lambda s: any(e["payload"]["connection_id"] == new_id for e in s.of_type("connection.ended")),
                10,
                "hang-up",
            )

        events = stream.events
        assert {e["session_id"] for e in events} == {session["id"]}
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        ended = {
            e["payload"]["connection_id"]: e["payload"]["reason"] for e in events if e["type"] == "connection.ended"
        }
        assert set(ended) == {old_id, new_id}, ended
        assert ended[new_id] == "hung up"
        if started["payload"]["replaces"] == old_id:
            assert ended[old_id] == "replaced"
        # The media clock ran on across the gap: nothing after the reconnect
        # is stamped earlier than what came before it.
        after = [e for e in events if e["seq"] >= started["seq"] and e["media_time"] is not None]
        assert started["media_time"] >= before, (started, before)
        assert all(e["media_time"] >= before for e in after), [(e["type"], e["media_time"]) for e in after][:10]
        finals_after = [
            e for e in events if e["type"] == "transcript.final" and e["payload"]["start"] >= started["media_time"]
        ]
        assert finals_after, [(e["seq"], e["payload"]) for e in events if e["type"] == "transcript.final"]
        # At least the second of silence the peer was away lies between the
        # cut and the second reading (the clock resyncs to the wall).
        assert finals_after[0]["payload"]["start"] >= before + 1.0, (before, finals_after[0]["payload"])
        assert all(e["seq"] > cut_seq for e in finals_after)
        text = " ".join(e["payload"]["text"] for e in finals_after)
        print(
            f"\nreconnect: old {old_id} ended {ended[old_id]!r}, replaces={started['payload']['replaces']!r}, "
            f"media time {before:.2f} s before the cut, {started['media_time']:.2f} s at the reconnect; "
            f"finals {final_texts(events)!r}"
        )
        assert wer(JFK_TEXT, text) < 0.15, text
        assert any(c.get("final") for c in second.captions), second.captions


# --------------------------------------------------- health, metrics, HR --


async def test_healthz(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_metrics_is_prometheus_text(http: httpx.AsyncClient) -> None:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE candor_sessions_live gauge" in text
    assert "candor_sessions_live " in text
    assert "# TYPE candor_frames_in_total counter" in text
    assert "# TYPE candor_stage_latency_seconds histogram" in text


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v1/sessions"), ("GET", "/v1/sessions"), ("GET", "/v1/sessions/x")]
)
async def test_hr_endpoints_need_auth(http: httpx.AsyncClient, method: str, path: str) -> None:
    response = await http.request(method, path)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    wrong = await http.request(method, path, headers={"Authorization": "Bearer wrong"})
    assert_problem(wrong, 401)


@pytest.mark.parametrize("content", [b"[]", b'"a string"', b"42"])
async def test_create_session_with_a_non_object_body_is_422(http: httpx.AsyncClient, content: bytes) -> None:
    response = await http.post("/v1/sessions", content=content, headers={**HR, "Content-Type": "application/json"})
    assert_problem(response, 422)


async def test_create_session_with_malformed_json_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/sessions", content=b"{nope", headers={**HR, "Content-Type": "application/json"})
    assert_problem(response, 400)


async def test_created_session_is_listed(
    http: httpx.AsyncClient, session: dict[str, Any], live_server: LiveServer
) -> None:
    assert session["whip_url"] == f"{live_server.url}/whip/{session['id']}"
    assert session["events_url"] == f"ws://127.0.0.1:{live_server.settings.port}/v1/sessions/{session['id']}/events"
    assert "#code=" in session["candidate_url"]
    listed = (await http.get("/v1/sessions", headers=HR)).json()["sessions"]
    mine = [s for s in listed if s["id"] == session["id"]]
    assert len(mine) == 1, listed
    assert mine[0]["state"] == "open" and mine[0]["connected"] is False
    one = await http.get(f"/v1/sessions/{session['id']}", headers=HR)
    assert one.status_code == 200 and {k: v for k, v in one.json().items() if k != "consent"} == mine[0]
    assert one.json()["consent"]["voice"] is True and one.json()["policy"] == "pipl"
    assert_problem(await http.get("/v1/sessions/no-such-session", headers=HR), 404)
