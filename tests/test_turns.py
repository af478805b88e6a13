"""Tests for analyzers/turns.py: the turn segmenter fed one VAD probability
per 32 ms chunk, as the VAD analyzer feeds it."""

from __future__ import annotations

import pytest

from analyzers.turns import TurnConfig, TurnEnd, TurnPause, TurnSegmenter, TurnStart
from server.live import turn_config
from server.settings import Settings

CHUNK_S = 0.032
SPEECH = 0.9
SILENCE = 0.02


def chunks(*segments: tuple[float, int]) -> list[float]:
    """(probability, number of 32 ms chunks) segments -> per-chunk probabilities."""
    return [prob for prob, n in segments for _ in range(n)]


def feed(
    segmenter: TurnSegmenter, probs: list[float], first_chunk: int = 0, *, pauses: bool = False
) -> list[tuple[int, TurnStart | TurnEnd]]:
    """Feed chunks with exact media times; return (chunk index, boundary) pairs (pauses only if asked)."""
    out = []
    for offset, prob in enumerate(probs):
        i = first_chunk + offset
        for boundary in segmenter.feed(prob, i * CHUNK_S, (i + 1) * CHUNK_S):
            if pauses or not isinstance(boundary, TurnPause):
                out.append((i, boundary))
    return out


def boundaries(pairs: list[tuple[int, TurnStart | TurnEnd]]) -> list[TurnStart | TurnEnd]:
    return [b for _, b in pairs]


def t(chunk_index: int) -> float:
    return chunk_index * CHUNK_S


# -- a clean utterance --------------------------------------------------------
def test_clean_utterance_gives_one_padded_start_and_one_end_after_min_silence() -> None:
    seg = TurnSegmenter()
    cfg = seg.config
    # 1.024 s silence, 1.024 s speech, 1.024 s silence
    pairs = feed(seg, chunks((SILENCE, 32), (SPEECH, 32), (SILENCE, 32)))

    assert [type(b) for b in boundaries(pairs)] == [TurnStart, TurnEnd]
    (start_at, start), (end_at, end) = pairs
    speech_start, speech_end = t(32), t(64)

    # the start is padded by pad_s and announced once min_speech_s of speech was heard
    assert start.start == pytest.approx(speech_start - cfg.pad_s)
    assert start_at == 32 + 7  # the 8th speech chunk: 8 * 32 ms = 0.256 s >= 0.25 s
    # the end is padded too, and announced once min_silence_s of silence was heard
    assert end.end == pytest.approx(speech_end + cfg.pad_s)
    assert end.start == start.start
    assert end.utterance_id == start.utterance_id == 1
    assert end.forced is False
    end_chunk_end = t(end_at + 1)
    assert end_chunk_end - speech_end >= cfg.min_silence_s
    assert end_chunk_end - speech_end < cfg.min_silence_s + CHUNK_S

    assert seg.finish() == []
    assert not seg.in_turn


def test_in_turn_and_current_id_follow_the_turn() -> None:
    seg = TurnSegmenter()
    assert (seg.in_turn, seg.current_id) == (False, None)
    feed(seg, chunks((SPEECH, 10)))
    assert (seg.in_turn, seg.current_id) == (True, 1)
    feed(seg, chunks((SILENCE, 20)), first_chunk=10)
    assert (seg.in_turn, seg.current_id) == (False, None)


def test_start_padding_never_goes_before_zero() -> None:
    seg = TurnSegmenter()
    pairs = feed(seg, chunks((SILENCE, 2), (SPEECH, 20), (SILENCE, 20)))
    start = boundaries(pairs)[0]
    assert isinstance(start, TurnStart)
    assert start.start == 0.0  # speech began at 0.064 s; padding would give -0.136


