"""Recordings for human review (issue 12, section 4): made per answer, sealed, kept in a BlobStore.

With the candidate's ``recording`` consent, each scored answer's audio (and
video, where face consent was given) is encoded while the answer runs
(:class:`SessionRecorder`, fed from the event loop, encoding on a worker
thread) and, when the answer ends, sealed with the vault under the session's
data key and handed to the store. Plain media never touches the disk: the
WebM is built in memory and only the sealed blob is written.

Per answer two blobs: ``<session>/answer-<n>.webm.sealed`` (the media) and
``<session>/answer-<n>.json.sealed`` (what the list shows: question, media
times, duration, kinds, segments). Both are sealed for the session (the
vault subject) with the answer in the context, so one answer's blob copied
under another's name does not open. Erasing the session's data key makes
every copy unreadable; :meth:`Recordings.delete_recordings` deletes the files.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import re
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from vault import Erased, Vault, VaultError

from .blobs import BlobStore
from .encoder import AnswerEncoder

log = logging.getLogger(__name__)

_MEDIA = re.compile(r"^answer-(\d{1,6})\.webm\.sealed$")


def media_key(session_id: str, answer: int) -> str:
    return f"{session_id}/answer-{answer}.webm.sealed"


def meta_key(session_id: str, answer: int) -> str:
    return f"{session_id}/answer-{answer}.json.sealed"


def _context(kind: str, answer: int) -> str:
    return f"recordings.{kind}:{answer}"


@dataclass(frozen=True)
class RecordingInfo:
    session_id: str
    answer: int  # the question's index in the interview (AnswerStarted.index)
    question_id: str
    start: float  # media time the answer started
    end: float | None  # media time it ended
    duration: float  # seconds in the file
    kinds: tuple[str, ...]  # ("audio",) or ("audio", "video")
    segments: tuple[tuple[float, float], ...]  # (media time, file time): file_time_at() maps a quote's time
    size: int  # bytes of WebM
    recorded_at: str

    @property
    def media_type(self) -> str:
        return "video/webm" if "video" in self.kinds else "audio/webm"

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("session_id")
        out["kinds"] = list(self.kinds)
        out["segments"] = [list(s) for s in self.segments]
        out["media_type"] = self.media_type
        return out

    @classmethod
    def of(cls, data: dict[str, Any]) -> "RecordingInfo":
        return cls(**{**data, "kinds": tuple(data["kinds"]), "segments": tuple(tuple(s) for s in data["segments"])})


@dataclass(frozen=True)
class RecorderConfig:
    video: bool = True  # record video where face consent was given
    max_answer_s: float = 600.0  # an answer's recording stops here (bounds memory)
    video_fps: float = 5.0
    queue_max: int = 2000  # frames waiting for the worker (~40 s of audio); beyond, frames are dropped and counted


class Recordings:
    """Every session's recordings: making them (:meth:`recorder`), listing, reading and deleting them."""

    def __init__(self, blobs: BlobStore, vault: Vault, config: RecorderConfig | None = None, *, workers: int = 1) -> None:
        self.blobs = blobs
        self.vault = vault
        self.config = config or RecorderConfig()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recordings")

    def prepare(self, session_id: str) -> None:
        """Make the session's data key (call on the store's thread, before :meth:`recorder`): recordings are
        sealed under it, and only while it exists (an erased session's key is not made again by a late answer)."""
        self.vault.data_key(session_id, create=True)

    def recorder(self, session_id: str, *, video: bool) -> "SessionRecorder":
        """A recorder for one live session; ``video``: face consent was given (and the setting allows video)."""
        return SessionRecorder(self, session_id, video=video and self.config.video)

    # -- storing (worker thread) -------------------------------------------------
    def store(self, info: RecordingInfo, webm: bytes) -> None:
        """Seal and keep one answer's recording (media first, then the entry that lists it)."""
        s, n = info.session_id, info.answer
        if self.vault.data_key(s, create=False) is None:
            raise Erased(f"session {s} has no data key (erased, or prepare() was not called)")
        self.blobs.put(media_key(s, n), self.vault.seal(s, webm, _context("media", n)))
        meta = json.dumps(asdict(info), ensure_ascii=False).encode()
        self.blobs.put(meta_key(s, n), self.vault.seal(s, meta, _context("meta", n)))

    # -- reading (call off the event loop) -------------------------------------------
    def answers(self, session_id: str) -> list[int]:
        found = []
        for key in self.blobs.list(f"{session_id}/"):
            m = _MEDIA.match(key.split("/", 1)[1])
            if m:
                found.append(int(m.group(1)))
        return sorted(found)

    def info(self, session_id: str, answer: int) -> RecordingInfo | None:
        """The answer's entry; None where there is none or it was erased (its key forgotten)."""
        blob = self.blobs.get(meta_key(session_id, answer))
        if blob is None:
            return None
        try:
            return RecordingInfo.of(json.loads(self.vault.open(session_id, blob, _context("meta", answer))))
        except Erased:
            return None

    def list(self, session_id: str) -> list[RecordingInfo]:
        return [i for i in (self.info(session_id, n) for n in self.answers(session_id)) if i is not None]

    def read(self, session_id: str, answer: int) -> tuple[RecordingInfo, bytes] | None:
        """The answer's entry and its WebM (opened); None where there is none or it was erased."""
        info = self.info(session_id, answer)
        blob = self.blobs.get(media_key(session_id, answer)) if info is not None else None
        if info is None or blob is None:
            return None
        try:
            return info, self.vault.open(session_id, blob, _context("media", answer))
        except Erased:
            return None

    def delete_recordings(self, session_id: str) -> int:
        """Delete every recording of the session (erasure, retention): how many answers' recordings went."""
        keys = self.blobs.list(f"{session_id}/")
        for key in keys:
            self.blobs.delete(key)
        return sum(1 for key in keys if _MEDIA.match(key.split("/", 1)[1]))

    def sessions(self) -> list[str]:
        """Sessions with recordings (for retention: purge those past their date)."""
        return sorted({key.split("/", 1)[0] for key in self.blobs.list("") if "/" in key})

    def attach(self, store: Any) -> None:
        """Erasure and retention reach the files through the store's hooks (db/erasure.py, server/purge.py)."""

        def erase_recordings(_candidate_id: str, session_ids: tuple[str, ...]) -> None:
            for session_id in session_ids:
                self.delete_recordings(session_id)

        store.erasure_hooks.append(erase_recordings)
        store.recording_purge_hooks.append(lambda session_ids: sum(self.delete_recordings(s) for s in session_ids))
        store.recording_probes.append(lambda session_ids: sum(len(self.answers(s)) for s in session_ids))

    def close(self) -> None:
        self._executor.shutdown(wait=True)


