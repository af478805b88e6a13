"""The suite's rules (tests/suite_rules.py), on tiny inner test files run by pytester.

Under ``CI=true`` a skip (a missing browser, ffmpeg, espeak-ng, media file, or a
module that skips at import) fails with its reason; a test marked ``gpu`` may
still skip. Without CI a skip stays a skip. Tests whose fixtures load a real
model are marked ``slow``, so ``-m "not slow"`` (``make test-fast``) runs none.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# The rules as a plugin of the inner run; pytest-asyncio off (the inner tests are plain), and no
# warning that the outer run imported tests.suite_rules before the inner one could rewrite it.
RULES = ("-p", "tests.suite_rules", "-p", "no:cacheprovider", "-p", "no:asyncio", "-W", "ignore::pytest.PytestAssertRewriteWarning")

SKIPS = '''
import shutil

import pytest


def test_needs_a_browser():
    pytest.skip("/usr/bin/chromium is not installed")


@pytest.mark.skipif(True, reason="needs espeak-ng (installed by .ci/run)")
def test_needs_espeak():
    pass


@pytest.fixture
def clip():
    pytest.skip("ffmpeg is not installed")


def test_needs_ffmpeg(clip):
    pass


@pytest.mark.gpu
def test_needs_a_gpu():
    pytest.skip("needs a CUDA device")


@pytest.mark.gpu
@pytest.mark.skipif(True, reason="needs a CUDA device")
def test_needs_a_gpu_by_marker():
    pass


@pytest.mark.xfail(reason="a known bug", strict=True)
def test_expected_to_fail():
    assert False


def test_passes():
    pass
'''

MODULE_SKIP = '''
import pytest

pytest.importorskip("a_module_that_is_not_installed_anywhere")


def test_never_runs():
    pass
'''


@pytest.fixture
def skips(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_skips=SKIPS)
    return pytester


def test_under_ci_a_skip_fails_with_its_reason(skips: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = skips.runpytest(*RULES, "-rA")
    # A skip in the test fails it; a skip in its setup (skipif, a fixture) is an error of its setup.
    result.assert_outcomes(passed=1, failed=1, errors=2, skipped=2, xfailed=1)
    out = result.stdout.str()
    for outcome, name, reason in [
        ("FAILED", "test_needs_a_browser", "/usr/bin/chromium is not installed"),
        ("ERROR", "test_needs_espeak", "needs espeak-ng (installed by .ci/run)"),
        ("ERROR", "test_needs_ffmpeg", "ffmpeg is not installed"),
    ]:
        result.stdout.fnmatch_lines([f"{outcome} *::{name} - *{reason}*"])
        assert f"skipped under CI=true, where only tests marked gpu may skip: {reason}" in out, out
    # Only the gpu tests skip.
    result.stdout.fnmatch_lines(["SKIPPED *needs a CUDA device"])
    assert "FAILED test_skips.py::test_needs_a_gpu" not in out


def test_without_ci_a_skip_stays_a_skip(skips: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    skips.runpytest(*RULES).assert_outcomes(passed=1, skipped=5, xfailed=1)


@pytest.mark.parametrize("value", ["false", "", "1"])
def test_only_ci_true_turns_skips_into_failures(
    skips: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    skips.runpytest(*RULES).assert_outcomes(passed=1, skipped=5, xfailed=1)


def test_under_ci_a_module_that_skips_at_import_fails(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_module_skip=MODULE_SKIP)
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest(*RULES)
    result.assert_outcomes(errors=1)
    assert "module skipped under CI=true" in result.stdout.str()
    assert "a_module_that_is_not_installed_anywhere" in result.stdout.str()

    monkeypatch.delenv("CI")
    pytester.runpytest(*RULES).assert_outcomes(skipped=1)


MODEL_TESTS = '''
import pytest

from analyzers.face import FaceRunner
from scoring.encoder import SentenceEncoder


@pytest.fixture(scope="session")
def models():
    raise AssertionError("loaded a model")


@pytest.fixture
def live_server(models):
    raise AssertionError("loaded a model")


@pytest.fixture
def encoder():
    runner = SentenceEncoder()
    raise AssertionError("loaded a model")


@pytest.fixture
def english(live_server):  # a fixture built on a model fixture
    return "words"


@pytest.fixture
def face(encoder):
    return FaceRunner  # names the class without loading it


@pytest.fixture
def fake_runner():
    return object()


def test_models(models):
    pass


def test_through_another_fixture(english):
    pass


def test_encoder(face):
    pass


def test_fake(fake_runner):
    pass


def test_plain():
    pass
'''


def test_tests_whose_fixtures_load_a_model_are_slow(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_models=MODEL_TESTS)
    result = pytester.runpytest(*RULES, "-m", "not slow", "-v")
    result.assert_outcomes(passed=2, deselected=3)
    result.stdout.fnmatch_lines(["*::test_fake PASSED*", "*::test_plain PASSED*"])
    result = pytester.runpytest(*RULES, "-m", "slow", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*::test_models", "*::test_through_another_fixture", "*::test_encoder"])