def test_start_padding_never_goes_before_the_previous_turns_end() -> None:
    # Padding wider than the gap the end rule leaves: the second turn's padded
    # start would fall inside the first turn.
    seg = TurnSegmenter(TurnConfig(pad_s=0.4, min_silence_s=0.5))
    pairs = feed(seg, chunks((SPEECH, 32), (SILENCE, 18), (SPEECH, 32), (SILENCE, 32)))
    first_start, first_end, second_start, second_end = boundaries(pairs)
    assert isinstance(first_end, TurnEnd) and isinstance(second_start, TurnStart)
    assert first_end.end == pytest.approx(t(32) + 0.4)
    assert t(50) - 0.4 < first_end.end  # the unclamped padded start would overlap
    assert second_start.start == first_end.end
    assert second_end.start == second_start.start


def test_turns_never_overlap_with_default_config() -> None:
    seg = TurnSegmenter()
    probs = chunks((SPEECH, 20), (SILENCE, 16), (SPEECH, 20), (SILENCE, 17), (SPEECH, 9), (SILENCE, 40))
    ends = [b for b in boundaries(feed(seg, probs)) if isinstance(b, TurnEnd)]
    assert len(ends) == 3
    for earlier, later in zip(ends, ends[1:]):
        assert later.start >= earlier.end
    for end in ends:
        assert end.end > end.start


# -- what is not a turn -----------------------------------------------------
def test_a_click_shorter_than_min_speech_gives_nothing() -> None:
    seg = TurnSegmenter()
    # 160 ms click, 0.5 s silence, another 160 ms click, silence: the two
    # clicks together exceed min_speech_s but are separate noises.
    pairs = feed(seg, chunks((SILENCE, 10), (SPEECH, 5), (SILENCE, 16), (SPEECH, 5), (SILENCE, 30)))
    assert pairs == []
    assert seg.finish() == []
    assert not seg.in_turn


def test_a_click_at_the_end_of_input_gives_nothing() -> None:
    seg = TurnSegmenter()
    assert feed(seg, chunks((SILENCE, 10), (SPEECH, 7))) == []
    assert seg.finish() == []


def test_speech_below_threshold_never_starts_a_turn() -> None:
    seg = TurnSegmenter()  # threshold 0.5, stay threshold 0.35
    assert feed(seg, chunks((0.45, 200))) == []
    assert seg.finish() == []


def test_a_short_gap_while_a_start_is_pending_does_not_lose_the_start() -> None:
    seg = TurnSegmenter()
    # 4 speech chunks, a 96 ms gap (< pending_gap_s), 4 more speech chunks
    pairs = feed(seg, chunks((SILENCE, 20), (SPEECH, 4), (SILENCE, 3), (SPEECH, 4), (SILENCE, 30)))
    start = boundaries(pairs)[0]
    assert isinstance(start, TurnStart)
    assert start.start == pytest.approx(t(20) - seg.config.pad_s)


# -- staying in a turn ------------------------------------------------------
def test_brief_dips_inside_speech_do_not_split_the_turn() -> None:
    seg = TurnSegmenter()
    # two dips of 288 ms and 416 ms, both shorter than min_silence_s
    probs = chunks((SPEECH, 30), (SILENCE, 9), (SPEECH, 30), (SILENCE, 13), (SPEECH, 30), (SILENCE, 30))
    result = boundaries(feed(seg, probs))
    assert [type(b) for b in result] == [TurnStart, TurnEnd]
    assert result[1].end == pytest.approx(t(30 + 9 + 30 + 13 + 30) + seg.config.pad_s)


def test_hysteresis_probability_between_stay_and_start_threshold_keeps_the_turn() -> None:
    seg = TurnSegmenter()
    cfg = seg.config
    assert cfg.stay_threshold < 0.4 < cfg.threshold
    # 0.5 s of clear speech, then 2 s of soft speech at 0.4, then silence
    result = boundaries(feed(seg, chunks((SPEECH, 16), (0.4, 64), (SILENCE, 32))))
    assert [type(b) for b in result] == [TurnStart, TurnEnd]
    assert result[1].end == pytest.approx(t(16 + 64) + cfg.pad_s)


def test_explicit_neg_threshold_sets_the_stay_threshold() -> None:
    seg = TurnSegmenter(TurnConfig(threshold=0.5, neg_threshold=0.45))
    # 0.4 is below this stay threshold: 0.5 s of it ends the turn
    result = boundaries(feed(seg, chunks((SPEECH, 16), (0.4, 64))))
    assert [type(b) for b in result] == [TurnStart, TurnEnd]
    assert result[1].end == pytest.approx(t(16) + seg.config.pad_s)


