"""One WHIP connection: an aiortc peer that feeds a session's MediaIngest.

This module and :mod:`media.whip_client` are the only places that import
aiortc. A connection is not the session: it can end (``on_ended``) and a new
one can take its place while the session goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from .ingest import MediaIngest

log = logging.getLogger(__name__)

CONTROL_LABEL = "control"


class SdpError(ValueError):
    """The offer cannot be accepted; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def check_offer_layout(sdp: str) -> None:
    """A WHIP offer for Candor: one audio, at most one video, at most one data channel.

    Video may be left out: a candidate who declines face processing (pipl
    policy) publishes audio only.
    """
    if not isinstance(sdp, str) or not sdp.lstrip().startswith("v=0"):
        raise SdpError(400, "Malformed SDP", "the body is not an SDP offer (it must start with v=0)")
    kinds = [line[2:].split(" ", 1)[0] for line in sdp.splitlines() if line.startswith("m=")]
    if not kinds:
        raise SdpError(400, "Malformed SDP", "the offer has no media sections")
    counts = {kind: kinds.count(kind) for kind in set(kinds)}
    unknown = sorted(set(counts) - {"audio", "video", "application"})
    if unknown:
        raise SdpError(422, "Unsupported media layout", f"unexpected media kinds: {', '.join(unknown)}")
    if counts.get("audio", 0) != 1 or counts.get("video", 0) > 1 or counts.get("application", 0) > 1:
        raise SdpError(
            422,
            "Unsupported media layout",
            "the offer must have exactly one audio section, at most one video section and at most one data channel, "
            f"found audio={counts.get('audio', 0)} video={counts.get('video', 0)} "
            f"application={counts.get('application', 0)}",
        )


def _rtc_ice_servers(ice_servers: list[dict[str, Any]]) -> list[RTCIceServer]:
    return [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in ice_servers
    ]


