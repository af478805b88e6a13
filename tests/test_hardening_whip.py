"""Issue 12: a WHIP offer cannot stall the server or aim it at internal networks.

The allow-list and the offer checks are pure (media/offer.py) and unit
tested; then a real server: an offer with thousands of candidates is
refused at once, a big one is 413; and with the real models, a real aiortc
offer whose extra candidate names a loopback UDP port this test listens on
shows whether the server sends that port connectivity checks (only when
the setting allows loopback).
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from media.offer import IceAllowList, TooManyCandidates, check_candidate_count, ice_server_hosts, keep_allowed_candidates
from runtime.models import Models
from tests.helpers import HR_TOKEN, LiveServer, make_settings
from tests.test_hardening_limits import ApiServer
from tests.test_whip import bare_peer, sdp_headers

HR = {"Authorization": f"Bearer {HR_TOKEN}"}


def candidate(address: str, port: int = 50000, typ: str = "host", n: int = 1) -> str:
    return f"a=candidate:{n} 1 udp 2130706431 {address} {port} typ {typ}"


OFFER_HEAD = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"


# -- the allow-list -------------------------------------------------------------------


def test_the_default_allows_public_addresses_only() -> None:
    allow = IceAllowList()
    assert allow.allows("8.8.8.8") and allow.allows("2001:4860:4860::8888")
    for internal in ("10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "::1", "fe80::1",
                     "fc00::1", "0.0.0.0", "224.0.0.1", "::ffff:10.0.0.1", "100.64.0.1", "abcd.local", "intranet.bank.cn", "fe80::1%eth0"):
        assert not allow.allows(internal), internal


def test_settings_add_ranges_and_the_turn_servers_are_always_allowed() -> None:
    allow = IceAllowList(("public", "10.20.0.0/16"), frozenset({"192.168.7.7"}))
    assert allow.allows("10.20.3.4") and not allow.allows("10.21.0.1")
    assert allow.allows("192.168.7.7") and not allow.allows("192.168.7.8")
    assert IceAllowList(("private",)).allows("192.168.1.1") and not IceAllowList(("private",)).allows("8.8.8.8")
    assert IceAllowList(("loopback",)).allows("127.0.0.1") and IceAllowList(("loopback",)).allows("::1")
    with pytest.raises(ValueError):
        IceAllowList(("everything",))
    assert ice_server_hosts(["turn:turn.bank.cn:3478?transport=udp", "turns:10.1.1.1:5349", "stun:[2001:db8::1]:3478", "https://x"]) == [
        "turn.bank.cn", "10.1.1.1", "2001:db8::1",
    ]


def test_candidates_outside_the_list_are_dropped_from_the_offer() -> None:
    offer = OFFER_HEAD + "\r\n".join([candidate("8.8.8.8"), candidate("10.0.0.5"), candidate("169.254.169.254", 80), "a=mid:0"]) + "\r\n"
    kept_offer, kept, dropped = keep_allowed_candidates(offer, IceAllowList())
    assert (kept, dropped) == (1, 2)
    assert "8.8.8.8" in kept_offer and "10.0.0.5" not in kept_offer and "169.254.169.254" not in kept_offer
    assert kept_offer.endswith("a=mid:0\r\n") and kept_offer.startswith("v=0\r\n")


def test_an_offer_lists_a_bounded_number_of_candidates() -> None:
    check_candidate_count(OFFER_HEAD + candidate("8.8.8.8") + "\r\n", 1)
    with pytest.raises(TooManyCandidates):
        check_candidate_count(OFFER_HEAD + "\r\n".join(candidate("8.8.8.8", n=i) for i in range(2)) + "\r\n", 1)


# -- a real server, no models ------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with ApiServer(tmp_path_factory.mktemp("whip"), ice_allow=["public"]) as server:
        yield server


@pytest.fixture(scope="module")
def session(api: ApiServer) -> dict[str, Any]:
    with httpx.Client(base_url=api.url, headers=HR) as http:
        return http.post("/v1/sessions", json={}).json()


def test_an_offer_with_thousands_of_candidates_is_refused_at_once(api: ApiServer, session: dict[str, Any]) -> None:
    lines = "\r\n".join(candidate(f"8.8.{i // 250}.{i % 250}", n=i) for i in range(1500))
    offer = OFFER_HEAD + lines + "\r\n"
    assert len(offer) < api.settings.whip_max_offer_bytes * 2
    with httpx.Client(base_url=api.url) as http:
        started = time.monotonic()
        answer = http.post(f"/whip/{session['id']}", content=offer[: api.settings.whip_max_offer_bytes], headers=sdp_headers(session["candidate_token"]))
        took = time.monotonic() - started
    assert answer.status_code == 422, answer.text
    assert answer.json()["title"] == "Too many ICE candidates"
    assert took < 1.0


def test_an_offer_over_the_size_limit_is_413(api: ApiServer, session: dict[str, Any]) -> None:
    offer = OFFER_HEAD + "a=x-padding:" + "p" * api.settings.whip_max_offer_bytes + "\r\n"
    with httpx.Client(base_url=api.url) as http:
        answer = http.post(f"/whip/{session['id']}", content=offer, headers=sdp_headers(session["candidate_token"]))
    assert answer.status_code == 413, answer.text


def test_an_offer_naming_only_internal_addresses_is_422(api: ApiServer, session: dict[str, Any]) -> None:
    offer = OFFER_HEAD + "\r\n".join([candidate("10.0.0.5"), candidate("169.254.169.254", 80), candidate("127.0.0.1", 6379)]) + "\r\n"
    with httpx.Client(base_url=api.url) as http:
        answer = http.post(f"/whip/{session['id']}", content=offer, headers=sdp_headers(session["candidate_token"]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["title"] == "No reachable ICE candidate"


# -- a real server with the models: what it sends where -----------------------------------


async def _checks_seen(models: Models, tmp_path: Path, ice_allow: list[str]) -> tuple[int, dict[str, Any]]:
    """Offer a real aiortc peer's candidates plus one naming a loopback UDP port; count the STUN packets that port gets."""
    server = LiveServer(make_settings(tmp_path, ice_allow=ice_allow), models).start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            session = (await http.post("/v1/sessions", json={}, headers=HR)).json()
            headers = {"Authorization": f"Bearer {session['candidate_token']}"}
            assert (await http.post(f"/v1/sessions/{session['id']}/consent", json={"voice": True, "face": True}, headers=headers)).status_code == 200
            async with bare_peer() as pc:
                sdp = pc.localDescription.sdp
                first_mid = sdp.index("a=mid:")
                sdp = sdp[:first_mid] + candidate("127.0.0.1", port, n=99) + "\r\n" + sdp[first_mid:]
                answer = await http.post(f"/whip/{session['id']}", content=sdp, headers=sdp_headers(session["candidate_token"]))
                assert answer.status_code == 201, answer.text
                packets = 0
                deadline = time.monotonic() + 4
                while time.monotonic() < deadline:
                    try:
                        listener.recv(2048)
                        packets += 1
                    except BlockingIOError:
                        await asyncio.sleep(0.05)
                bad = await http.post(f"/whip/{session['id']}", content="v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:x\r\n" + candidate("8.8.8.8") + "\r\n",
                                      headers=sdp_headers(session["candidate_token"]))
                return packets, {"status": bad.status_code, **bad.json()}
    finally:
        listener.close()
        server.stop()


async def test_the_server_checks_only_allowed_addresses_and_hides_parser_errors(models: Models, tmp_path: Path) -> None:
    refused, bad_offer = await _checks_seen(models, tmp_path / "public", ["public", "private"])
    assert refused == 0  # loopback not allowed: the candidate was dropped, no check sent there
    allowed, _ = await _checks_seen(models, tmp_path / "loopback", ["public", "private", "loopback"])
    assert allowed > 0  # the same offer with loopback allowed: the server does send checks there
    assert bad_offer["status"] in (400, 422)
    assert "rtpmap" not in bad_offer["detail"] and "Error" not in bad_offer["detail"]  # no parser message echoed