# -- long answers -----------------------------------------------------------
def test_max_utterance_splits_with_forced_end_and_the_turn_continues() -> None:
    seg = TurnSegmenter()
    max_s = seg.config.max_utterance_s
    n_speech = int(31.0 / CHUNK_S)  # 31 s of unbroken speech
    pairs = feed(seg, chunks((SPEECH, n_speech), (SILENCE, 32)))
    result = boundaries(pairs)
    assert [type(b) for b in result] == [TurnStart, TurnEnd, TurnStart, TurnEnd]
    start1, forced_end, start2, end2 = result

    assert start1.start == 0.0
    assert forced_end.forced is True
    # announced when the turn reaches max_s, cut split_margin_s before (unbroken
    # speech has no quieter moment: the latest allowed chunk)
    assert t(pairs[1][0] + 1) - start1.start == pytest.approx(max_s, abs=CHUNK_S)
    cfg = seg.config
    assert forced_end.end - forced_end.start == pytest.approx(max_s - cfg.split_margin_s, abs=2 * CHUNK_S)
    # the next turn continues exactly where the forced split cut, without a
    # new min_speech_s wait
    assert start2.start == forced_end.end
    assert pairs[1][0] == pairs[2][0]
    assert start2.utterance_id == forced_end.utterance_id + 1
    assert end2.forced is False
    assert end2.start == start2.start
    assert end2.end == pytest.approx(t(n_speech) + seg.config.pad_s)


def test_max_utterance_splits_repeatedly() -> None:
    seg = TurnSegmenter(TurnConfig(max_utterance_s=2.0, split_margin_s=0.0))
    n_speech = int(7.0 / CHUNK_S)
    ends = [b for b in boundaries(feed(seg, chunks((SPEECH, n_speech), (SILENCE, 32)))) if isinstance(b, TurnEnd)]
    assert [e.forced for e in ends] == [True, True, True, False]
    for earlier, later in zip(ends, ends[1:]):
        assert later.start == earlier.end  # contiguous: no speech lost between pieces
    for end in ends:
        assert end.end - end.start <= 2.0 + CHUNK_S


# -- end of input -----------------------------------------------------------
def test_finish_closes_a_turn_that_is_still_speaking_at_the_last_media_time() -> None:
    seg = TurnSegmenter()
    pairs = feed(seg, chunks((SILENCE, 10), (SPEECH, 40)))
    assert [type(b) for b in boundaries(pairs)] == [TurnStart]
    (end,) = seg.finish()
    assert isinstance(end, TurnEnd)
    assert end.utterance_id == 1
    assert end.end == pytest.approx(t(50))
    assert end.forced is False
    assert not seg.in_turn
    assert seg.finish() == []


def test_finish_during_trailing_silence_ends_at_the_padded_silence_start() -> None:
    seg = TurnSegmenter()
    feed(seg, chunks((SPEECH, 40), (SILENCE, 10)))  # 320 ms silence < min_silence_s
    (end,) = seg.finish()
    assert end.end == pytest.approx(t(40) + seg.config.pad_s)


def test_finish_during_a_trailing_silence_shorter_than_the_pad_ends_at_the_last_time() -> None:
    seg = TurnSegmenter()
    feed(seg, chunks((SPEECH, 40), (SILENCE, 2)))  # 64 ms < pad_s
    (end,) = seg.finish()
    assert end.end == pytest.approx(t(42))


# -- identities -------------------------------------------------------------
def test_utterance_ids_increase_and_pair_starts_with_ends() -> None:
    seg = TurnSegmenter()
    probs = chunks(*[(SPEECH, 20), (SILENCE, 30)] * 3, (SPEECH, 20))
    result = boundaries(feed(seg, probs)) + seg.finish()
    starts = [b.utterance_id for b in result if isinstance(b, TurnStart)]
    ends = [b.utterance_id for b in result if isinstance(b, TurnEnd)]
    assert starts == ends == [1, 2, 3, 4]
    # boundaries alternate start, end, start, end ...
    assert [type(b) for b in result] == [TurnStart, TurnEnd] * 4


