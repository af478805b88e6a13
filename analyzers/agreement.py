"""LocalAgreement for streaming partial transcripts.

Each partial decode of the growing utterance gives a hypothesis (a list of
tokens: words for English, characters for Chinese). A token becomes stable
once two consecutive hypotheses agree on it, as in whisper_streaming's
HypothesisBuffer (LocalAgreement-2). Stable text only ever grows within an
utterance, so captions do not flicker; the rest is shown as tentative.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")


def tokenize(text: str) -> list[str]:
    """Words for spaced scripts, single characters for CJK."""
    return _TOKEN.findall(text)


def _key(token: str) -> str:
    """Compare tokens ignoring case and punctuation (Whisper varies both)."""
    return "".join(ch for ch in token.lower() if not unicodedata.category(ch).startswith("P"))


def join_tokens(tokens: list[str]) -> str:
    """Rebuild text: spaces between words, none around CJK characters."""
    out = ""
    for token in tokens:
        if out and not (_CJK.match(token[0]) or _CJK.match(out[-1]) or _is_punct_only(token)):
            out += " "
        out += token
    return out


def _is_punct_only(token: str) -> bool:
    return all(unicodedata.category(ch).startswith("P") for ch in token)


class LocalAgreement:
    def __init__(self) -> None:
        self.stable: list[str] = []
        self._previous: list[str] | None = None
        self.tentative: list[str] = []

    def update(self, hypothesis: str) -> bool:
        """Feed the newest decode of the whole utterance; True if stable grew."""
        tokens = tokenize(hypothesis)
        grew = False
        if self._previous is not None:
            agreed = 0
            limit = min(len(tokens), len(self._previous))
            while agreed < limit and _key(tokens[agreed]) == _key(self._previous[agreed]):
                agreed += 1
            if agreed > len(self.stable) and self._matches_stable(tokens):
                self.stable = self.stable + tokens[len(self.stable) : agreed]  # committed words keep their spelling
                grew = True
        self._previous = tokens
        # Stable text never shrinks; whatever lies past it is tentative.
        self.tentative = tokens[len(self.stable) :]
        return grew

    def _matches_stable(self, tokens: list[str]) -> bool:
        n = len(self.stable)
        return len(tokens) >= n and all(_key(a) == _key(b) for a, b in zip(tokens[:n], self.stable))

    @property
    def stable_text(self) -> str:
        return join_tokens(self.stable)

    @property
    def tentative_text(self) -> str:
        return join_tokens(self.tentative)

    def reset(self) -> None:
        self.stable = []
        self.tentative = []
        self._previous = None
