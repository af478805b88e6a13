"""Test helpers: servers on loopback (Candor, the fakes of what it talks to), audio loading."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Self, TypeVar

import av
import httpx
import numpy as np
import uvicorn
from starlette.types import ASGIApp

from media.frames import SAMPLE_RATE
from runtime.models import Models
from server.app import create_app
from server.settings import Settings

T = TypeVar("T")

HR_TOKEN = "hr-test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    """An ASGI app under uvicorn on 127.0.0.1:``port``, in a daemon thread with its own event loop.

    ``start()`` returns once uvicorn listens (RuntimeError if it does not
    within ``start_timeout_s``); ``stop()`` asks it to exit and joins the
    thread. ``config`` goes to ``uvicorn.Config`` over these defaults: no
    lifespan, warnings only, 1 s to finish open requests on stop.
    """

    def __init__(
        self,
        app: ASGIApp,
        port: int,
        *,
        name: str,
        start_timeout_s: float = 10.0,
        stop_timeout_s: float = 10.0,
        **config: Any,
    ) -> None:
        options: dict[str, Any] = {"log_level": "warning", "lifespan": "off", "timeout_graceful_shutdown": 1, **config}
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
        self.thread = threading.Thread(target=self.server.run, name=name, daemon=True)
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s

    def start(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"{self.thread.name} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=self.stop_timeout_s)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LiveServer(LoopbackServer):
    """Candor on a free loopback port, in a thread with its own event loop.

    ``load_models=False``: the models given (or none) are all it has, as API-only tests want.
    """

    def __init__(self, settings: Settings, models: Models | None, *, load_models: bool = True) -> None:
        self.settings = settings
        self.app = create_app(settings, models=models, load_models=load_models)
        super().__init__(
            self.app,
            settings.port,
            name="candor-test-server",
            start_timeout_s=60,
            stop_timeout_s=30,
            ws="websockets-sansio",
            lifespan="on",
            timeout_graceful_shutdown=None,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def candor(self):  # the app's state, for white-box checks
        return self.app.state.candor

    async def on_loop(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the server's own event loop (its writer's, outbox's...) and wait for it here."""
        loop = self.candor.writer._task.get_loop()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work(), loop))


def wait_healthy(url: str, proc: Any, log_text: Callable[[], str], timeout: float = 60) -> None:
    """Wait for a child server's ``/healthz`` 200; AssertionError with its log if it exits or is not ready in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not healthy:\n{log_text()}")


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test's server on a free port; a SQLite file under ``tmp_path`` unless ``database_url`` is given.

    A module that runs on both backends passes its ``db_url`` (or ``module_db_url``) fixture's URL:
    ``make_settings(tmp_path, database_url=db_url)`` (tests/outbox_fixtures.py, tests/pg_fixtures.py).
    """
    port = free_port()
    values: dict = {
        "host": "127.0.0.1",
        "port": port,
        "database_url": f"sqlite:///{tmp_path}/candor.db",
        "hr_token": HR_TOKEN,
        "secret_key": "test-secret-key",
        # Admission control has its own tests (tests/test_consent.py); here a
        # busy CI machine must not refuse the sessions other tests start.
        "max_live_sessions": 1000,
        "admission_loop_lag_s": 30.0,
        "admission_backlog_s": 600.0,
        # The test peers' candidates are this machine's own (private) addresses.
        "ice_allow": ["public", "private", "loopback"],
        # Most tests publish with HR's copy of the candidate token, consent included; the rule that
        # only the candidate's exchanged token consents has its tests (tests/test_hardening_consent.py).
        "consent_needs_candidate_link": False,
        # The WHIP deadlines have their own tests (tests/test_whip_deadlines.py); here a clip that ended
        # while a busy machine still transcribes it must not end the connection before the test hangs up.
        "whip_connect_timeout_s": 60.0,
        "whip_first_media_timeout_s": 120.0,
        "whip_media_silence_s": 120.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def load_audio(path: Path) -> np.ndarray:
    """Any audio file -> 16 kHz mono float32."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        parts = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for out in resampler.resample(frame)
        ]
    return np.concatenate(parts).astype(np.float32)
