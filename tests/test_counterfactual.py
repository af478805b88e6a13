"""Issue 12, section 6: counterfactual checks (bias/counterfactual.py; on demand: ``python -m bias counterfactual``).

(a) The same spoken answer (tests/media/answers_zh, a female Mandarin voice)
and the same answer in a male voice (Praat's "Change gender": pitch 110 Hz,
formants x 0.84), each through Whisper base and the question's scorer: the
content score must stay within ``CONTENT_TOLERANCE`` (15 points of 100) per
answer and ``MEAN_TOLERANCE`` (3) on average; delivery within 5. 15 because
Whisper itself is the noise: the same female audio, transcribed in two runs,
moved one answer's content score by 11 points. What differs is Whisper's
transcript of the two voices, nothing the scorer reads about the voice.

The emotion context ("composure", zero weight unless a bank sets one) did
depend on pitch: voice arousal was scored against a population prior of about
160 Hz until the speaker's own baseline took over, so a 260 Hz voice read as
aroused and a 115 Hz voice as calm (+57 composure for the male voice). Arousal
now compares a speaker with themselves only (analyzers/prosody.py); the test
checks the voices no longer differ (docs/bias.md has the numbers before and after).

(b) The held-out resumes with only the name, the stated sex or the age
changed, screened against every shipped job: the same score to 1e-9.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import pytest

from bias.counterfactual import (
    CONTENT_TOLERANCE,
    DEFAULT_CLIPS,
    MEAN_TOLERANCE,
    RESUME_TOLERANCE,
    VoiceRow,
    resume_rows,
    resume_variants,
    voice_effects,
    voice_rows,
    voice_table,
    whisper,
)
from scoring.encoder import SentenceEncoder
from tests.media_fixtures import require_media, ANSWERS_ZH


def test_resume_variants_change_only_what_they_say() -> None:
    text = "王晓冬\n男 | 31岁 | 现居住地：上海 | 6年工作经验\n2019.07-至今 上海浦东发展银行 客户经理\n"
    variants = resume_variants(text, "王晓冬")
    assert variants["name"] == text.replace("王晓冬", "李娜")  # a man's resume gets a woman's name
    assert variants["sex"] == text.replace("男 |", "女 |", 1)
    assert variants["age"] == text.replace("31岁", "51岁")
    assert "2019.07" in variants["age"]  # the work history's dates are not touched
    spaced = resume_variants("孙 浩 然\n出生年月：1994.03\n", "孙浩然")
    assert spaced == {"name": "李娜\n出生年月：1994.03\n", "age": "孙 浩 然\n出生年月：1974.03\n"}
    table = resume_variants("姓名\t周婷\t性别\t女\t出生年月\t1995.11\n", "周婷")
    assert table["name"].startswith("姓名\t张伟") and "性别\t男" in table["sex"] and "1975.11" in table["age"]


def test_screening_ignores_name_sex_and_age(encoder: SentenceEncoder) -> None:
    rows = resume_rows(encoder=encoder)
    changed = {(r.resume, r.change) for r in rows}
    assert len(changed) >= 25 and {c for _, c in changed} == {"name", "sex", "age"}
    assert len({r.job for r in rows}) == 4
    moved = [r for r in rows if abs(r.changed - r.original) > RESUME_TOLERANCE or r.decision_changed != r.decision_original]
    assert moved == []
    print(f"\n{len(rows)} screenings of {len(changed)} changed resumes: none moved")


@pytest.fixture(scope="module")
def voice(encoder: SentenceEncoder) -> Iterator[list[VoiceRow]]:
    require_media(ANSWERS_ZH)
    recognise, close = whisper()
    try:
        yield voice_rows(DEFAULT_CLIPS, recognise=recognise, encoder=encoder, voices=("female", "male"))
    finally:
        close()


def _pairs(rows: list[VoiceRow]) -> list[tuple[VoiceRow, VoiceRow]]:
    by = {(r.clip, r.voice): r for r in rows}
    return [(by[(c, "female")], by[(c, "male")]) for c in DEFAULT_CLIPS]


@pytest.mark.slow  # Whisper base on 12 clips: about 45 s on 2 shared cores
def test_a_male_voice_gets_the_same_content_score(voice: list[VoiceRow]) -> None:
    print("\n" + voice_table(voice))
    pairs = _pairs(voice)
    for female, male in pairs:
        assert female.pitch_hz and male.pitch_hz and female.pitch_hz > 200 > 150 > male.pitch_hz  # the voices differ
        assert female.text and male.text
        assert abs(male.content - female.content) <= CONTENT_TOLERANCE, (female.clip, female.text, male.text)
        if female.delivery is not None and male.delivery is not None:
            assert abs(male.delivery - female.delivery) <= 5.0, female.clip
        assert not female.emotion_counted and not male.emotion_counted  # default weights: emotion counts for nothing
        assert abs(male.overall - female.overall) <= CONTENT_TOLERANCE, female.clip
    assert abs(statistics.fmean(m.content - f.content for f, m in pairs)) <= MEAN_TOLERANCE
    assert abs(statistics.fmean(m.overall - f.overall for f, m in pairs)) <= MEAN_TOLERANCE
    # the strong answers stay strong and the weak ones weak in either voice
    for female, male in pairs:
        assert (female.content >= 60) == (male.content >= 60), female.clip


@pytest.mark.slow
def test_the_emotion_context_does_not_depend_on_pitch(voice: list[VoiceRow]) -> None:
    effects = voice_effects(voice)["male"]
    print(f"\nmale - female: composure {effects['composure_mean']:+.1f} (first answer), "
          f"{effects['composure_adapted_mean']:+.1f} (against the voice's own baseline)")
    assert effects["composure_max_abs"] <= 10.0  # the first answer: nothing to compare with, both the speaker's usual
    # Later answers against the same voice's own baseline: the voices differ by chance per clip (the change of voice
    # also moves loudness and pitch range a little) but not on average (measured: -0.002 arousal, max 0.13).
    assert abs(effects["arousal_adapted_mean"]) <= 0.05


@pytest.mark.slow  # loads the sentence encoder in its own process
def test_on_demand_from_the_shell() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bias", "counterfactual", "--skip-voice"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(b) the same resume with only the name, the sex or the age changed" in done.stdout
    assert "0 scores moved (tolerance 1e-09)" in done.stdout
