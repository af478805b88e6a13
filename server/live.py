"""Live sessions: a session's media, analyzers and connection, held in memory.

A session outlives its connections. ``connect`` answers a WHIP offer and,
when a connection is already up, replaces it; the analyzer graph and the
media clock carry on, so a candidate who drops and comes back continues the
same session. Sessions are loaded from the store on demand (a watcher can
replay an old session's log) and closed when their token expires.

A session with no candidate connected for ``idle_release_s`` is released
(issue 13): its analyzer graph, recorder, scoring tasks and buffers go and it
leaves the registry. A candidate who comes back gets a session rebuilt from
the event log, exactly as after a server restart: the same question, media
time and utterance numbering run on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from typing import Any

from analyzers.base import AnalyzerError
from db import AsyncStore, SessionRecord, utcnow
from events import (
    CONSENT_GIVEN,
    CONSENT_WITHDRAWN,
    AnalyzerEvent,
    ConnectionEnded,
    ConnectionStarted,
    Event,
    MediaDropped,
    MediaFlowing,
    SessionCreated,
    SessionError,
    SpeechEnd,
    SpeechStart,
    TranscriptFinal,
    TranscriptPartial,
)
from analyzers.graph import AnalyzerGraph
from analyzers.turns import TurnConfig
from interview.flow import (
    ANSWER_ENDED,
    ANSWER_STARTED,
    FLOW_EVENT_TYPES,
    INTERVIEW_ENDED,
    QUESTION_STARTED,
    FlowEvent,
    InterviewFlow,
)
from interview.personalise import replay
from media.frames import AudioChunk, VideoFrame
from media.ingest import MediaIngest
from media.peer import WhipConnection
from recordings import Recordings, SessionRecorder
from runtime.models import Models

from scoring.answers import AnswerScoring, AnswerScoringConfig

from .eventlog import EventWriter, SessionEvents
from .nodes import Nodes, RemoteEvents
from .metrics import Metrics
from .policy import PROFILES, Consent, consent_from_log
from .settings import Settings

log = logging.getLogger(__name__)


def turn_config(settings: Settings) -> TurnConfig:
    """How the VAD's turns end and split, from the settings (README, "Configuration")."""
    return TurnConfig(
        threshold=settings.vad_threshold,
        min_silence_s=settings.vad_min_silence_s,
        min_speech_s=settings.vad_min_speech_s,
        max_utterance_s=settings.max_utterance_s,
        long_turn_s=settings.vad_long_turn_s or None,
        long_turn_min_silence_s=settings.vad_long_turn_min_silence_s,
        speculate_lead_s=None if settings.asr_speculate_at_pad else settings.asr_speculate_lead_s,
        speculate_short_lead_s=settings.asr_speculate_short_lead_s,
    )