class WhipConnection:
    def __init__(
        self,
        *,
        connection_id: str,
        ingest: MediaIngest,
        ice_servers: list[dict[str, Any]],
        on_control: Callable[[dict[str, Any]], None],
        on_ended: Callable[["WhipConnection", str], None],
        on_media_flowing: Callable[["WhipConnection"], None] | None = None,
        on_control_open: Callable[["WhipConnection"], None] | None = None,
    ) -> None:
        self.id = connection_id
        self._ingest = ingest
        self._on_control = on_control
        self._on_ended = on_ended
        self._on_media_flowing = on_media_flowing
        self._on_control_open = on_control_open
        self._pc = RTCPeerConnection(RTCConfiguration(iceServers=_rtc_ice_servers(ice_servers)))
        self._tasks: set[asyncio.Task[None]] = set()
        self._channel: Any = None
        self._ended = False
        self._flowing = False
        self._last_audio: float | None = None  # the loop's time of the newest audio frame
        self.answer_sdp: str | None = None
        self._pc.on("track", self._on_track)
        self._pc.on("datachannel", self._on_datachannel)
        self._pc.on("connectionstatechange", self._on_state)

    @property
    def state(self) -> str:
        return self._pc.connectionState

    async def accept(self, offer_sdp: str) -> str:
        """Answer the offer (ICE gathered: no trickle); raises :class:`SdpError`."""
        check_offer_layout(offer_sdp)
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except Exception as exc:  # aiortc raises ValueError and friends on bad SDP
            # the parser's message stays out of the answer (it describes aiortc's insides); its kind goes to the log
            log.info("WHIP offer not applied: %s", type(exc).__name__)
            raise SdpError(400, "Malformed SDP", "the offer could not be applied: it is not an SDP offer this server can read") from exc
        for transceiver in self._pc.getTransceivers():
            if transceiver.kind in ("audio", "video"):
                transceiver.direction = "recvonly"
        try:
            answer = await self._pc.createAnswer()
            await self._pc.setLocalDescription(answer)
        except Exception as exc:
            log.info("WHIP answer not made: %s", type(exc).__name__)
            raise SdpError(422, "Unacceptable offer", "no answer could be made to this offer (its media sections or codecs)") from exc
        sdp = self._pc.localDescription.sdp
        for line in sdp.splitlines():
            if line.startswith(("m=audio 0 ", "m=video 0 ")):
                raise SdpError(422, "Unsupported codecs", f"no common codec for {line.split()[0][2:]}")
        self._ingest.begin_connection()
        self.answer_sdp = sdp
        return sdp

    def watch(self, *, connect_s: float, first_media_s: float, silence_s: float) -> None:
        """Deadlines, so that a candidate who never connects or vanishes frees their slot (issue 13).

        After the answer: connected (ICE and DTLS) within ``connect_s``, else
        ended ``ice-timeout`` (an offer whose UDP never gets through, e.g. no
        TURN); the first audio within ``first_media_s``, else ``no-media``;
        then no gap between audio frames longer than ``silence_s``, else
        ``media-timeout`` (a browser killed without goodbye: its RTP stops at
        once, long before ICE consent freshness gives up). A browser sends
        audio frames all along, silence included, while its tab is open.
        """
        task = asyncio.get_running_loop().create_task(
            self._watch(connect_s, first_media_s, silence_s), name=f"deadlines:{self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch(self, connect_s: float, first_media_s: float, silence_s: float) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        step = max(0.1, min(1.0, connect_s / 4, first_media_s / 4, silence_s / 4))
        while not self._ended:
            await asyncio.sleep(step)
            now = loop.time()
            reason = None
            if self._pc.connectionState != "connected" and self._last_audio is None and now - started > connect_s:
                reason = "ice-timeout"
            elif self._last_audio is None and now - started > first_media_s:
                reason = "no-media"
            elif self._last_audio is not None and now - self._last_audio > silence_s:
                reason = "media-timeout"
            if reason is not None:
                log.info("connection %s ended: %s", self.id, reason)
                # closed from a task of its own: close() cancels this one
                loop.create_task(self.close(reason), name=f"deadline-close:{self.id}")
                return

    @property
    def control_open(self) -> bool:
        """The candidate's "control" data channel is open (captions can reach them)."""
        return self._channel is not None and self._channel.readyState == "open"

    def send_control(self, message: dict[str, Any]) -> bool:
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return False
        try:
            channel.send(json.dumps(message, ensure_ascii=False))
        except Exception:  # a closing channel: the message is only a caption
            return False
        return True

    async def close(self, reason: str = "closed", *, announce: bool = True) -> None:
        """Hang up; ``announce=False`` for a connection that never started."""
        if not announce:
            self._ended = True
        self._end(reason)
        for task in list(self._tasks):
            task.cancel()
        await self._pc.close()

    # -- aiortc callbacks -------------------------------------------------
    def _on_track(self, track: Any) -> None:
        consume = self._consume_audio if track.kind == "audio" else self._consume_video
        task = asyncio.get_running_loop().create_task(consume(track), name=f"track:{track.kind}:{self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_datachannel(self, channel: Any) -> None:
        if channel.label != CONTROL_LABEL:
            return
        self._channel = channel

        def _opened() -> None:
            if self._on_control_open is not None:
                self._on_control_open(self)

        if channel.readyState == "open":
            asyncio.get_running_loop().call_soon(_opened)
        else:
            channel.on("open", _opened)

        @channel.on("message")
        def _message(data: Any) -> None:
            if isinstance(data, bytes):
                data = data.decode("utf-8", "replace")
            try:
                message = json.loads(data)
            except ValueError:
                return
            if isinstance(message, dict):
                self._on_control(message)

    async def _on_state(self) -> None:
        if self._pc.connectionState in ("failed", "closed"):
            self._end(self._pc.connectionState)

    async def _consume_audio(self, track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            self._ingest.audio_frame(frame)
            self._last_audio = asyncio.get_running_loop().time()
            self._mark_flowing()
        self._end("audio track ended")

    async def _consume_video(self, track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            self._ingest.video_frame(frame)

    def _mark_flowing(self) -> None:
        if not self._flowing:
            self._flowing = True
            if self._on_media_flowing is not None:
                self._on_media_flowing(self)

    def _end(self, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._on_ended(self, reason)
