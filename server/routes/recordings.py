"""Recordings for human review: list a session's answers' recordings and play one (with Range, to seek).

The permission is ``recordings.read`` (server/permissions.py: admin, recruiter and reviewer, of the session's
job). Playing is audited (``recording.played``, once per playback: the request that starts at
byte 0; the range requests a player makes while seeking are not each an entry).
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from recordings import RangeNotSatisfiable, Recordings, byte_range

from ..openapi import Operation, Param, Reply
from ..problems import Problem
from ._common import Resource


class RecordingEntry(BaseModel):
    """One answer's recording. ``segments`` map media time to the file: a quote said at media time t plays at
    ``file_time + (t - media_time)`` of the last segment whose ``media_time`` <= t."""

    answer: int = Field(description="the question's index in the interview (answer.started's index)")
    question_id: str
    start: float = Field(description="media time the answer started (s)")
    end: float | None = Field(description="media time it ended (s)")
    duration: float = Field(description="seconds of media in the file")
    kinds: list[str] = Field(description='"audio", and "video" where face consent was given')
    segments: list[list[float]] = Field(description="[media_time, file_time] where each run of media starts")
    size: int = Field(description="bytes of WebM")
    media_type: str = Field(description="audio/webm or video/webm")
    recorded_at: str
    url: str


class RecordingList(BaseModel):
    session_id: str
    recordings: list[RecordingEntry]


RANGE = Param("Range", "header", {"type": "string"}, "one byte range, e.g. bytes=0- (RFC 9110 section 14)")


class RecordingRoutes(Resource):
    """``/v1/sessions/{id}/recordings`` and ``…/recordings/{answer}``."""

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET", "/v1/sessions/{session_id}/recordings", self.list_recordings,
                "The answers' recordings of a session (with the candidate's recording consent)", "recordings",
                description="Permission recordings.read. Empty where the candidate did not consent to recording "
                "(nothing was kept) or the recordings were erased.",
                replies={200: Reply("the list", RecordingList)},
                problems=(404,), perm="recordings.read",
            ),
            Operation(
                "GET", "/v1/sessions/{session_id}/recordings/{answer}", self.play_recording,
                "One answer's recording: WebM (Opus audio, VP8 video where kept), decrypted", "recordings",
                params=(RANGE,),
                description="Permission recordings.read; audited as recording.played. Supports one byte range "
                "(206 with Content-Range; 416 past the end) so a browser's player can seek.",
                replies={
                    200: Reply("the whole recording", media_type="audio/webm", headers={"Accept-Ranges": "bytes"}),
                    206: Reply("the range asked for", media_type="audio/webm",
                               headers={"Content-Range": "bytes first-last/size", "Accept-Ranges": "bytes"}),
                },
                problems=(404, 416), perm="recordings.read",
            ),
        ]

    def _recordings(self) -> Recordings:
        if self.ctx.recordings is None:
            raise Problem(404, "Not found", "recordings are not kept by this server")
        return self.ctx.recordings

    async def list_recordings(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        self.ctx.require_job(request, (await self.ctx.session_record(session_id)).job_id, "session")
        infos = await asyncio.to_thread(self._recordings().list, session_id)
        base = f"/v1/sessions/{session_id}/recordings/"
        body = {"session_id": session_id, "recordings": [{**i.public(), "url": base + str(i.answer)} for i in infos]}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def play_recording(self, request: Request) -> Response:
        session_id, raw = request.path_params["session_id"], request.path_params["answer"]
        self.ctx.require_job(request, (await self.ctx.session_record(session_id)).job_id, "session")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
            raise Problem(404, "Not found", "a recording is named by its answer's index, e.g. /recordings/1")
        answer = int(raw)
        found = await asyncio.to_thread(self._recordings().read, session_id, answer)
        if found is None:
            raise Problem(404, "Not found", f"no recording of answer {answer} (not consented, not recorded, or erased)")
        info, data = found
        size = len(data)
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
        try:
            span = byte_range(request.headers.get("range"), size)
        except RangeNotSatisfiable:
            raise Problem(416, "Range not satisfiable", f"the recording has {size} bytes",
                          headers={"Content-Range": f"bytes */{size}"}) from None
        if span is None or span[0] == 0:  # a playback starts: one audit entry, not one per seek
            await self.ctx.audit.record(request, "recording.played", "session", session_id, answer=answer)
        if span is None:
            return Response(data, media_type=info.media_type, headers=headers)
        first, last = span
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        return Response(data[first:last + 1], status_code=206, media_type=info.media_type, headers=headers)