class LiveSession:
    def __init__(
        self,
        record: SessionRecord,
        events: SessionEvents,
        *,
        models: Models,
        settings: Settings,
        metrics: Metrics,
        flow: InterviewFlow | None = None,
        consent: Consent | None = None,
        weights: Any = None,
        accommodation: bool = False,
        recorder: SessionRecorder | None = None,
    ) -> None:
        self.record = record
        # Keeps each answer's media when the candidate consented to recording (recordings/); else None.
        self.recorder = recorder
        # What the candidate consented to: the graph analyses only that.
        self.consent = consent
        self.policy = PROFILES[settings.policy]
        self.events = events
        self._models = models
        self._settings = settings
        self._metrics = metrics
        self.connection: WhipConnection | None = None
        self.graph: AnalyzerGraph | None = None
        self._graph_task: asyncio.Task[None] | None = None
        self._monitor_task: asyncio.Task[None] | None = None
        self._dropped_reported = {"audio": 0, "video": 0}
        self._resyncs_reported = 0
        self._speech_ends: dict[int, float] = {}
        self.ingest = MediaIngest(on_audio=self._on_audio, on_video=self._on_video, video_fps=settings.video_fps,
                                  on_video_in=metrics.video_decoded.inc)
        self.closed = False
        # A structured interview (None: free talk). Driven on media time.
        self.flow = flow
        self._flow_task: asyncio.Task[None] | None = None
        # Live scoring of the structured interview: owns the answer windows.
        self.scoring: AnswerScoring | None = None
        if flow is not None:
            self.scoring = AnswerScoring(
                flow.questions,
                models.encoder,
                publish=self.events.publish,
                settled=self._asr_settled,
                flush=self._flush_analyzers,
                clock=lambda: self.media_time,
                weights=weights,
                accommodation=accommodation,
                config=AnswerScoringConfig(settle_timeout_s=settings.answer_settle_timeout_s, drain_timeout_s=settings.answer_drain_timeout_s),
            )
        self._ending: asyncio.Task[None] | None = None
        self._utterance_base = 0  # added to a graph's utterance ids (see resume_after)
        self._max_utterance_id = -1
        # When the session last had a candidate connected or was asked for (time.monotonic());
        # None while a connection is up. The registry releases a session idle for idle_release_s.
        self.idle_since: float | None = time.monotonic()
        # Several nodes: an HR watcher on another node reads this session's partials (server/nodes.py keeps it).
        self.remote_partial_readers = False

    def touch(self) -> None:
        """A connection is on its way (the WHIP offer is being answered): not idle."""
        if self.connection is None:
            self.idle_since = time.monotonic()

    def idle_for(self, now: float) -> float:
        """Seconds without a connection (0 while one is up)."""
        return 0.0 if self.idle_since is None or self.connection is not None else max(0.0, now - self.idle_since)

    @property
    def id(self) -> str:
        return self.record.id

    # -- connections ------------------------------------------------------
    async def connect(self, offer_sdp: str) -> WhipConnection:
        """Answer a WHIP offer; raises media.peer.SdpError for a bad one."""
        connection = WhipConnection(
            connection_id=secrets.token_urlsafe(12),
            ingest=self.ingest,
            ice_servers=[s.public() for s in self._settings.ice_servers],
            on_control=self._on_control,
            on_ended=self._on_connection_ended,
            on_media_flowing=self._on_media_flowing,
            on_control_open=self._on_control_open,
        )
        try:
            await connection.accept(offer_sdp)
        except Exception:
            await connection.close("rejected", announce=False)
            raise
        connection.watch(connect_s=self._settings.whip_connect_timeout_s, first_media_s=self._settings.whip_first_media_timeout_s,
                         silence_s=self._settings.whip_media_silence_s)
        old, self.connection = self.connection, connection
        self.idle_since = None
        if old is not None and self.flow is not None:
            # a replaced connection is a drop too: the question resumes on media
            self._publish_flow(self.flow.pause(self.media_time))
        self._ensure_graph()
        self._metrics.connections_live.inc()
        started = ConnectionStarted(connection_id=connection.id, replaces=old.id if old else None)
        self.events.publish(self.ingest.clock.audio_time, started)
        if old is not None:
            await old.close("replaced")
        return connection

    async def hang_up(self, connection_id: str) -> bool:
        connection = self.connection
        if connection is None or connection.id != connection_id:
            return False
        await connection.close("hung up")
        return True

    def _on_connection_ended(self, connection: WhipConnection, reason: str) -> None:
        if self.connection is connection:
            self.connection = None
            self.idle_since = time.monotonic()
            if self.graph is not None:
                self.graph.flush()  # the words said before the drop still get a final
            if self.flow is not None:  # the question waits for the candidate
                self._publish_flow(self.flow.pause(self.media_time))
        self._metrics.connections_live.dec()
        self.events.publish(self.ingest.clock.audio_time, ConnectionEnded(connection_id=connection.id, reason=reason))
        if self.connection is None and self.flow is not None and self.flow.ended and not self.closed:
            # The interview is over and the candidate gone: free the analyzers
            # (and their buffers) now rather than when the session expires.
            asyncio.get_running_loop().create_task(self._release_after_scoring(), name=f"release:{self.id}")

    async def _release_after_scoring(self) -> None:
        if self._ending is not None:
            await asyncio.gather(self._ending, return_exceptions=True)
        if self.scoring is not None:
            await self.scoring.drain()
        if self.connection is None and not self.closed:
            await self.close("interview ended")

    def _on_media_flowing(self, connection: WhipConnection) -> None:
        # media_time here is the end of the first audio frame received: with
        # this event's wall_time it maps media time to wall time.
        self.events.publish(self.ingest.clock.audio_time, MediaFlowing(connection_id=connection.id))
        if connection is self.connection and self.flow is not None:
            # The interview starts, or resumes, once the candidate's media flows.
            self._publish_flow(self.flow.resume(self.media_time))
            if self._flow_task is None:
                self._flow_task = asyncio.get_running_loop().create_task(self._tick_flow(), name=f"flow:{self.id}")

    def _on_control_open(self, connection: WhipConnection) -> None:
        connection.send_control({"type": "hello", "session_id": self.id, "interview": self.flow is not None,
                                 "captions": self._settings.candidate_captions})
        self._send_question_state()

    def _on_control(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ping" and self.connection is not None:
            self.connection.send_control({"type": "pong", "t": message.get("t")})
        elif kind == "ready" and self.flow is not None:
            self._publish_flow(self.flow.ready(self.media_time))
        elif kind == "done" and self.flow is not None:
            self._publish_flow(self.flow.done(self.media_time))

    # -- the interview flow -------------------------------------------------
    @property
    def media_time(self) -> float:
        return round(self.ingest.clock.audio_time, 3)

    async def _tick_flow(self) -> None:
        while self.flow is not None and not self.flow.ended and not self.closed:
            await asyncio.sleep(0.25)
            try:
                self._publish_flow(self.flow.tick(self.media_time))
            except Exception:  # never let the interview stop silently
                log.exception("interview flow failed")
                self.events.publish(self.media_time, SessionError(message="interview flow failed", error="flow"))
                return

    def _publish_flow(self, flow_events: list[FlowEvent]) -> None:
        for flow_event in flow_events:
            if flow_event.type == INTERVIEW_ENDED and self.scoring is not None and self._ending is None:
                # The report is built on interview.ended: every answer's
                # last words and score must be in the log before it.
                self._ending = asyncio.get_running_loop().create_task(self._end_after_scoring(flow_event), name=f"end:{self.id}")
                if self.connection is not None:  # the candidate is done now; the report waits
                    self.connection.send_control({"type": "interview_ended"})
                continue
            self.events.publish(flow_event.media_time, flow_event.payload)
            if flow_event.type == QUESTION_STARTED and self.graph is not None:
                question = self.flow.current if self.flow else None
                # Rubric terms help Whisper with domain words (适当性, KYC, ...).
                terms = question.rubric.terms() if question is not None and question.rubric else []
                if self.graph.asr is not None and self._settings.asr_hotwords:
                    self.graph.asr.hotwords = " ".join(terms) or None
            if self.scoring is not None and flow_event.type in (ANSWER_STARTED, ANSWER_ENDED):
                self.scoring.on_event(flow_event)
            if self.recorder is not None and flow_event.type in (ANSWER_STARTED, ANSWER_ENDED):
                self._record_flow(flow_event)
            if flow_event.type in (QUESTION_STARTED, ANSWER_STARTED):
                self._send_question_state()
            elif self.connection is not None:
                self.connection.send_control({"type": flow_event.type.replace(".", "_"), **flow_event.payload.to_dict()})

    def _record_flow(self, flow_event: FlowEvent) -> None:
        """Cut the recording at the answer's window (practice answers are not kept)."""
        assert self.recorder is not None
        p: Any = flow_event.payload
        if flow_event.type == ANSWER_ENDED:
            self.recorder.answer_ended(p.index, flow_event.media_time)
        elif self.flow is not None and self.flow.current is not None and self.flow.current.kind != "practice":
            self.recorder.answer_started(p.index, p.question_id, flow_event.media_time, resumed=bool(p.resumed))

    # -- live scoring ---------------------------------------------------------
    def _asr_settled(self, media_time: float) -> bool:
        """Every utterance that began before ``media_time`` has its final (True without ASR)."""
        graph = self.graph
        asr = graph.asr if graph is not None else None
        return asr is None or asr.settled_until(media_time)

    def _flush_analyzers(self) -> None:
        if self.graph is not None:
            self.graph.flush()  # close an utterance cut off by the end of an answer

    async def _end_after_scoring(self, flow_event: FlowEvent) -> None:
        assert self.scoring is not None
        if not await self.scoring.drain():
            log.warning("interview ended before every answer's finals were in (they will re-score their answers)")
        self.events.publish(flow_event.media_time, flow_event.payload)

    def _send_question_state(self) -> None:
        """Tell the candidate page which question is on and how long is left."""
        flow, connection = self.flow, self.connection
        if flow is None or connection is None:
            return
        if flow.ended:
            connection.send_control({"type": "interview_ended"})
            return
        question = flow.current
        deadline = flow.deadline()
        if question is None or deadline is None:
            return
        scored = [q for q in flow.questions if q.kind != "practice"]
        connection.send_control(
            {
                "type": "question",
                "question_id": question.id,
                "index": flow.index,
                "total": len(flow.questions),
                "number": scored.index(question) + 1 if question in scored else 0,
                "scored_total": len(scored),
                "practice": question.kind == "practice",
                "text": question.text.model_dump(exclude_none=True),
                "phase": flow.phase,
                "prep_s": question.prep_s,
                "answer_s": question.answer_s,
                "remaining_s": round(max(0.0, deadline - self.media_time), 1),
            }
        )

    # -- media ------------------------------------------------------------
    def _on_audio(self, chunk: AudioChunk) -> None:
        self._metrics.frames_in.labels("audio").inc()
        if self.graph is not None:
            self.graph.push_audio(chunk)
        if self.recorder is not None:
            self.recorder.push_audio(chunk.samples, chunk.media_time)

    def _on_video(self, frame: VideoFrame) -> None:
        self._metrics.frames_in.labels("video").inc()
        if self.graph is not None:
            self.graph.push_video(frame)
        if self.recorder is not None:
            self.recorder.push_video(frame.image, frame.media_time)

    def _ensure_graph(self) -> None:
        if self.graph is not None:
            return
        s = self._settings
        consent = self.consent
        self.graph = AnalyzerGraph(
            self._models,
            turn_config=turn_config(s),
            partial_interval_s=s.partial_interval_s,
            partial_interval_max_s=s.partial_interval_max_s,
            partials=self.partials_read,
            face_interval_s=s.face_metrics_interval_s,
            face_fps=s.face_fps,  # above video_fps: every sampled frame
            voice=bool(consent and consent.voice),
            face=bool(consent and consent.face),
            emotion=bool(consent and consent.emotion and self.policy.emotion),
            speculate=s.asr_speculate,
        )
        self._metrics.sessions_live.inc()
        loop = asyncio.get_running_loop()
        self._graph_task = loop.create_task(self._run_graph(self.graph), name=f"graph:{self.id}")
        self._monitor_task = loop.create_task(self._monitor(), name=f"monitor:{self.id}")

    def resume_after(self, logged: list[Event]) -> None:
        """Carry on the timeline and utterance numbering of a session loaded from its log.

        After a server restart the session's media clock starts where the log
        stops (so media times never go backwards and the interview's
        deadlines hold) and new utterances are numbered after the logged ones
        (so a score never mixes two utterances that share an id).
        """
        times = [e.media_time for e in logged if e.media_time is not None]
        ids = [e.payload.utterance_id for e in logged if isinstance(getattr(e.payload, "utterance_id", None), int)]
        if times:
            self.ingest.clock.resume_at(max(times))
        if ids:
            self._utterance_base = max(ids) + 1
        if self.scoring is not None:
            self.scoring.replay(logged)  # an answer that was on goes on with what was said before

    def _renumber(self, event: AnalyzerEvent) -> AnalyzerEvent:
        """A fresh graph numbers utterances from 0: shift them past those already logged."""
        utterance_id = getattr(event.payload, "utterance_id", None)
        if not self._utterance_base or not isinstance(utterance_id, int):
            return event
        payload = dataclasses.replace(event.payload, utterance_id=utterance_id + self._utterance_base)  # type: ignore[call-arg]
        return AnalyzerEvent(event.media_time, payload)

    async def _run_graph(self, graph: AnalyzerGraph) -> None:
        try:
            async for analyzer_event in graph:
                event = self.events.publish_analyzer_event(self._renumber(analyzer_event))
                self._metrics.events.labels(event.type).inc()
                self._after_event(event)
        except AnalyzerError as exc:
            log.error("session analyzers failed: %s", type(exc.__cause__).__name__)
            failed = SessionError(message="analysis failed; restarting", error=type(exc.__cause__).__name__)
            self.events.publish(self.ingest.clock.audio_time, failed)
            # Start a fresh graph for the rest of the session, numbering its
            # utterances after this one's.
            self._utterance_base = self._next_utterance_id()
            self.graph = None
            self._metrics.sessions_live.dec()
            if not self.closed:
                self._ensure_graph()

    def _next_utterance_id(self) -> int:
        return max(self._max_utterance_id + 1, self._utterance_base)

    def _after_event(self, event: Event) -> None:
        payload = event.payload
        utterance_id = getattr(payload, "utterance_id", None)
        if isinstance(utterance_id, int):
            self._max_utterance_id = max(self._max_utterance_id, utterance_id)
        if self.scoring is not None:
            self.scoring.on_event(event)
        if self.flow is not None and isinstance(payload, SpeechStart):
            self.flow.speech_started(event.media_time or 0.0)
        if isinstance(payload, SpeechEnd):
            if self.flow is not None:
                self.flow.speech_ended(event.media_time or 0.0)
            self._speech_ends[payload.utterance_id] = asyncio.get_running_loop().time()
        elif isinstance(payload, (TranscriptPartial, TranscriptFinal)):
            final = isinstance(payload, TranscriptFinal)
            if final:
                ended = self._speech_ends.pop(payload.utterance_id, None)
                if ended is not None:
                    self._metrics.speech_to_final.observe(asyncio.get_running_loop().time() - ended)
            if self.connection is not None and self._captions_for(final):
                self.connection.send_control({"type": "caption", "text": payload.text, "final": final, "utterance_id": payload.utterance_id})

    def _captions_for(self, final: bool) -> bool:
        """Whether the candidate's page shows this caption (``candidate_captions``)."""
        shown = self._settings.candidate_captions
        return shown == "live" or (final and shown == "final")

    def partials_read(self) -> bool:
        """Whether anyone reads this session's partials now: the candidate's live captions or an HR watcher.

        Asked by the ASR before each partial's decode: nobody reading, no decode.
        """
        connection = self.connection
        if self._settings.candidate_captions == "live" and connection is not None and connection.control_open:
            return True
        return self.events.partial_readers > 0 or self.remote_partial_readers

    async def _monitor(self) -> None:
        """Report drops (never silent) once a second."""
        while True:
            await asyncio.sleep(1.0)
            resyncs = self.ingest.clock.resyncs
            if resyncs > self._resyncs_reported:
                self._metrics.clock_resyncs.inc(resyncs - self._resyncs_reported)
                self._resyncs_reported = resyncs
            graph = self.graph
            if graph is None:
                continue
            counts = {
                "audio": sum(a.dropped for a in (graph.vad, graph.asr, graph.prosody) if a is not None),
                "video": graph.face.dropped if graph.face else 0,
            }
            for kind, total in counts.items():
                delta = total - self._dropped_reported[kind]
                if delta > 0:
                    self._dropped_reported[kind] = total
                    self._metrics.frames_dropped.labels(kind).inc(delta)
                    if kind == "audio":  # sampled video frames replaced by newer ones are by design
                        dropped = MediaDropped(kind=kind, count=delta, total=total)
                        self.events.publish(self.ingest.clock.audio_time, dropped)

    @property
    def audio_backlog_s(self) -> float:
        """Audio queued in front of the VAD or ASR, in seconds (32 ms chunks)."""
        graph = self.graph
        if graph is None:
            return 0.0
        return max((a.backlog for a in (graph.vad, graph.asr, graph.prosody) if a is not None), default=0) * 0.032

    async def close(self, reason: str = "closed", *, settle_s: float = 0.0, drain_s: float = 30.0) -> None:
        """End the connection and let go of the analyzers, scoring and recorder.

        ``settle_s`` > 0 (an idle release) first gives the ended answers that
        long to publish their final scores; an answer still open is not
        finalised (it has no ``answer.ended``): a rebuilt session carries it on.
        ``drain_s`` bounds the wait for the analyzers' last results (the words
        said before the close) and for an interview's end under way.
        """
        if self.closed:
            return
        self.closed = True
        deadline = time.monotonic() + drain_s
        if self.connection is not None:
            await self.connection.close(reason)
        if self.graph is not None:
            graph = self.graph
            graph.end_input()
            try:
                await asyncio.wait_for(self._graph_task, timeout=max(0.0, deadline - time.monotonic()))  # type: ignore[arg-type]
            except asyncio.TimeoutError:
                log.warning("session %s: its analyzers did not finish within %.0f s of the close", self.id, drain_s)
            except Exception:
                pass
            await graph.aclose()
            self.graph = None  # its buffers go with it
            self._metrics.sessions_live.dec()
        if self._monitor_task is not None:
            self._monitor_task.cancel()
        if self._flow_task is not None:
            self._flow_task.cancel()
        if self._ending is not None and not self._ending.done():
            await asyncio.wait({self._ending}, timeout=max(0.0, deadline - time.monotonic()))
        if self.scoring is not None:
            if settle_s > 0 and not await self.scoring.drain(settle_s):
                log.warning("session %s released before every ended answer was scored (they re-score on return)", self.id)
            await self.scoring.aclose()
        if self.recorder is not None:
            # the answer on is kept, unless consent was withdrawn or changed (it may no longer cover recording)
            await self.recorder.aclose(keep=not reason.startswith("consent"))


class SessionRegistry:
    """The sessions this process holds live, loaded from the store on demand."""

    def __init__(
        self, store: AsyncStore, writer: EventWriter, *, models_ready: Any, settings: Settings, metrics: Metrics,
        recordings: Recordings | None = None,
    ) -> None:
        self._store = store
        self._recordings = recordings
        self._writer = writer
        self._models_ready = models_ready  # callable -> Models | None
        self._settings = settings
        self._metrics = metrics
        self._events: dict[str, SessionEvents] = {}
        self._live: dict[str, LiveSession] = {}
        self._consents: dict[str, Consent | None] = {}
        # Sessions being released for idleness: a candidate who comes back meanwhile waits for the
        # release to finish, so the rebuilt session reads a log that holds the last finals and scores.
        self._releasing: dict[str, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()
        # Several nodes (server/nodes.py): set by the app when CANDOR_REDIS_URL is; None on one box.
        self.nodes: Nodes | None = None

    async def events_for(self, session_id: str) -> SessionEvents | RemoteEvents | None:
        """The session's events; with several nodes, a proxy to the node holding it when that is not this one."""
        async with self._lock:
            events = self._events.get(session_id)
            if events is not None and (self.nodes is None or session_id in self.nodes.cluster.owned):
                return events
            record = await self._store.run(self._store.store.get_session, session_id)
            if record is None:
                return None
            if self.nodes is not None:
                # One node writes a session's events (their seq): hold it, or hand the writes to its holder.
                ownership = await self.nodes.claim(session_id)
                if not ownership.mine:
                    self._events.pop(session_id, None)
                    self._consents.pop(session_id, None)
                    return RemoteEvents(self.nodes, session_id, ownership.owner)
                await self._writer.flush()  # what this node wrote of it before is counted in last_seq
            last = await self._store.run(self._store.store.last_seq, session_id)
            events = SessionEvents(session_id, next_seq=last + 1, writer=self._writer)
            self._events[session_id] = events
            return events

    async def live(self, record: SessionRecord) -> LiveSession:
        events = await self.events_for(record.id)
        if not isinstance(events, SessionEvents):
            raise RuntimeError(f"session {record.id} is held by another node")
        while (releasing := self._releasing.get(record.id)) is not None:
            await asyncio.shield(releasing)  # the rebuilt session reads the log the release completed
        async with self._lock:
            releasing = self._releasing.get(record.id)
            if releasing is not None:  # released while this waited for the lock: wait for it, then rebuild
                await asyncio.shield(releasing)
            session = self._live.get(record.id)
            if session is not None and not session.closed:
                session.touch()  # its connection is being made: not idle
            else:
                models = self._models_ready()
                await self._writer.flush()
                logged = await self._store.run(self._store.store.read_events, record.id, 0)
                flow, weights = await self._flow_for(record, logged)
                consent = await self._consent_locked(record.id)
                profile = record.candidate_profile()
                recorder = None
                if self._recordings is not None and flow is not None and consent is not None and consent.recording:
                    # the session's data key made now, on the store's thread (the recorder seals on its own)
                    await self._store.run(self._recordings.prepare, record.id)
                    recorder = self._recordings.recorder(record.id, video=consent.face)
                session = LiveSession(
                    record, events, models=models, settings=self._settings, metrics=self._metrics, flow=flow,
                    consent=consent, weights=weights, accommodation=bool(profile and profile.accommodation),
                    recorder=recorder,
                )
                session.resume_after(logged)
                self._live[record.id] = session
            return session

    async def _flow_for(self, record: SessionRecord, logged: list[Event]) -> tuple[InterviewFlow | None, Any]:
        """The session's interview, positioned where its event log stops, and its score weights."""
        if record.bank_id is None:
            return None, None  # free talk
        bank = await self._store.run(self._store.store.get_bank, record.bank_id, record.bank_version)
        if bank is None:
            raise RuntimeError(f"session {record.id}: bank {record.bank_id} v{record.bank_version} is missing")
        from scoring.question import ScoreWeights

        questions = bank.bank()
        # The versions of personalised questions chosen when the session was made (never chosen again).
        created = next((e.payload for e in logged if isinstance(e.payload, SessionCreated)), None)
        asked = replay(questions.questions, list(created.alternatives or ()) if created is not None else [])
        flow = InterviewFlow.from_log(
            asked, [e for e in logged if e.type in FLOW_EVENT_TYPES or e.media_time is not None]
        )
        return flow, ScoreWeights.of(questions.scoring.weights)

    async def consent(self, session_id: str) -> Consent | None:
        """The consent in force for a session (from its event log, then cached)."""
        async with self._lock:
            return await self._consent_locked(session_id)

    async def _consent_locked(self, session_id: str) -> Consent | None:
        if session_id in self._consents:
            return self._consents[session_id]
        await self._writer.flush()
        logged = await self._store.run(
            self._store.store.read_events, session_id, 0, None, (CONSENT_GIVEN, CONSENT_WITHDRAWN)
        )
        consent = consent_from_log(logged)
        if self.nodes is None or session_id in self.nodes.cluster.owned:
            self._consents[session_id] = consent  # another node may change a consent this one does not hold
        return consent

    async def set_consent(self, session_id: str, consent: Consent | None) -> None:
        """Record a new consent (or its withdrawal): a live session restarts its analysis.

        The live session is closed (its connection ends; what it analysed is
        kept in the log) so that the next connection starts a graph that
        analyses exactly what is now consented to.
        """
        if self.nodes is not None and session_id not in self.nodes.cluster.owned:
            owner = await self.nodes.holder(session_id)
            if owner is not None:
                # the node running the session's analysis applies it
                self.nodes.forward(owner, "consent", session_id,
                                   {"consent": None if consent is None else dataclasses.asdict(consent)})
                return
        await self.apply_consent(session_id, consent)

    async def apply_consent(self, session_id: str, consent: Consent | dict | None) -> None:
        """A consent given or withdrawn, on the node that holds the session (see :meth:`set_consent`)."""
        if isinstance(consent, dict):
            consent = Consent(**consent)
        async with self._lock:
            if self.nodes is None or session_id in self.nodes.cluster.owned:
                self._consents[session_id] = consent
            else:
                self._consents.pop(session_id, None)  # read from the log when next asked
            session = self._live.get(session_id)
        if session is not None and not session.closed:
            before = session.consent
            changed = (before is None) != (consent is None) or (
                before is not None and consent is not None and before.scopes() != consent.scopes()
            )
            if changed:
                await session.close("consent withdrawn" if consent is None else "consent changed")

    def live_count(self) -> int:
        """Sessions with a candidate connected (an idle session costs next to nothing)."""
        return len(self.connected_ids())

    def audio_backlog_s(self) -> float:
        return max((s.audio_backlog_s for s in self._live.values() if not s.closed), default=0.0)

    def live_sessions(self) -> list[LiveSession]:
        """The sessions held live here, now."""
        return list(self._live.values())

    def get_live(self, session_id: str) -> LiveSession | None:
        return self._live.get(session_id)

    def is_connected(self, session_id: str) -> bool:
        session = self._live.get(session_id)
        return bool(session and session.connection is not None)

    def connected_ids(self) -> list[str]:
        """The sessions whose candidate is connected to this process now."""
        return [session_id for session_id, s in self._live.items() if not s.closed and s.connection is not None]

    async def forget(self, session_id: str, reason: str = "erased") -> None:
        """End the session if it is live and drop what this process holds of it (erasure: server/purge.py)."""
        async with self._lock:
            session = self._live.pop(session_id, None)
            self._events.pop(session_id, None)
            self._consents.pop(session_id, None)
        if session is not None and not session.closed:
            await session.close(reason)
        if self.nodes is not None:
            owner = await self.nodes.holder(session_id)
            if owner is not None:
                await self.nodes.send(owner, "forget", session_id, {"reason": reason})
            await self.nodes.let_go(session_id)

    # -- several nodes (server/nodes.py) ------------------------------------------------
    def holds_live(self, session_id: str) -> bool:
        """This node runs the session's analyzers now (a candidate connected, or an interview not yet let go)."""
        session = self._live.get(session_id)
        return session is not None and not session.closed

    def _busy_with(self, session_id: str) -> bool:
        """A live session of it here, even one closing (its last finals and scores still to publish)."""
        return session_id in self._live or session_id in self._releasing

    async def release_unused(self) -> None:
        """Let the other nodes have the sessions this one holds without running them (a one-off write)."""
        assert self.nodes is not None
        idle = [s for s in list(self.nodes.cluster.owned) if not self._busy_with(s)]
        if not idle:
            return
        await self._writer.flush()  # their events are in the database before another node may write more
        for session_id in idle:
            if self._busy_with(session_id):
                continue
            async with self._lock:
                self._events.pop(session_id, None)
                self._consents.pop(session_id, None)
            await self.nodes.cluster.release(session_id)

    async def lost(self, session_id: str) -> None:
        """Another node took the session over (this one was taken for dead): stop running and writing it."""
        async with self._lock:
            session = self._live.pop(session_id, None)
            self._events.pop(session_id, None)
            self._consents.pop(session_id, None)
        if session is not None and not session.closed:
            await session.close("taken over by another node")

    async def publish_here(self, session_id: str, media_time: float | None, payload: Any) -> None:
        """An event another node asked this one (the holder) to publish."""
        events = await self.events_for(session_id)
        if events is None:
            return
        session = self._live.get(session_id)
        if media_time is None and session is not None and not session.closed and str(payload.type) in (CONSENT_GIVEN, CONSENT_WITHDRAWN):
            media_time = session.media_time  # as the consent route stamps a consent given during the interview
        events.publish(media_time, payload)

    async def expire(self) -> None:
        now = utcnow()
        for session in list(self._live.values()):
            if session.record.expired(now):
                await session.close("expired")
                self._live.pop(session.id, None)

    async def release_idle(self, now: float | None = None) -> list[str]:
        """Release the sessions with no candidate connected for ``idle_release_s`` (issue 13).

        Each one is closed ("idle") and leaves the registry: its analyzer
        graph, recorder and scoring tasks end and their buffers go. Sessions
        already closed (an ended interview) leave too. Returns the released
        ids; the closing runs in tasks of their own, so one slow session does
        not hold the sweep, and ``live()`` waits for it before rebuilding.
        """
        now = time.monotonic() if now is None else now
        released: list[str] = []
        async with self._lock:
            for session_id, session in list(self._live.items()):
                if session.closed:
                    self._live.pop(session_id, None)
                elif session.idle_for(now) >= self._settings.idle_release_s and session_id not in self._releasing:
                    self._live.pop(session_id, None)
                    task = asyncio.get_running_loop().create_task(self._release(session), name=f"idle-release:{session_id}")
                    self._releasing[session_id] = task
                    released.append(session_id)
        return released

    async def _release(self, session: LiveSession) -> None:
        try:
            await session.close("idle", settle_s=self._settings.answer_settle_timeout_s)
        except Exception:  # never silent; the session is out of the registry either way
            log.exception("idle release of a session failed")
        finally:
            self._releasing.pop(session.id, None)

    async def wait_released(self) -> None:
        """Wait for the idle releases under way (tests, shutdown)."""
        await asyncio.gather(*list(self._releasing.values()), return_exceptions=True)

    async def close(self, timeout_s: float = 30.0) -> None:
        """Close every session at once, all within ``timeout_s`` (a node's shutdown).

        Each connection ends first (the candidates may reconnect to another
        node); the analyzers then have what is left of ``timeout_s`` to give
        the last words said their finals. A session not closed by then is
        left to the process's exit (its log holds what was written).
        """
        deadline = time.monotonic() + timeout_s
        if self._releasing:
            await asyncio.wait(set(self._releasing.values()), timeout=timeout_s)
        sessions = list(self._live.values())
        self._live.clear()
        if not sessions:
            return
        left = max(0.0, deadline - time.monotonic())
        loop = asyncio.get_running_loop()
        closing = {loop.create_task(s.close("server shutting down", drain_s=left), name=f"close:{s.id}") for s in sessions}
        _, pending = await asyncio.wait(closing, timeout=left + 1.0)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%d of %d sessions not closed within %.0f s of the shutdown", len(pending), len(sessions), timeout_s)
