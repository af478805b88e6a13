"""Long answers cut into parts: keep each word once, and cut decodes that loop.

A turn that reaches its maximum length is split (analyzers/turns.py) and
each part is decoded with some audio past the cut (the part before) or
before it (the part after), so that a word spoken across the cut is heard
whole by at least one decode. Which decode keeps it:

* the part before keeps its words whose midpoint lies before the cut
  (:func:`words_before`);
* the part after continues right after the last words the part before kept,
  found again in its own decode of the overlap (:func:`words_after`), so a
  word that both decodes placed on the wrong side of the cut is neither lost
  nor doubled; where the two decodes do not agree it falls back to the
  midpoint rule.

Whisper sometimes loops on a few tokens ("铺铺铺", "the the the"), mostly on
audio cut in the middle of a word; :func:`find_repetition` finds such a loop
and :func:`cut_repetition` keeps one copy of it.

Pure functions on word dicts or objects with ``word``, ``start`` and ``end``
(absolute media times); no model here.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from typing import Any, TypeVar

from .agreement import tokenize

W = TypeVar("W")

# A unit of 1-10 tokens said three times in a row is a decoding loop, not
# speech (people repeat a word twice, a phrase when they restart, rarely more).
MIN_REPEATS = 3
MAX_UNIT_TOKENS = 10
LONG_LOOP_REPEATS = 5
LONG_LOOP_TOKENS = 12
# How many of the part before's last tokens are looked for in the part after.
JUNCTION_TOKENS = 6


def _get(word: Any, key: str) -> Any:
    return word[key] if isinstance(word, dict) else getattr(word, key)


def _with_text(word: W, text: str) -> W:
    if isinstance(word, dict):
        return {**word, "word": text}  # type: ignore[return-value]
    return dataclasses.replace(word, word=text)  # type: ignore[type-var]


def midpoint(word: Any) -> float:
    return (float(_get(word, "start")) + float(_get(word, "end"))) / 2.0


def _key(token: str) -> str:
    return "".join(ch for ch in token.lower() if not unicodedata.category(ch).startswith(("P", "Z")))


def words_before(words: Sequence[W], cut: float) -> list[W]:
    """The words of the part before a cut: those whose midpoint is before it."""
    return [w for w in words if midpoint(w) < cut]


def words_after(previous: Sequence[Any], words: Sequence[W], cut: float, overlap_s: float) -> list[W]:
    """The words of the part after a cut at ``cut``.

    ``previous``: the words the part before kept (only those within
    ``overlap_s`` of the cut matter); ``words``: this part's decode, which
    began ``overlap_s`` before the cut. The longest run of the part before's
    last tokens (up to :data:`JUNCTION_TOKENS`, at least two, or one long
    word) that this decode also heard near the cut marks where the part
    before stopped: keep everything after it. Without such a run, keep the
    words whose midpoint is at or after the cut.
    """
    fallback = [w for w in words if midpoint(w) >= cut]
    tail = [w for w in previous if midpoint(w) >= cut - overlap_s]
    a_tokens = [_key(t) for w in tail for t in tokenize(str(_get(w, "word")))]
    a_tokens = [t for t in a_tokens if t]
    # This decode's tokens near the cut: (key, word index, token index within the word).
    b_tokens: list[tuple[str, int, int]] = []
    for index, w in enumerate(words):
        if midpoint(w) >= cut + overlap_s:
            break
        for position, token in enumerate(tokenize(str(_get(w, "word")))):
            if _key(token):
                b_tokens.append((_key(token), index, position))
    if not a_tokens or not b_tokens:
        return fallback
    keys = [k for k, _, _ in b_tokens]
    for size in range(min(JUNCTION_TOKENS, len(a_tokens)), 0, -1):
        run = a_tokens[-size:]
        if size == 1 and len(run[0]) < 4:
            break  # one short token (a CJK character, "a", "the") matches anywhere
        # The latest occurrence: the part before's tail is the end of what it heard.
        for start in range(len(keys) - size, -1, -1):
            if keys[start : start + size] == run:
                return _continue_from(words, b_tokens, start + size)
    return fallback


def _continue_from(words: Sequence[W], b_tokens: list[tuple[str, int, int]], next_token: int) -> list[W]:
    """``words`` from the token at ``next_token`` of ``b_tokens`` on (a word's remainder if it starts inside one)."""
    if next_token >= len(b_tokens):
        last_word = b_tokens[-1][1]
        return list(words[last_word + 1 :])
    _, index, position = b_tokens[next_token]
    if position == 0:
        return list(words[index:])
    word = words[index]
    text = str(_get(word, "word"))
    tokens = tokenize(text)
    # The rest of a word the part before already began: its remaining tokens.
    rest = "".join(tokens[position:]) if all(_is_cjk_or_punct(t) for t in tokens) else " " + " ".join(tokens[position:])
    return [_with_text(word, rest), *words[index + 1 :]]


def _is_cjk_or_punct(token: str) -> bool:
    return len(token) == 1 or all(unicodedata.category(ch).startswith("P") for ch in token)


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, key) of each token of ``text`` that is not punctuation, in order."""
    out: list[tuple[int, int, str]] = []
    for span in re.finditer(r"\S+", text):
        offset = span.start()
        for token in tokenize(span.group()):
            at = text.index(token, offset)
            offset = at + len(token)
            key = _key(token)
            if key:
                out.append((at, offset, key))
    return out


def find_repetition(text: str) -> tuple[int, int] | None:
    """A decoding loop in ``text``: (where its second copy begins, where the loop ends), or None.

    A loop is a unit of 1 to :data:`MAX_UNIT_TOKENS` tokens (CJK characters or
    words, compared without case and punctuation) said at least
    :data:`MIN_REPEATS` times in a row that either runs to the end of the text
    (Whisper does not get out of a loop within a segment) or is long
    (:data:`LONG_LOOP_REPEATS` copies, or :data:`LONG_LOOP_TOKENS` tokens).
    People do repeat themselves ("对对对，是的", "谢谢谢谢，我们..."), but not
    that often or for that long.
    """
    tokens = _tokens(text)
    keys = [k for _, _, k in tokens]
    n = len(keys)
    for i in range(n):
        for unit in range(1, MAX_UNIT_TOKENS + 1):
            if i + unit * MIN_REPEATS > n:
                break
            pattern = keys[i : i + unit]
            repeats = 1
            while keys[i + repeats * unit : i + (repeats + 1) * unit] == pattern:
                repeats += 1
            if repeats < MIN_REPEATS:
                continue
            run_end = i + repeats * unit  # first token after the loop
            if run_end == n or repeats >= LONG_LOOP_REPEATS or repeats * unit >= LONG_LOOP_TOKENS:
                end = len(text) if run_end == n else tokens[run_end][0]
                return tokens[i + unit][0], end
    return None


def cut_repetition(text: str, words: Sequence[W] = ()) -> tuple[str, list[W]]:
    """``text`` and its ``words`` with a decoding loop's extra copies taken out (unchanged without a loop)."""
    found = find_repetition(text)
    if found is None:
        return text, list(words)
    start, end = found
    kept: list[W] = list(words)
    joined = "".join(str(_get(w, "word")) for w in words)
    in_words = find_repetition(joined)
    if in_words is not None:
        kept, position = [], 0
        for w in words:
            piece = str(_get(w, "word"))
            # A word of the extra copies begins (after its space) inside the loop.
            begins = position + len(piece) - len(piece.lstrip())
            if not in_words[0] <= begins < in_words[1]:
                kept.append(w)
            position += len(piece)
    before, after = text[:start].rstrip(), text[end:].lstrip()
    if not after:
        return before, kept
    joined_by_space = not (_CJK.match(after[0]) or _CJK.match(before[-1:] or "a") or unicodedata.category(after[0]).startswith("P"))
    return before + (" " if joined_by_space else "") + after, kept


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
