"""The suite's two rules, as pytest hooks (tests/conftest.py installs them).

* **Model-loading tests are slow.** Every test whose fixtures load a real model
  (the ``models`` and ``live_server`` fixtures, or any fixture whose body calls a
  model loader, :data:`MODEL_LOADERS`) is marked ``slow``, so ``make test-fast``
  (``-m "not slow and not browser"``) loads none. A test that loads a model in
  its own body carries ``@pytest.mark.slow`` itself.
* **Under CI a skip is a failure.** With ``CI=true`` (``.ci/run`` sets it) a test
  that skips (no browser, ffmpeg, espeak-ng or Playwright, a missing media file,
  any other reason) fails with the skip's reason, and so does a test module
  that skips at import. Only tests marked ``gpu`` may skip there: CI has no GPU.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
from typing import Any, Iterator

import pytest


# -- slow: tests whose fixtures load a real model -------------------------------------

# Fixtures that load every model (and, for live_server, start a real server on them).
MODEL_FIXTURES = frozenset({"models", "live_server"})
# A fixture whose source calls one of these loads a real model: Whisper, silero-vad, the face
# landmarker, the expression model or the sentence encoder (AsrRunner alone may wrap a fake).
MODEL_LOADERS = re.compile(
    r"\b(Models\.load|load_asr|load_whisper|WhisperModel|SentenceEncoder|VadRunner|FaceRunner|ExpressionRunner)\s*\("
)


@functools.cache
def _loads_a_model(func: Any) -> bool:
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return False
    return MODEL_LOADERS.search(source) is not None


def model_fixtures_of(item: pytest.Item) -> list[str]:
    """The fixtures in ``item``'s closure that load a real model."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    found = []
    for name in info.names_closure:
        if name in MODEL_FIXTURES:
            found.append(name)
            continue
        for fixturedef in info.name2fixturedefs.get(name, ()):
            if _loads_a_model(fixturedef.func):
                found.append(name)
                break
    return found


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") is None and model_fixtures_of(item):
            item.add_marker(pytest.mark.slow)


# -- CI=true: a skip fails, except for tests that need a GPU -------------------------------


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail_the_skip(report: pytest.CollectReport | pytest.TestReport, what: str) -> None:
    report.outcome = "failed"
    report.longrepr = (
        f"{what} skipped under CI=true, where only tests marked gpu may skip: {_skip_reason(report)}"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    if (
        _ci()
        and report.skipped
        and not hasattr(report, "wasxfail")  # an xfail is reported as a skip: leave it
        and item.get_closest_marker("gpu") is None
    ):
        _fail_the_skip(report, "test")
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[Any]:
    report = yield
    if _ci() and report.skipped and collector.get_closest_marker("gpu") is None:
        _fail_the_skip(report, "module")  # e.g. pytest.importorskip("playwright") at import
    return report
