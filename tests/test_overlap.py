"""Tests for analyzers/overlap.py: keeping each word once across a forced split, and decoding loops."""

from __future__ import annotations

from analyzers.overlap import cut_repetition, find_repetition, words_after, words_before


def w(text: str, start: float, end: float) -> dict:
    return {"word": text, "start": start, "end": end}


def texts(words: list[dict]) -> str:
    return "".join(x["word"] for x in words)


# The part before was decoded to 11 s, the part after from 9 s; the cut is at 10 s.
CUT, OVERLAP = 10.0, 1.0


def test_words_before_keep_what_is_mostly_before_the_cut() -> None:
    words = [w(" after", 8.8, 9.3), w(" some", 9.4, 9.9), w(" reflection", 9.9, 10.4), w(" I", 10.5, 10.6)]
    assert texts(words_before(words, CUT)) == " after some"  # reflection's midpoint is 10.15
    assert texts(words_before(words, 10.2)) == " after some reflection"


def test_a_word_both_decodes_put_before_the_cut_is_not_lost() -> None:
    # The part before placed "reflection" after the cut (midpoint 10.1): it dropped it.
    before = words_before([w(" After", 9.0, 9.3), w(" some", 9.4, 9.8), w(" reflection", 9.8, 10.4)], CUT)
    assert texts(before) == " After some"
    # The part after heard it a little earlier (midpoint 9.95): by time alone it would be lost too.
    after = [w(" After", 9.0, 9.35), w(" some", 9.4, 9.7), w(" reflection", 9.7, 10.2), w(" I", 10.4, 10.5), w(" agreed", 10.5, 11.0)]
    assert texts([x for x in after if (x["start"] + x["end"]) / 2 >= CUT]) == " I agreed"  # the midpoint rule loses it
    assert texts(words_after(before, after, CUT, OVERLAP)) == " reflection I agreed"


def test_a_word_both_decodes_put_on_their_own_side_is_not_doubled() -> None:
    before = words_before([w("风", 9.2, 9.5), w("险", 9.5, 9.8), w("测", 9.8, 10.1)], CUT)
    assert texts(before) == "风险测"
    # The part after put 测 at 10.05-10.3: after the cut by its midpoint, kept twice by time alone.
    after = [w("风", 9.25, 9.55), w("险", 9.55, 9.9), w("测", 10.05, 10.3), w("评", 10.3, 10.6), w("是", 10.6, 10.8)]
    assert texts(words_after(before, after, CUT, OVERLAP)) == "评是"


def test_a_word_split_differently_keeps_only_its_new_part() -> None:
    before = [w("一", 9.0, 9.2), w("部分", 9.2, 9.6), w("放", 9.6, 9.95)]
    after = [w("一部分", 9.0, 9.6), w("放在", 9.6, 10.3), w("可以", 10.3, 10.7)]
    result = words_after(before, after, CUT, OVERLAP)
    assert texts(result) == "在可以"
    assert result[0]["start"] == 9.6  # the word's own timing stays


def test_without_agreement_the_midpoint_decides() -> None:
    before = [w(" alpha", 9.0, 9.5), w(" beta", 9.5, 9.9)]
    after = [w(" gamma", 9.1, 9.6), w(" delta", 9.6, 9.9), w(" epsilon", 10.1, 10.5)]
    assert texts(words_after(before, after, CUT, OVERLAP)) == " epsilon"
    assert texts(words_after([], after, CUT, OVERLAP)) == " epsilon"


def test_a_single_common_character_is_no_evidence() -> None:
    # 的 occurs everywhere: one matching character must not decide the junction.
    before = [w("我", 9.0, 9.3), w("的", 9.6, 9.8)]
    after = [w("的", 9.1, 9.3), w("他", 9.5, 9.8), w("的", 10.2, 10.4), w("钱", 10.4, 10.7)]
    assert texts(words_after(before, after, CUT, OVERLAP)) == "的钱"


def test_the_junction_is_looked_for_near_the_cut_only() -> None:
    # The same phrase said again later in the part after is not where the part before stopped.
    before = [w("一", 9.3, 9.5), w("部分", 9.5, 9.9)]
    after = [w("一", 9.3, 9.5), w("部分", 9.5, 9.9), w("配", 10.0, 10.3), w("一", 11.5, 11.7), w("部分", 11.7, 12.0)]
    assert texts(words_after(before, after, CUT, OVERLAP)) == "配一部分"


# -- decoding loops ------------------------------------------------------------
def test_a_character_three_times_at_the_end_is_a_loop_and_one_copy_is_kept() -> None:
    assert find_repetition("风险侧铺铺铺") == (4, 6)
    assert cut_repetition("风险侧铺铺铺")[0] == "风险侧铺"


def test_a_phrase_looping_to_the_end_is_cut_with_its_words() -> None:
    words = [w(x, i, i + 1) for i, x in enumerate([" I", " think", " the", " the", " the", " the"])]
    text, kept = cut_repetition(" I think the the the the", words)
    assert text == " I think the"
    assert texts(kept) == " I think the"
    text, kept = cut_repetition("有没有被挪用有没有被挪用有没有被挪用", [w(c, 0, 1) for c in "有没有被挪用" * 3])
    assert text == "有没有被挪用" and texts(kept) == "有没有被挪用"


def test_a_long_loop_inside_the_text_loses_its_copies_and_keeps_what_follows() -> None:
    # Whisper looped in one window and went on in the next: the words after the loop are real.
    loop = "指" * 20
    words = [w(c, i, i + 1) for i, c in enumerate("说明不是系统性问题" + loop + "然后我会抽二十份档案")]
    text, kept = cut_repetition("说明不是系统性问题" + loop + "然后我会抽二十份档案", words)
    assert text == "说明不是系统性问题指然后我会抽二十份档案"
    assert texts(kept) == text
    english = [w(x, i, i + 1) for i, x in enumerate([" so", " we", " we", " we", " we", " we", " we", " agreed", "."])]
    text, kept = cut_repetition(" so we we we we we we agreed.", english)
    assert text == " so we agreed."
    assert texts(kept) == " so we agreed."


def test_what_people_repeat_is_not_a_loop() -> None:
    for text in (
        "谢谢谢谢，我们行的一个，我们行的一个核心客户",
        "对对对，是的，就是这个意思",
        "no no, that is not it",
        "一部分配短债理财，一部分放在可以随时赎回的现金管理类产品",
        "一天天地慢慢好起来",
        "We grew 100 100 percent",
    ):
        assert find_repetition(text) is None, text
        assert cut_repetition(text) == (text, [])


def test_punctuation_and_case_do_not_hide_a_loop() -> None:
    assert find_repetition("指，指。指！") is not None
    assert find_repetition("Yes. yes, YES") is not None