def test_boundary_times_are_rounded_to_milliseconds() -> None:
    seg = TurnSegmenter()
    result = boundaries(feed(seg, chunks((SILENCE, 7), (SPEECH, 20), (SILENCE, 30))))
    for b in result:
        times = [b.start] + ([b.end] if isinstance(b, TurnEnd) else [])
        for value in times:
            assert value == round(value, 3)


# -- pauses: when a final's decode may start -----------------------------------
def test_a_pause_comes_the_lead_before_the_end_and_matches_the_end() -> None:
    seg = TurnSegmenter()
    cfg = seg.config
    pairs = feed(seg, chunks((SILENCE, 10), (SPEECH, 32), (SILENCE, 32)), pauses=True)
    assert [type(b) for _, b in pairs] == [TurnStart, TurnPause, TurnEnd]
    (_, start), (pause_at, pause), (end_at, end) = pairs
    speech_end = t(42)
    # announced once min_silence_s - speculate_short_lead_s of silence is in (0.4 s of a short turn's 0.5 s):
    # the final's audio (pad_s of silence) is all heard by then
    heard = t(pause_at + 1) - speech_end
    lead = cfg.speculate_short_lead_s
    assert cfg.min_silence_s - lead <= heard < cfg.min_silence_s - lead + CHUNK_S
    assert heard >= cfg.pad_s
    assert end_at > pause_at
    # the turn ends exactly where the pause said: the speculative decode had the final's audio
    assert (pause.utterance_id, pause.start, pause.end) == (end.utterance_id, end.start, end.end)


def test_the_rule_before_pauses_once_the_pad_is_heard() -> None:
    seg = TurnSegmenter(TurnConfig(speculate_lead_s=None))
    pairs = feed(seg, chunks((SILENCE, 10), (SPEECH, 32), (SILENCE, 32)), pauses=True)
    (_, _), (pause_at, pause), (_, end) = pairs
    heard = t(pause_at + 1) - t(42)
    assert seg.config.pad_s <= heard < seg.config.pad_s + CHUNK_S
    assert pause.end == end.end
    # settings -> config: the previous rule on request, the lead otherwise
    assert turn_config(Settings(_env_file=None, asr_speculate_at_pad=True)).speculate_lead_s is None
    assert turn_config(Settings(_env_file=None, asr_speculate_lead_s=0.1)).speculate_lead_s == 0.1
    assert turn_config(Settings(_env_file=None)).speculate_short_lead_s == 0.1
    assert turn_config(Settings(_env_file=None, asr_speculate_short_lead_s=0.2)).speculate_short_lead_s == 0.2


@pytest.mark.parametrize("short_lead", [0.1, 0.2])
def test_a_short_turn_pauses_its_own_lead_before_its_end(short_lead: float) -> None:
    """A short turn's pause comes speculate_short_lead_s before its 0.5 s end: a 0.35 s breath is void at 0.2, none at 0.1."""
    cfg = TurnConfig(speculate_short_lead_s=short_lead)
    pairs = feed(TurnSegmenter(cfg), chunks((SILENCE, 10), (SPEECH, 32), (SILENCE, 32)), pauses=True)
    (_, _), (pause_at, pause), (_, end) = pairs
    heard = t(pause_at + 1) - t(42)
    assert cfg.min_silence_s - short_lead <= heard < cfg.min_silence_s - short_lead + CHUNK_S
    assert (pause.start, pause.end) == (end.start, end.end)
    breath = chunks((SPEECH, 20), (SILENCE, 11), (SPEECH, 20))  # 0.352 s: between 0.3 and 0.4 s of silence
    got = [type(b) for _, b in feed(TurnSegmenter(cfg), breath, pauses=True)]
    assert got == ([TurnStart] if short_lead == 0.1 else [TurnStart, TurnPause])


