"""A WHIP publisher in Python (aiortc): what tests and benchmarks use as a candidate.

It publishes an audio file and a video file (any format PyAV reads) in real
time over WebRTC, like a browser would, keeps the ``control`` data channel
and collects the captions the server sends back.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer


class WhipError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"WHIP answered {status}: {body}")
        self.status = status
        self.body = body


def consent_url(whip_url: str) -> str:
    """``.../whip/{id}`` -> ``.../v1/sessions/{id}/consent``."""
    base, _, session_id = whip_url.rstrip("/").rpartition("/whip/")
    return f"{base}/v1/sessions/{session_id}/consent"


@dataclass
class WhipPublisher:
    whip_url: str
    token: str
    audio_path: str | None = None
    video_path: str | None = None
    loop: bool = False
    # Posted to the session's consent URL before the offer (a candidate
    # consents before any analysis); None: skip (consent already given).
    consent: dict[str, bool] | None = field(default_factory=lambda: {"voice": True, "face": True})
    captions: list[dict[str, Any]] = field(default_factory=list)
    hello: dict[str, Any] | None = None  # the server's greeting on the control channel
    location: str | None = None
    posted_at: float | None = None
    answered_at: float | None = None
    redirects: int = 0  # 307s followed to the node that serves the session

    def __post_init__(self) -> None:
        self._pc: RTCPeerConnection | None = None
        self._players: list[MediaPlayer] = []
        self.channel_open = asyncio.Event()

    async def start(self) -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pc = pc
        if self.audio_path:
            audio = MediaPlayer(self.audio_path, loop=self.loop)
            self._players.append(audio)
            pc.addTransceiver(audio.audio, direction="sendonly")
        if self.video_path:
            video = MediaPlayer(self.video_path, loop=self.loop)
            self._players.append(video)
            pc.addTransceiver(video.video, direction="sendonly")
        channel = pc.createDataChannel("control")

        @channel.on("open")
        def _open() -> None:
            self.channel_open.set()

        @channel.on("message")
        def _message(data: Any) -> None:
            try:
                message = json.loads(data)
            except ValueError:
                return
            if message.get("type") == "caption":
                self.captions.append(message)
            elif message.get("type") == "hello":
                self.hello = message

        self._channel = channel
        await pc.setLocalDescription(await pc.createOffer())
        async with httpx.AsyncClient(timeout=30) as client:
            if self.consent is not None:
                consented = await client.post(
                    consent_url(self.whip_url), json=self.consent, headers={"Authorization": f"Bearer {self.token}"}
                )
                if consented.status_code != 200:
                    await self.close(delete=False)
                    raise WhipError(consented.status_code, consented.text)
            self.posted_at = time.monotonic()
            # Several nodes answer 307 to the node that serves this session (RFC 9725 allows it): the same offer
            # goes there, as a browser's fetch does; the Location carries a ticket for the token httpx drops.
            response = await client.post(
                self.whip_url,
                content=pc.localDescription.sdp,
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/sdp"},
                follow_redirects=True,
            )
        if response.status_code != 201:
            await self.close(delete=False)
            raise WhipError(response.status_code, response.text)
        self.answered_at = time.monotonic()
        self.redirects = len(response.history)
        self.location = urljoin(str(response.url), response.headers["location"])
        await pc.setRemoteDescription(RTCSessionDescription(sdp=response.text, type="answer"))

    def send_control(self, message: dict[str, Any]) -> None:
        self._channel.send(json.dumps(message))

    async def close(self, *, delete: bool = True) -> None:
        if delete and self.location:
            async with httpx.AsyncClient(timeout=10) as client:
                try:
                    await client.delete(self.location, headers={"Authorization": f"Bearer {self.token}"})
                except httpx.HTTPError:
                    pass
        for player in self._players:
            for track in (player.audio, player.video):
                if track is not None:
                    track.stop()
        if self._pc is not None:
            await self._pc.close()
