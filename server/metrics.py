"""Prometheus metrics, one registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest

LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions_live = Gauge("candor_sessions_live", "Sessions with analyzers running", registry=r)
        self.connections_live = Gauge("candor_connections_live", "WebRTC connections up", registry=r)
        self.watchers = Gauge("candor_watchers", "Event stream watchers connected", registry=r)
        self.frames_in = Counter("candor_frames_in_total", "Frames received", ["kind"], registry=r)
        self.video_decoded = Counter(
            "candor_video_frames_decoded_total",
            "Video frames decoded from candidates' streams, sampled for analysis or not (above CANDOR_VIDEO_FPS: decoded for nothing)",
            registry=r,
        )
        self.frames_dropped = Counter(
            "candor_frames_dropped_total", "Frames dropped because an analyzer fell behind", ["kind"], registry=r
        )
        self.events = Counter("candor_events_total", "Events published", ["type"], registry=r)
        self.watchers_dropped = Counter("candor_watchers_dropped_total", "Watchers dropped for being slow", registry=r)
        self.stage_latency = Histogram(
            "candor_stage_latency_seconds",
            "Time one model call took, per stage",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.speech_to_final = Histogram(
            "candor_speech_end_to_final_seconds",
            "Media time from end of speech to transcript.final being published (wall)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

        # process_cpu_seconds_total, process_resident_memory_bytes (Linux)
        ProcessCollector(registry=r)
        self.loop_lag = Histogram(
            "candor_event_loop_lag_seconds",
            "How late the event loop woke from a 100 ms sleep",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.audio_backlog = Gauge(
            "candor_audio_backlog_seconds", "Largest audio queue behind real time across live sessions", registry=r
        )
        self.clock_resyncs = Counter(
            "candor_media_clock_resyncs_total",
            "Times a session's media clock jumped to wall time within a connection (audio stalled or read late)",
            registry=r,
        )
        self.build_info = Gauge(
            "candor_build_info",
            "1, labelled with what this server runs (for benchmarks against a URL)",
            ["version", "asr_model", "asr_device", "asr_compute_type", "asr_window", "policy"],
            registry=r,
        )
        self.admission_refused = Counter(
            "candor_admission_refused_total", "New sessions refused because the server was full", ["reason"], registry=r
        )
        self.whip_answers = Counter(
            "candor_whip_answers_total", "WHIP offers this node answered (201): candidates it took, new or back", registry=r
        )
        self.whip_redirects = Counter(
            "candor_whip_redirects_total", "WHIP offers sent to another node (307): the session's holder or a node with room",
            registry=r,
        )

    def watch_outbox(self, outbox: "object") -> None:
        """Deliveries per sink and state, read from the outbox's cached counts."""
        from prometheus_client.core import GaugeMetricFamily

        class _Collector:
            def collect(self):  # type: ignore[no-untyped-def]
                family = GaugeMetricFamily("candor_outbox_deliveries", "Report deliveries by sink and state", labels=["sink", "state"])
                for sink, states in outbox.state_counts().items():  # type: ignore[attr-defined]
                    for state, count in states.items():
                        family.add_metric([sink, state], count)
                yield family

        self.registry.register(_Collector())

    def observe_stage(self, stage: str, seconds: float) -> None:
        self.stage_latency.labels(stage).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