def test_a_long_turn_pauses_the_lead_before_its_shorter_end_before_the_pad_is_heard() -> None:
    """A long turn ends at 0.25 s of silence: its pause comes 0.05 s in, with the final's end still ahead."""
    seg = TurnSegmenter()
    cfg = seg.config
    long = int(cfg.long_turn_s / CHUNK_S) + 20
    pairs = feed(seg, chunks((SILENCE, 10), (SPEECH, long), (SILENCE, 32)), pauses=True)
    assert [type(b) for _, b in pairs] == [TurnStart, TurnPause, TurnEnd]
    (_, _), (pause_at, pause), (end_at, end) = pairs
    speech_end = t(10 + long)
    heard = t(pause_at + 1) - speech_end  # two chunks: the lead before 0.25 s
    assert cfg.long_turn_min_silence_s - cfg.speculate_lead_s <= heard < cfg.long_turn_min_silence_s - cfg.speculate_lead_s + CHUNK_S
    assert pause.end == pytest.approx(speech_end + cfg.pad_s)
    assert pause.end > t(pause_at + 1)  # not all heard yet: ASR decodes zeros for the rest
    assert end_at > pause_at and (pause.start, pause.end) == (end.start, end.end)


def test_speech_resuming_after_a_pause_gives_a_new_pause_later_and_the_end_matches_the_last() -> None:
    seg = TurnSegmenter()
    probs = chunks((SPEECH, 20), (SILENCE, 13), (SPEECH, 20), (SILENCE, 32))  # a 0.42 s breath mid-turn (< 0.5 s)
    result = [b for _, b in feed(seg, probs, pauses=True)]
    assert [type(b) for b in result] == [TurnStart, TurnPause, TurnPause, TurnEnd]
    first, second, end = result[1], result[2], result[3]
    assert first.end < second.end == end.end  # the first pause is void: speech came back


@pytest.mark.parametrize("lead", [0.2, None])
def test_no_pause_for_a_silence_shorter_than_the_pause_rule(lead: float | None) -> None:
    seg = TurnSegmenter(TurnConfig(speculate_lead_s=lead, speculate_short_lead_s=lead))
    probs = chunks((SPEECH, 20), (SILENCE, 4), (SPEECH, 20))  # 0.128 s: < pad_s, < min_silence_s - lead
    assert [type(b) for _, b in feed(seg, probs, pauses=True)] == [TurnStart]
    # a 0.25 s silence in a short turn: a pause under the rule before (void), none under the lead
    seg = TurnSegmenter(TurnConfig(speculate_lead_s=lead, speculate_short_lead_s=lead))
    probs = chunks((SPEECH, 20), (SILENCE, 8), (SPEECH, 20))
    got = [type(b) for _, b in feed(seg, probs, pauses=True)]
    assert got == ([TurnStart] if lead is not None else [TurnStart, TurnPause])


# -- long answers: ended at a breath, split at the quietest moment ------------
def test_a_long_turn_ends_at_a_shorter_silence_and_the_answer_goes_on_in_a_new_turn() -> None:
    seg = TurnSegmenter()
    cfg = seg.config
    breath = int(cfg.long_turn_min_silence_s / CHUNK_S) + 1  # 0.32 s: < min_silence_s, >= long_turn_min_silence_s
    assert breath * CHUNK_S < cfg.min_silence_s
    early = int(5.0 / CHUNK_S)  # a breath 5 s in: the turn goes on
    late = int(cfg.long_turn_s / CHUNK_S) + 10  # a breath after long_turn_s: the turn ends there
    probs = chunks((SPEECH, early), (SILENCE, breath), (SPEECH, late - early - breath), (SILENCE, breath), (SPEECH, 100), (SILENCE, 40))
    result = boundaries(feed(seg, probs))
    assert [type(b) for b in result] == [TurnStart, TurnEnd, TurnStart, TurnEnd]
    first_end, second_start = result[1], result[2]
    assert first_end.forced is False
    assert first_end.end == pytest.approx(t(late) + cfg.pad_s)  # in the breath, padded like any end
    # the next turn starts with the next words (padded, never before the end): nothing between is lost
    assert second_start.start == pytest.approx(max(first_end.end, t(late + breath) - cfg.pad_s))
    assert [b.utterance_id for b in result] == [1, 1, 2, 2]


