"""A video frame leaves aiortc's jitter buffer at its last packet, not a frame later.

aiortc's ``JitterBuffer`` (1.16) knows a video frame is whole only when the
first packet of the *next* frame arrives (a new RTP timestamp). Every frame
then waits one frame interval before it is decoded: 67 ms at 15 frames a
second, 200 ms at the 5 a second the candidate page sends
(``CANDOR_VIDEO_FPS``), which is most of the face analysis's latency. The
sender marks a frame's last packet (the RTP marker bit: RFC 7741 for VP8,
RFC 6184 for H.264; Chrome, Safari, Firefox and aiortc set it), so a frame
whose packets are all there, in sequence, up to a marked one is released
then. A marked packet that is lost changes nothing: the next frame's first
packet releases the frame as before (or, with a hole, aiortc's own
loss handling applies). Audio is untouched.

``install(True)`` makes aiortc's receivers use it (the app does, unless
``CANDOR_WEBRTC_FRAME_AT_MARKER=false``); ``install(False)`` puts aiortc's
back. It holds for the whole process, from the next connection on.
"""

from __future__ import annotations

from typing import Optional

import aiortc.rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's jitter buffer; for video, a frame is also whole at its marked last packet."""

    def add(self, packet: RtpPacket) -> tuple[bool, Optional[JitterFrame]]:
        pli_flag, frame = super().add(packet)
        if frame is None and self._is_video and packet.marker:
            frame = self._whole_at(packet)
        return pli_flag, frame

    def _whole_at(self, last: RtpPacket) -> Optional[JitterFrame]:
        """The frame ending at ``last``, if every packet from the buffer's start to it is there and of that frame."""
        if self._origin is None:
            return None
        packets: list[RtpPacket] = []
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None or packet.timestamp != last.timestamp:
                return None  # a hole, or an older frame not yet whole: aiortc's rule decides
            packets.append(packet)
            if packet.sequence_number == last.sequence_number:
                self.remove(count + 1)
                return JitterFrame(data=b"".join(p._data for p in packets), timestamp=last.timestamp)  # type: ignore[attr-defined]
        return None


def install(enabled: bool = True) -> None:
    """aiortc's receivers build their jitter buffers from this module's class (or, ``enabled`` false, aiortc's own)."""
    aiortc.rtcrtpreceiver.JitterBuffer = MarkerJitterBuffer if enabled else JitterBuffer  # type: ignore[misc]