class _Work:
    """One answer being encoded: lives on the worker thread only."""

    def __init__(self, encoder: AnswerEncoder, answer: int, question_id: str, start: float) -> None:
        self.encoder = encoder
        self.answer = answer
        self.question_id = question_id
        self.start = start


class SessionRecorder:
    """Cuts a live session's media into answers and encodes each on a worker thread.

    Called from the event loop; never blocks it: each call queues a small item
    and the items run in order on the recordings executor (a serial queue per
    session over a shared pool). The queue is bounded (``queue_max``): when the
    worker falls that far behind, new frames are dropped and counted in
    ``dropped`` (never silently; the answer's entry keeps what was encoded).
    """

    def __init__(self, recordings: Recordings, session_id: str, *, video: bool) -> None:
        self._rec = recordings
        self.session_id = session_id
        self.video = video
        self._lock = threading.Lock()
        self._pending: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        self._scheduled = False
        self.dropped = {"audio": 0, "video": 0}
        self.failures = 0
        # event-loop side: the answer being recorded
        self._answer: int | None = None
        self._answer_start = 0.0
        self._answer_audio_s = 0.0
        self._done: set[int] = set()  # answers stored or skipped this session
        # worker side
        self._work: _Work | None = None

    # -- event loop --------------------------------------------------------------
    @property
    def recording(self) -> int | None:
        return self._answer

    def answer_started(self, answer: int, question_id: str, media_time: float, *, resumed: bool = False) -> None:
        if self._answer == answer:
            return  # the same answer resumed after a drop: it goes on in the same file (a new segment)
        if self._answer is not None:
            self.answer_ended(self._answer, media_time)
        if answer in self._done:
            return
        self._answer, self._answer_start, self._answer_audio_s = answer, media_time, 0.0
        self._submit(self._w_start, (answer, question_id, media_time, resumed), control=True)

    def answer_ended(self, answer: int, media_time: float) -> None:
        if self._answer != answer:
            return
        self._answer = None
        self._done.add(answer)
        self._submit(self._w_end, (media_time, None), control=True)

    def push_audio(self, samples: Any, media_time: float) -> None:
        if self._answer is None or media_time < self._answer_start - 0.05:
            return
        self._answer_audio_s += len(samples) / 16_000
        if self._answer_audio_s > self._rec.config.max_answer_s:
            return  # the answer's recording is full: what follows is not kept
        self._submit(self._w_audio, (samples, media_time), kind="audio")

    def push_video(self, image: Any, media_time: float) -> None:
        if self.video and self._answer is not None and self._answer_audio_s <= self._rec.config.max_answer_s:
            self._submit(self._w_video, (image, media_time), kind="video")

    async def aclose(self, *, keep: bool = True) -> None:
        """End the recording: the answer on is stored (``keep``) or dropped (consent withdrawn)."""
        answer, self._answer = self._answer, None
        if answer is not None:
            self._done.add(answer)
        if self.dropped["audio"] or self.dropped["video"] or self.failures:  # never silent; ids and counts only
            log.warning("recording of session %s: dropped audio=%d video=%d frames, %d failures",
                        self.session_id, self.dropped["audio"], self.dropped["video"], self.failures)
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if keep:
            self._submit(self._w_end, (None, future), control=True)
        else:
            self._submit(self._w_abort, (future,), control=True)
        await asyncio.wrap_future(future)

    # -- the serial queue ----------------------------------------------------------
    def _submit(self, fn: Callable[..., None], args: tuple[Any, ...], *, kind: str = "", control: bool = False) -> None:
        with self._lock:
            if not control and len(self._pending) >= self._rec.config.queue_max:
                self.dropped[kind] += 1
                return
            self._pending.append((fn, args))
            if self._scheduled:
                return
            self._scheduled = True
        self._rec._executor.submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._scheduled = False
                    return
                fn, args = self._pending.popleft()
            try:
                fn(*args)
            except Exception as exc:  # counted and logged with ids only; the next answer records afresh
                self.failures += 1
                log.error("recording failed: session %s: %s", self.session_id, type(exc).__name__)
                if self._work is not None:
                    self._work.encoder.abort()
                    self._work = None
                for arg in args:
                    if isinstance(arg, concurrent.futures.Future) and not arg.done():
                        arg.set_result(None)

    # -- worker thread ---------------------------------------------------------------
    def _w_start(self, answer: int, question_id: str, media_time: float, resumed: bool) -> None:
        if self._work is not None:
            self._w_end(media_time, None)
        if resumed and answer in self._rec.answers(self.session_id):
            return  # a session restarted mid-answer keeps the part it stored before
        encoder = AnswerEncoder(video=self.video, fps=self._rec.config.video_fps)
        self._work = _Work(encoder, answer, question_id, media_time)

    def _w_audio(self, samples: Any, media_time: float) -> None:
        if self._work is not None:
            self._work.encoder.add_audio(samples, media_time)

    def _w_video(self, image: Any, media_time: float) -> None:
        if self._work is not None:
            self._work.encoder.add_video(image, media_time)

    def _w_end(self, media_time: float | None, future: concurrent.futures.Future[None] | None) -> None:
        work, self._work = self._work, None
        try:
            if work is None:
                return
            if work.encoder.duration <= 0:
                work.encoder.abort()
                return
            encoded = work.encoder.finish()
            info = RecordingInfo(
                session_id=self.session_id, answer=work.answer, question_id=work.question_id, start=round(work.start, 3),
                end=round(media_time, 3) if media_time is not None else None, duration=encoded.duration,
                kinds=encoded.kinds, segments=encoded.segments, size=len(encoded.data),
                recorded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            )
            try:
                self._rec.store(info, encoded.data)
            except VaultError:
                log.warning("recording not kept: session %s answer %s (its key is gone: erased)", self.session_id, work.answer)
        finally:
            if future is not None and not future.done():
                future.set_result(None)

    def _w_abort(self, future: concurrent.futures.Future[None]) -> None:
        work, self._work = self._work, None
        if work is not None:
            work.encoder.abort()
        future.set_result(None)