def test_without_long_turn_s_only_min_silence_ends_a_turn() -> None:
    seg = TurnSegmenter(TurnConfig(long_turn_s=None))
    probs = chunks((SPEECH, int(12 / CHUNK_S)), (SILENCE, 10), (SPEECH, 50), (SILENCE, 40))
    assert [type(b) for b in boundaries(feed(seg, probs))] == [TurnStart, TurnEnd]


def test_the_operator_sets_long_turns_through_the_settings() -> None:
    probs = chunks((SPEECH, int(12 / CHUNK_S)), (SILENCE, 10), (SPEECH, 50), (SILENCE, 40))  # a 0.32 s breath 12 s in
    default = TurnSegmenter(turn_config(Settings()))
    assert [type(b) for b in boundaries(feed(default, probs))] == [TurnStart, TurnEnd, TurnStart, TurnEnd]
    off = TurnSegmenter(turn_config(Settings(vad_long_turn_s=0, max_utterance_s=40)))
    assert [type(b) for b in boundaries(feed(off, probs))] == [TurnStart, TurnEnd]
    assert off.config.max_utterance_s == 40


def test_a_forced_split_cuts_at_the_quietest_chunk_before_the_limit() -> None:
    seg = TurnSegmenter()
    cfg = seg.config
    dip = int(25.0 / CHUNK_S)  # a dip to 0.6 (still speech) 25 s in, inside the search window
    decoy = int(20.0 / CHUNK_S)  # a deeper dip 20 s in, outside it
    probs = [SPEECH] * int(31 / CHUNK_S)
    probs[dip] = 0.6
    probs[decoy] = 0.4
    pairs = feed(seg, probs + [SILENCE] * 32)
    result = boundaries(pairs)
    assert [type(b) for b in result] == [TurnStart, TurnEnd, TurnStart, TurnEnd]
    forced_end, start2 = result[1], result[2]
    assert forced_end.forced is True
    assert forced_end.end == pytest.approx(t(dip) + CHUNK_S / 2, abs=1e-3)  # the middle of the dip's chunk
    assert start2.start == forced_end.end
    # announced at the limit, with the audio after the cut already heard
    announced = t(pairs[1][0] + 1)
    assert announced == pytest.approx(cfg.max_utterance_s, abs=CHUNK_S)
    assert announced - forced_end.end >= cfg.split_margin_s


def test_a_dip_too_close_to_the_limit_is_not_a_cut() -> None:
    seg = TurnSegmenter()
    cfg = seg.config
    probs = [SPEECH] * int(31 / CHUNK_S)
    probs[int((cfg.max_utterance_s - 0.3) / CHUNK_S)] = 0.36  # no audio after it to decode across the cut
    forced_end = boundaries(feed(seg, probs + [SILENCE] * 32))[1]
    assert forced_end.end <= cfg.max_utterance_s - cfg.split_margin_s


def test_silence_heard_after_a_forced_cut_counts_in_the_next_turn() -> None:
    seg = TurnSegmenter(TurnConfig(long_turn_s=None))
    cfg = seg.config
    # speech to 27.6 s, then silence: at 28 s the cut goes back to ~27 s, and
    # the 0.4 s of silence already heard belongs to the new turn
    n = int(27.6 / CHUNK_S)
    pairs = feed(seg, chunks((SPEECH, n), (SILENCE, 40)))
    result = boundaries(pairs)
    assert [type(b) for b in result] == [TurnStart, TurnEnd, TurnStart, TurnEnd]
    assert result[1].forced is True and result[1].end < t(n)
    assert result[3].forced is False
    # the new turn ends once the silence since the last word (not since the cut) reaches min_silence_s
    assert t(pairs[3][0] + 1) - t(n) == pytest.approx(cfg.min_silence_s, abs=CHUNK_S)
    assert result[3].end == pytest.approx(t(n) + cfg.pad_s)
