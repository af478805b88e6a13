"""A video frame leaves the jitter buffer at its marked last packet (media/jitter.py), and a lost marker costs nothing."""

from __future__ import annotations

import aiortc.rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from benchmarks.frame_delay import decode_delays
from media import jitter
from media.jitter import MarkerJitterBuffer
from server.app import create_app
from tests.helpers import make_settings
from tests.media_fixtures import TEST_MEDIA


def packet(seq: int, timestamp: int, data: bytes, *, marker: bool = False) -> RtpPacket:
    p = RtpPacket(sequence_number=seq, timestamp=timestamp, marker=int(marker))
    p._data = data  # type: ignore[attr-defined]  # what aiortc's depayloader leaves
    return p


def frames(buffer: JitterBuffer, packets: list[RtpPacket]) -> list[tuple[int, bytes | None]]:
    """(sequence number, the frame released by that packet's arrival)."""
    out = []
    for p in packets:
        _, frame = buffer.add(p)
        out.append((p.sequence_number, frame.data if frame is not None else None))
    return out


# three frames of 3, 2 and 1 packets, each last packet marked, as a browser sends them
STREAM = [
    packet(10, 1000, b"a1"), packet(11, 1000, b"a2"), packet(12, 1000, b"a3", marker=True),
    packet(13, 4000, b"b1"), packet(14, 4000, b"b2", marker=True),
    packet(15, 7000, b"c1", marker=True),
]


def test_a_frame_is_released_at_its_last_packet_not_at_the_next_frames_first() -> None:
    assert frames(MarkerJitterBuffer(capacity=512, is_video=True), STREAM) == [
        (10, None), (11, None), (12, b"a1a2a3"), (13, None), (14, b"b1b2"), (15, b"c1"),
    ]
    # aiortc's own buffer: each frame one packet (a frame interval) later, and the last not yet
    assert frames(JitterBuffer(capacity=512, is_video=True), STREAM) == [
        (10, None), (11, None), (12, None), (13, b"a1a2a3"), (14, None), (15, b"b1b2"),
    ]


def test_a_lost_or_late_packet_never_releases_a_frame_with_a_hole() -> None:
    # a2 comes after a3 (reordered): nothing at a3, the whole frame when a2 fills the hole... at the next frame's first
    reordered = [STREAM[0], STREAM[2], STREAM[1], *STREAM[3:]]
    got = frames(MarkerJitterBuffer(capacity=512, is_video=True), reordered)
    assert got[1] == (12, None)
    assert [data for _, data in got if data] == [b"a1a2a3", b"b1b2", b"c1"]
    # the marked packet is lost: no frame past the hole (aiortc asks for it again with a NACK); the retransmission
    # completes frame a, released whole at that moment, as aiortc's own buffer does
    lost_then_resent = [STREAM[0], STREAM[1], *STREAM[3:], STREAM[2]]
    got = frames(MarkerJitterBuffer(capacity=512, is_video=True), lost_then_resent)
    assert got == frames(JitterBuffer(capacity=512, is_video=True), lost_then_resent)
    assert [data for _, data in got] == [None, None, None, None, None, b"a1a2a3"]


def test_audio_is_untouched() -> None:
    marked = [packet(1, 960 * k, bytes([k]), marker=(k == 0)) for k in range(8)]
    assert frames(MarkerJitterBuffer(capacity=16, prefetch=4), marked) == frames(JitterBuffer(capacity=16, prefetch=4), marked)


def test_the_server_installs_it_for_aiortcs_receivers_unless_told_not_to(tmp_path) -> None:
    for name in ("off", "on"):
        (tmp_path / name).mkdir()
    try:
        create_app(make_settings(tmp_path / "off", webrtc_frame_at_marker=False), load_models=False)
        assert aiortc.rtcrtpreceiver.JitterBuffer is JitterBuffer
        create_app(make_settings(tmp_path / "on"), load_models=False)
        assert aiortc.rtcrtpreceiver.JitterBuffer is MarkerJitterBuffer
    finally:
        jitter.install(True)



async def test_over_real_peers_a_frame_is_decoded_when_sent_not_a_frame_interval_later() -> None:
    marker = await decode_delays(True, media_dir=TEST_MEDIA)
    rule = await decode_delays(False, media_dir=TEST_MEDIA)
    assert marker[len(marker) // 2] < 0.05, marker  # a few ms on loopback
    assert rule[len(rule) // 2] > 0.15, rule  # aiortc's rule: the next frame's first packet, 0.2 s at 5 fps
