"""Consent before analysis, per policy profile, and admission control, over real WebRTC.

The candidate is the Python WHIP client (aiortc) publishing real speech and a
portrait video; the server runs the real models.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from media.whip_client import WhipError, WhipPublisher
from runtime.models import Models
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.conftest import Media
from tests.test_whip import EventStream, bare_peer, sdp_headers

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


def auth(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['candidate_token']}"}


async def new_session(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.post("/v1/sessions", json={}, headers=HR)
    assert response.status_code == 201, response.text
    return response.json()


async def consent(http: httpx.AsyncClient, session: dict[str, Any], **scopes: bool) -> httpx.Response:
    return await http.post(f"/v1/sessions/{session['id']}/consent", json=scopes, headers=auth(session))


async def publish_clip(server: LiveServer, media: Media, session: dict[str, Any]) -> list[dict[str, Any]]:
    """Publish the AISHELL clip with the portrait video; the events once its final is in."""
    async with EventStream(session["events_url"]) as stream:
        publisher = WhipPublisher(
            session["whip_url"], session["candidate_token"], str(media.aishell), str(media.video), consent=None
        )
        await publisher.start()
        try:
            await stream.wait_for(
                lambda s: bool(s.of_type("transcript.final")) and len(s.of_type("face.metrics") + s.of_type("speech.end")) > 0,
                media.aishell_s + 20,
                "a final transcript",
            )
            await asyncio.sleep(1.0)  # the metrics windows after the final
        finally:
            await publisher.close()
        return list(stream.events)


def types(events: list[dict[str, Any]]) -> set[str]:
    return {e["type"] for e in events}


@pytest.fixture(scope="module")
def eu_server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(make_settings(tmp_path_factory.mktemp("eu"), policy="eu"), models).start()
    yield server
    server.stop()


# -- pipl (the default) ------------------------------------------------------------


async def test_nothing_is_analysed_before_consent(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        session = await new_session(http)
        async with bare_peer() as pc:
            refused = await http.post(session["whip_url"], content=pc.localDescription.sdp, headers=sdp_headers(session["candidate_token"]))
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/consent-required")
        assert live_server.candor.sessions.get_live(session["id"]) is None  # no analyzers were started

        # a consent without voice is refused under pipl, naming the field
        missing = await consent(http, session, voice=False, face=True)
        assert missing.status_code == 422
        assert [e["field"] for e in missing.json()["errors"]] == ["voice"]
        # a consent needs both answers, as booleans
        assert (await consent(http, session, voice=True)).status_code == 422
        # the HR token is not the candidate's consent
        hr_try = await http.post(f"/v1/sessions/{session['id']}/consent", json={"voice": True, "face": True}, headers=HR)
        assert hr_try.status_code == 401

        given = await consent(http, session, voice=True, face=False)
        assert given.status_code == 200, given.text
        assert given.json()["policy"] == "pipl" and given.json()["face"] is False and given.json()["emotion"] is True
        shown = (await http.get(f"/v1/sessions/{session['id']}", headers=HR)).json()
        assert shown["policy"] == "pipl" and shown["consent"]["voice"] is True and shown["consent"]["face"] is False


async def test_exchange_tells_the_page_the_policy_and_any_consent(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        session = await new_session(http)
        code = session["candidate_url"].split("#code=", 1)[1]
        body = (await http.post("/v1/candidate/exchange", json={"code": code})).json()
        assert body["policy"]["name"] == "pipl" and body["policy"]["consent"]["separate"] is True
        assert body["consent"] is None
        token_session = {**session, "candidate_token": body["token"]}
        assert (await consent(http, token_session, voice=True, face=True)).status_code == 200
        again = await http.get(f"/v1/sessions/{session['id']}", headers=HR)
        assert again.json()["consent"]["face"] is True


async def test_declined_face_is_never_analysed_but_speech_is(live_server: LiveServer, media: Media) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        session = await new_session(http)
        assert (await consent(http, session, voice=True, face=False)).status_code == 200
    events = await publish_clip(live_server, media, session)
    seen = types(events)
    assert "transcript.final" in seen
    assert not seen & {"face.metrics", "face.absent", "face.multiple", "expression.metrics"}, seen
    assert "voice.affect" in seen  # voice consented, emotion allowed under pipl
    given = [e for e in events if e["type"] == "consent.given"]
    assert given and given[-1]["payload"]["face"] is False


async def test_full_consent_under_pipl_gives_face_expression_and_voice_affect(live_server: LiveServer, media: Media) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        session = await new_session(http)
        assert (await consent(http, session, voice=True, face=True)).status_code == 200
    events = await publish_clip(live_server, media, session)
    seen = types(events)
    assert {"transcript.final", "face.metrics", "expression.metrics", "voice.affect"} <= seen, seen
    affect = [e["payload"] for e in events if e["type"] == "voice.affect"]
    assert all(0.0 <= a["arousal"] <= 1.0 for a in affect if a["arousal"] is not None)
    expression = [e["payload"] for e in events if e["type"] == "expression.metrics"][0]
    assert sum(expression["probabilities"].values()) == pytest.approx(1.0, abs=0.02)


async def test_withdrawn_consent_ends_the_connection_and_blocks_media(live_server: LiveServer, media: Media) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        session = await new_session(http)
        assert (await consent(http, session, voice=True, face=True)).status_code == 200
        async with EventStream(session["events_url"]) as stream:
            publisher = WhipPublisher(session["whip_url"], session["candidate_token"], str(media.jfk), str(media.video), consent=None)
            await publisher.start()
            try:
                await stream.wait_for(lambda s: bool(s.of_type("media.flowing")), 20, "media flowing")
                withdrawn = await http.delete(f"/v1/sessions/{session['id']}/consent", headers=auth(session))
                assert withdrawn.status_code == 204
                ended = await stream.wait_for(lambda s: bool(s.of_type("connection.ended")), 10, "connection.ended")
                assert ended
            finally:
                await publisher.close(delete=False)
            assert stream.of_type("connection.ended")[-1]["payload"]["reason"] == "consent withdrawn"
            assert stream.of_type("consent.withdrawn")
        again = WhipPublisher(session["whip_url"], session["candidate_token"], str(media.jfk), None, consent=None)
        with pytest.raises(WhipError) as refused:
            await again.start()
        assert refused.value.status == 403


# -- eu --------------------------------------------------------------------------


async def test_eu_runs_no_emotion_inference_at_all(eu_server: LiveServer, media: Media) -> None:
    async with httpx.AsyncClient(base_url=eu_server.url, timeout=30) as http:
        session = await new_session(http)
        code = session["candidate_url"].split("#code=", 1)[1]
        policy = (await http.post("/v1/candidate/exchange", json={"code": code})).json()["policy"]
        assert policy["name"] == "eu" and policy["emotion"] is False and policy["consent"]["separate"] is False
        assert (await consent(http, session, voice=True, face=False)).status_code == 422  # one consent covers both
        given = await consent(http, session, voice=True, face=True)
        assert given.status_code == 200 and given.json()["emotion"] is False
    events = await publish_clip(eu_server, media, session)
    seen = types(events)
    assert {"transcript.final", "face.metrics"} <= seen, seen
    assert not seen & {"expression.metrics", "voice.affect"}, seen


# -- admission control -----------------------------------------------------------


async def test_a_full_server_refuses_new_sessions_with_retry_after_but_not_reconnects(
    models: Models, tmp_path_factory: pytest.TempPathFactory, media: Media
) -> None:
    server = LiveServer(
        make_settings(tmp_path_factory.mktemp("full"), max_live_sessions=1, admission_retry_after_s=17), models
    ).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            first, second = await new_session(http), await new_session(http)
            for session in (first, second):
                assert (await consent(http, session, voice=True, face=True)).status_code == 200
            running = WhipPublisher(first["whip_url"], first["candidate_token"], str(media.jfk), str(media.video), consent=None)
            await running.start()
            try:
                async with bare_peer() as pc:
                    refused = await http.post(
                        second["whip_url"], content=pc.localDescription.sdp, headers=sdp_headers(second["candidate_token"])
                    )
                assert refused.status_code == 503
                assert refused.headers["retry-after"] == "17"
                assert refused.json()["type"].endswith("/server-busy") and "capacity of 1" in refused.json()["detail"]
                assert server.candor.sessions.get_live(second["id"]) is None  # never half-admitted

                # the running candidate reconnects (a second connection replaces the first)
                async with bare_peer() as pc:
                    back = await http.post(
                        first["whip_url"], content=pc.localDescription.sdp, headers=sdp_headers(first["candidate_token"])
                    )
                assert back.status_code == 201, back.text
            finally:
                await running.close(delete=False)
            metrics = (await http.get("/metrics")).text
            assert 'candor_admission_refused_total{reason="capacity"} 1.0' in metrics
            assert "candor_event_loop_lag_seconds_count" in metrics
            assert "process_resident_memory_bytes" in metrics
            assert "candor_audio_backlog_seconds" in metrics
            assert 'candor_build_info{asr_compute_type="int8",asr_device="cpu",asr_model="base",asr_window="trim",policy="pipl"' in metrics
            started = time.monotonic()
            while server.candor.loop_lag.p99() == 0.0 and time.monotonic() - started < 2:
                await asyncio.sleep(0.1)
            assert server.candor.loop_lag.p99() < 0.1  # the loop kept up while one candidate streamed
    finally:
        server.stop()
