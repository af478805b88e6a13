"""Shared fixtures: real models loaded once, a real server on loopback, the outbox and the database on SQLite and PostgreSQL
(tests/outbox_fixtures.py, tests/pg_fixtures.py).

The suite's rules live in tests/suite_rules.py and are installed here: tests
whose fixtures load a real model are marked ``slow`` (``make test-fast`` runs
none), and under ``CI=true`` a skipped test fails unless it is marked ``gpu``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from runtime.models import ModelConfig, Models
from scoring.encoder import SentenceEncoder
from tests.helpers import LiveServer, make_settings
from tests.media_fixtures import (
    AISHELL_WAV,
    JFK_FLAC,
    ffmpeg_available,
    media_duration_s,
    padded_speech_wav,
    portrait_y4m,
)
from tests.outbox_fixtures import (  # noqa: F401  (fixtures: pytest finds them by name here)
    blank_db_url,
    db_url,
    module_db_url,
    outbox_options,
    outboxes,
    store,
)
from tests.pg_fixtures import blank_pg_url, pg_url, postgres  # noqa: F401  (fixtures: the PostgreSQL side of db_url)
from tests.redis_fixtures import redis_server, redis_url  # noqa: F401  (fixtures: a redis-server for the tests of several nodes, a database per test)
from tests.suite_rules import (  # noqa: F401  (hooks: pytest finds them by name here)
    pytest_collection_modifyitems,
    pytest_make_collect_report,
    pytest_runtest_makereport,
)


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def models() -> Iterator[Models]:
    loaded = Models.load(ModelConfig())
    loaded.warmup()
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def encoder() -> Iterator[SentenceEncoder]:
    """The multilingual sentence encoder alone (content scoring without the other models)."""
    runner = SentenceEncoder()
    runner.warmup()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def live_server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(make_settings(tmp_path_factory.mktemp("server")), models).start()
    yield server
    server.stop()




@dataclass
class Media:
    video: Path
    jfk: Path
    aishell: Path
    jfk_s: float
    aishell_s: float


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    out = tmp_path_factory.mktemp("whip-media")
    jfk = padded_speech_wav(out, JFK_FLAC, lead_s=1.0, tail_s=2.5, name="jfk.wav")
    aishell = padded_speech_wav(out, AISHELL_WAV, lead_s=1.0, tail_s=2.5, name="aishell.wav")
    jfk_s, aishell_s = media_duration_s(jfk), media_duration_s(aishell)
    # As long as the longest clip, so the camera never stops before the mic.
    video = portrait_y4m(out, width=320, height=240, fps=15, seconds=max(jfk_s, aishell_s) + 0.5)
    return Media(video=video, jfk=jfk, aishell=aishell, jfk_s=jfk_s, aishell_s=aishell_s)
