"""Shared fixtures: real models loaded once, a real server on loopback."""

from __future__ import annotations

from typing import Iterator

import pytest

from analyzers.models import ModelConfig, Models
from tests.helpers import LiveServer, make_settings


@pytest.fixture(scope="session")
def models() -> Iterator[Models]:
    loaded = Models.load(ModelConfig())
    loaded.warmup()
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def live_server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(make_settings(tmp_path_factory.mktemp("server")), models).start()
    yield server
    server.stop()


