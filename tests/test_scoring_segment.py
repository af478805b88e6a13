"""Scoring spans from transcript events (pure, no model)."""

from __future__ import annotations

from scoring.segment import SegmentConfig, clauses, scoring_spans, transcript_tokens


def _final(uid: int, language: str, words: list[tuple[str, float, float]], text: str = "") -> dict:
    return {
        "utterance_id": uid,
        "language": language,
        "text": text or "".join(w for w, _, _ in words),
        "start": words[0][1] if words else 0.0,
        "end": words[-1][2] if words else 0.0,
        "words": [{"word": w, "start": a, "end": b, "probability": 0.9} for w, a, b in words],
    }


def test_whisper_words_become_hanzi_tokens_with_shared_times() -> None:
    tokens = transcript_tokens([_final(1, "zh", [("我喜欢", 1.0, 1.6), ("挑战。", 1.6, 2.0)])])
    assert [t.text for t in tokens] == ["我", "喜", "欢", "挑", "战"]
    assert tokens[0].start == 1.0 and tokens[2].end == 1.6 and tokens[-1].end == 2.0
    assert tokens[-1].punct_after and tokens[-1].display == "战。"
    assert not any(t.punct_after for t in tokens[:-1])


def test_english_words_keep_punctuation_for_display_only() -> None:
    tokens = transcript_tokens(
        [_final(1, "en", [(" I", 0.0, 0.2), (" sold", 0.2, 0.5), (" 3.5", 0.5, 0.9), (" million.", 0.9, 1.4)])]
    )
    assert [t.text for t in tokens] == ["I", "sold", "3.5", "million"]
    assert tokens[-1].punct_after and not tokens[2].punct_after


def test_clauses_cut_at_punctuation_and_utterances_with_media_times() -> None:
    finals = [
        _final(
            1,
            "zh",
            [("嗯，", 0.0, 0.3), ("我先问了", 0.6, 1.4), ("客户的需求，", 1.4, 2.4), ("然后做了风险测评", 2.5, 4.1)],
        ),
        _final(2, "zh", [("最后他买了二十万", 5.5, 7.1)]),
    ]
    spans = scoring_spans(finals)
    clause_spans = [s for s in spans if s.kind == "clause"]
    assert [s.text for s in clause_spans] == ["嗯，我先问了客户的需求，", "然后做了风险测评", "最后他买了二十万"]
    assert clause_spans[0].embed_text == "我先问了客户的需求"  # hesitation and punctuation dropped
    assert (clause_spans[0].start, clause_spans[0].end) == (0.0, 2.4)
    assert (clause_spans[2].start, clause_spans[2].end) == (5.5, 7.1)
    windows = [s for s in spans if s.kind == "window"]
    assert [(w.first, w.last) for w in windows] == [(0, 1), (1, 2)]
    assert windows[1].text == "然后做了风险测评最后他买了二十万"
    assert (windows[1].start, windows[1].end) == (2.5, 7.1)


def test_long_unpunctuated_clause_is_cut_at_the_longest_pause() -> None:
    words = []
    t = 0.0
    for i, ch in enumerate("我之前在支行做理财经理的时候有一个客户他手上有一笔定期快到期了"):
        words.append((ch, t, t + 0.2))
        t += 0.2 + (0.6 if i == 18 else 0.0)  # pause after "有一个客户"
    parts = clauses(transcript_tokens([_final(1, "zh", words)]))
    texts = ["".join(t.text for t in part) for part in parts]
    assert texts[0] == "我之前在支行做理财经理的时候有一个客户"[: len(texts[0])]
    assert "".join(texts) == "我之前在支行做理财经理的时候有一个客户他手上有一笔定期快到期了"
    assert all(len(text) <= SegmentConfig().max_units_zh for text in texts)
    assert any(text.endswith("有一个客户") for text in texts)


def test_long_english_clause_prefers_a_cut_before_a_discourse_marker() -> None:
    text = "I asked what she needed the money for and she said it was for her grandson's college"
    words = [(" " + w, i * 0.3, i * 0.3 + 0.25) for i, w in enumerate(text.split())]
    parts = clauses(transcript_tokens([_final(1, "en", words)]))
    assert [" ".join(t.text for t in part) for part in parts] == [
        "I asked what she needed the money for",
        "and she said it was for her grandson's college",
    ]


def test_short_clauses_join_the_next_and_no_words_falls_back_to_text() -> None:
    final = {
        "utterance_id": 1,
        "language": "en",
        "text": "ok, so. I asked about her goals first.",
        "start": 10.0,
        "end": 14.0,
        "words": [],
    }
    spans = scoring_spans([final])
    assert [s.text for s in spans] == ["ok, so. I asked about her goals first."]
    assert spans[0].start == 10.0 and spans[0].end == 14.0


def test_replayed_utterances_count_once_and_order_is_by_time() -> None:
    a = _final(7, "en", [(" first", 1.0, 1.3), (" part", 1.3, 1.6), (" here", 1.6, 1.9)])
    b = _final(8, "en", [(" second", 3.0, 3.3), (" part", 3.3, 3.6), (" here", 3.6, 3.9)])
    assert scoring_spans([b, a, b]) == scoring_spans([a, b])
    assert scoring_spans([]) == []
