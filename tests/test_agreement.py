"""Tests for analyzers/agreement.py: LocalAgreement-2 over successive partial
decodes, and the tokenizer for mixed Chinese/English captions."""

from __future__ import annotations


from analyzers.agreement import LocalAgreement, join_tokens, tokenize


# -- tokenize / join_tokens -------------------------------------------------
def test_tokenize_splits_english_into_words_keeping_punctuation_attached() -> None:
    assert tokenize("Hello, world. How are you?") == ["Hello,", "world.", "How", "are", "you?"]


def test_tokenize_splits_chinese_into_characters() -> None:
    assert tokenize("我叫李明") == ["我", "叫", "李", "明"]


def test_tokenize_mixed_chinese_and_english() -> None:
    tokens = tokenize("我用Python写代码, 也用 SQL")
    assert tokens == ["我", "用", "Python", "写", "代", "码", ",", "也", "用", "SQL"]


def test_tokenize_blank_text_gives_no_tokens() -> None:
    assert tokenize("") == []
    assert tokenize("   \n ") == []


def test_join_tokens_puts_spaces_between_words_only() -> None:
    assert join_tokens(["Hello,", "world."]) == "Hello, world."
    assert join_tokens(["我", "叫", "李", "明"]) == "我叫李明"
    assert join_tokens(["Hello", ",", "world", "!"]) == "Hello, world!"
    assert join_tokens([]) == ""


def test_join_tokens_mixed_text_has_no_space_around_chinese_and_one_between_english_words() -> None:
    text = join_tokens(tokenize("我在 Bank of China 工作了三年。"))
    assert text == "我在Bank of China工作了三年。"


def test_chinese_text_with_fullwidth_punctuation_round_trips() -> None:
    text = "您好，请介绍一下您自己。"
    assert join_tokens(tokenize(text)) == text


def test_english_text_round_trips() -> None:
    text = "I have three years of experience in risk management."
    assert join_tokens(tokenize(text)) == text


# -- LocalAgreement ---------------------------------------------------------
def test_first_hypothesis_is_all_tentative() -> None:
    la = LocalAgreement()
    assert la.update("I have worked") is False
    assert la.stable == []
    assert la.stable_text == ""
    assert la.tentative_text == "I have worked"


def test_stable_grows_only_when_two_consecutive_hypotheses_agree() -> None:
    la = LocalAgreement()
    la.update("I have")
    assert la.update("I have worked") is True
    assert la.stable_text == "I have"
    assert la.tentative_text == "worked"

    # the newest hypothesis agrees with the previous one on one more word
    assert la.update("I have worked at") is True
    assert la.stable_text == "I have worked"
    assert la.tentative_text == "at"


def test_a_word_seen_only_once_does_not_become_stable() -> None:
    la = LocalAgreement()
    la.update("I have")
    la.update("I have worked at")
    # "at" was only in the previous hypothesis; "a" differs
    assert la.update("I have worked a bank") is True
    assert la.stable_text == "I have worked"
    assert la.tentative_text == "a bank"


def test_agreement_needs_consecutive_hypotheses_not_any_earlier_one() -> None:
    la = LocalAgreement()
    la.update("the bank")
    la.update("a bank")  # disagrees at the first word: nothing stable
    assert la.stable == []
    # agrees with the first hypothesis, but not with the one just before it
    assert la.update("the bank") is False
    assert la.stable == []
    # now two consecutive hypotheses agree
    assert la.update("the bank loan") is True
    assert la.stable_text == "the bank"


def test_stable_never_shrinks_when_a_later_hypothesis_disagrees() -> None:
    la = LocalAgreement()
    la.update("I worked in")
    la.update("I worked in credit risk")
    assert la.stable_text == "I worked in"
    history = [la.stable_text]
    for hypothesis in [
        "I work",
        "",
        "You worked in credit",
        "You worked in credit risk",
        "I worked in credit risk",
        "I worked in credit risk team",
    ]:
        la.update(hypothesis)
        history.append(la.stable_text)
    for earlier, later in zip(history, history[1:]):
        assert later.startswith(earlier)
    # after it came back into line, the stable text grew again
    assert la.stable_text == "I worked in credit risk"


def test_stable_does_not_grow_from_hypotheses_that_contradict_it() -> None:
    la = LocalAgreement()
    la.update("I like")
    la.update("I like it")
    assert la.stable_text == "I like"
    # two hypotheses agree with each other on more words than are stable,
    # but they contradict the stable text
    la.update("You like it here")
    assert la.update("You like it here now") is False
    assert la.stable_text == "I like"


def test_comparison_ignores_case_and_punctuation() -> None:
    la = LocalAgreement()
    la.update("hello world how")
    assert la.update("Hello, world. How are") is True
    assert la.stable == ["Hello,", "world.", "How"]  # the newest spelling is kept
    assert la.tentative_text == "are"
    # a later change of case/punctuation does not un-agree the stable words
    assert la.update("HELLO WORLD HOW ARE YOU") is True
    assert [t.lower().strip(",.") for t in la.stable] == ["hello", "world", "how", "are"]
    assert la.tentative_text == "YOU"


def test_committed_stable_words_keep_their_spelling() -> None:
    # The ASR partial sends stable_text whole; captions must not rewrite words
    # already shown as stable when Whisper changes their case or punctuation.
    la = LocalAgreement()
    la.update("I worked at the")
    la.update("I worked at the bank")
    assert la.stable_text == "I worked at the"
    la.update("i worked at the bank, in")
    assert la.stable_text.startswith("I worked at the")
    assert la.stable_text == "I worked at the bank,"


def test_chinese_agreement_is_by_character() -> None:
    la = LocalAgreement()
    la.update("我在银")
    assert la.update("我在银行工") is True
    assert la.stable_text == "我在银"
    assert la.tentative_text == "行工"
    assert la.update("我在银行工作") is True
    assert la.stable_text == "我在银行工"
    assert la.tentative_text == "作"


def test_mixed_language_agreement() -> None:
    la = LocalAgreement()
    la.update("我用 Python 做")
    assert la.update("我用Python做数据") is True
    assert la.stable == ["我", "用", "Python", "做"]
    assert la.stable_text == "我用Python做"
    assert la.tentative_text == "数据"


def test_tentative_is_what_follows_the_stable_part() -> None:
    la = LocalAgreement()
    la.update("one two")
    la.update("one two three")
    assert la.update("one two four five") is False
    assert la.stable_text == "one two"
    assert la.tentative_text == "four five"
    assert la.stable_text + " " + la.tentative_text == "one two four five"


def test_identical_hypotheses_make_everything_stable() -> None:
    la = LocalAgreement()
    la.update("thank you")
    assert la.update("thank you") is True
    assert la.stable_text == "thank you"
    assert la.tentative_text == ""
    assert la.update("thank you") is False  # nothing new


def test_reset_starts_a_new_utterance() -> None:
    la = LocalAgreement()
    la.update("first answer")
    la.update("first answer")
    la.reset()
    assert (la.stable_text, la.tentative_text) == ("", "")
    # the previous utterance's hypothesis does not count towards agreement
    assert la.update("first answer") is False
    assert la.stable == []
