"""The text of an uploaded resume: PDF, DOCX or plain text, whatever its name says.

:func:`extract_text` sniffs the real type from the first bytes (never from
the file name), refuses what it cannot read with one :class:`ResumeError`
whose ``code`` says why (``empty``, ``too_large``, ``unsupported_type``,
``corrupt``, ``encrypted``), and returns :class:`ResumeText`. A resume that
can be read but not trusted is returned with ``needs_review`` flags instead
of an error: ``no_text_layer`` (a scan: no text to parse, never to be scored
as an empty resume), ``cid_fonts`` (a PDF whose fonts map glyphs to no
characters, so the text is ``(cid:123)`` or glyph numbers read as letters),
``pages_truncated`` (past :data:`MAX_PAGES`), ``encoding_guessed`` (a text
file in no Unicode encoding, decoded by detection).

PDF text comes from PDFium (pypdfium2), which maps CJK fonts through their
embedded cmaps where pdfminer gives ``(cid:NNN)``; a wide horizontal gap
between two pieces of text on one line (a table's columns) becomes a tab.
Character boxes put layouts right: two page columns that the file writes line
by line across the page are read one after the other (a vertical gutter);
a table row whose cells wrap is one line again; lines a narrow column wrapped
(a CJK word, a date range, a school's name cut in two) are joined; page
numbers and a running header repeated on every page are dropped (the header
kept once). DOCX text comes from docx2python: header, body, footer (each
once), a table's row on one line with its cells separated by tabs, but a
table laid out as the page's columns read cell by cell.

Messages name no file and quote no content: a file name is often the
candidate's name, and the content is personal data (STYLE.md, rule 8).
"""

from __future__ import annotations

import codecs
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

MAX_BYTES = 10 * 2**20  # what Candor accepts per resume
MAX_PAGES = 50  # PDF pages read; more is flagged pages_truncated
MAX_DOCX_UNPACKED = 100 * 2**20  # a DOCX that unpacks to more is refused (a zip bomb)
MIN_TEXT_CHARS = 20  # fewer non-space characters than this in a PDF: no text layer

Kind = Literal["pdf", "docx", "txt"]
ErrorCode = Literal["empty", "too_large", "unsupported_type", "corrupt", "encrypted"]


class ResumeError(Exception):
    """A resume file that cannot be read; ``code`` is stable, ``message`` is for people.

    Never retryable: the same bytes fail the same way.
    """

    retryable = False

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class ResumeText:
    """A resume's text, with where it came from and what a person should check."""

    text: str
    kind: Kind
    pages: int  # PDF pages; 1 for DOCX and text
    language: Literal["zh", "en"]
    needs_review: tuple[str, ...] = ()
    encoding: str | None = None  # text files only
    images: int = 0  # embedded pictures (a photo is personal data; a scan is all pictures)
    notes: dict[str, float] = field(default_factory=dict)  # e.g. the share of unmapped glyphs


# ---------------------------------------------------------------------- reading --


def _size_of(source: BinaryIO) -> int | None:
    """The bytes left in ``source`` without reading them, where it can tell."""
    try:
        if source.seekable():
            here = source.tell()
            end = source.seek(0, os.SEEK_END)
            source.seek(here)
            return end - here
    except (OSError, ValueError, AttributeError):
        pass
    try:
        return os.fstat(source.fileno()).st_size - source.tell()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None


def read_limited(source: bytes | bytearray | memoryview | BinaryIO, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of ``source``, refusing more than ``max_bytes`` before reading them all.

    A file-like ``source`` whose size is known (a file, a seekable stream) is
    refused without reading it; any other is read in chunks, at most
    ``max_bytes + 1`` bytes.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_large(max_bytes)
        return data
    size = _size_of(source)
    if size is not None and size > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    total = 0
    while total <= max_bytes:
        chunk = source.read(min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        raise _too_large(max_bytes)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> ResumeError:
    return ResumeError("too_large", f"the file is larger than {max_bytes / 2**20:g} MB, the most accepted")


# ---------------------------------------------------------------------- sniffing --

# Types people upload by mistake, by their first bytes: the error names what the file is.
_OTHER_TYPES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"RIFF", "a media file"),
    (b"{\\rtf", "an RTF document"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7z archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%!PS", "a PostScript file"),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ACCEPTED = "send a PDF, DOCX or plain-text resume"


def sniff(data: bytes) -> Kind:
    """``pdf``, ``docx`` or ``txt`` from the content; ResumeError for anything else."""
    if not data:
        raise ResumeError("empty", "the file is empty (0 bytes)")
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "docx"
    if data.startswith(_OLE):
        if "EncryptedPackage".encode("utf-16-le") in data[:1 << 20] or b"E\x00n\x00c\x00r\x00y\x00p\x00t" in data:
            raise ResumeError("encrypted", "the document is password-protected: send it without a password")
        raise ResumeError("unsupported_type", f"this is an old Word (.doc) or Office file: save it as DOCX or PDF, or {_ACCEPTED}")
    for magic, what in _OTHER_TYPES:
        if data.startswith(magic):
            raise ResumeError("unsupported_type", f"this is {what}, not a resume document: {_ACCEPTED}")
    return "txt"


# ---------------------------------------------------------------------- entry point --


def extract_text(
    source: bytes | bytearray | memoryview | BinaryIO,
    filename: str = "",
    *,
    max_bytes: int = MAX_BYTES,
) -> ResumeText:
    """The text of the resume in ``source`` (bytes, or a binary file object read at most ``max_bytes + 1``).

    ``filename`` is only a hint: the type comes from the content (a ``.exe``
    renamed ``.pdf`` is refused as a program). Raises :class:`ResumeError`.
    """
    del filename  # the content decides; kept in the signature for callers and future hints
    data = read_limited(source, max_bytes)
    kind = sniff(data)
    if kind == "pdf":
        return _pdf(data)
    if kind == "docx":
        return _docx(data)
    return _txt(data)


def guess_language(text: str) -> Literal["zh", "en"]:
    """``zh`` when CJK characters outnumber Latin words, else ``en``."""
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    return "zh" if cjk > words else "en"


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _clean(text: str) -> str:
    """Line ends to ``\\n``, no NULs or other control characters but tab and newline, no trailing spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    text = re.sub(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", "", text)
    text = re.sub(r"[ \u3000]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ---------------------------------------------------------------------- PDF --

_CID = re.compile(r"\(cid:\d+\)")


def _pdf(data: bytes) -> ResumeText:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ResumeError("encrypted", "the PDF is password-protected: send it without a password") from None
        raise ResumeError("corrupt", "the PDF is damaged and cannot be read: export it again and resend") from None
    try:
        pages = len(doc)
        if pages == 0:
            raise ResumeError("corrupt", "the PDF has no pages")
        texts: list[str] = []
        images = 0
        for index in range(min(pages, MAX_PAGES)):
            page = doc[index]
            try:
                textpage = page.get_textpage()
                try:
                    texts.append(_page_text(textpage))
                finally:
                    textpage.close()
                images += sum(1 for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2))
            except pdfium.PdfiumError:
                raise ResumeError("corrupt", "a page of the PDF is damaged and cannot be read") from None
            finally:
                page.close()
    finally:
        doc.close()
    text = _clean("\n\n".join(_strip_running(texts)))
    review: list[str] = []
    notes: dict[str, float] = {}
    visible = re.sub(r"\s+", "", text)
    if len(visible) < MIN_TEXT_CHARS:
        review.append("no_text_layer")
    else:
        unmapped = _unmapped_share(visible)
        vowelless = _vowelless_share(text)
        notes["unmapped_glyph_share"] = round(unmapped, 3)
        notes["vowelless_word_share"] = round(vowelless, 3)
        if unmapped > 0.05 or vowelless > 0.3:
            review.append("cid_fonts")
    if pages > MAX_PAGES:
        review.append("pages_truncated")
    return ResumeText(
        text=text, kind="pdf", pages=pages, language=guess_language(text),
        needs_review=tuple(review), images=images, notes=notes,
    )


_PAGE_NUMBER = re.compile(
    r"^\W*(?:(?:page|p\.?|第)\s*)?\d{1,3}\s*(?:(?:/|of|共|页)\s*(?:共\s*)?\d{0,3}\s*页?)?\W*$", re.I
)


def _strip_running(pages: list[str]) -> list[str]:
    """Pages without their running headers and footers: page numbers go, a line repeated on most pages stays once.

    A line is running when it is on at least two pages and on more than half of them, always among a page's
    first or last three lines (a name and 'CV' at the top of each page; PDFium gives a printed header at either
    end); its first copy is kept. A page number alone on a line ('Page 2 / 3', '第 2 页', '- 2 -')
    is dropped on every page of a document of two or more pages.
    """
    if len(pages) < 2:
        return pages
    split = [page.split("\r\n") if "\r\n" in page else page.split("\n") for page in pages]
    key = lambda line: re.sub(r"\s+", "", line)  # noqa: E731
    on_pages: dict[str, int] = {}
    inside: set[str] = set()  # lines somewhere not at a page's top or bottom: text, not a running header
    for lines in split:
        visible = [key(line) for line in lines if line.strip()]
        for k in set(visible):
            on_pages[k] = on_pages.get(k, 0) + 1
        inside.update(visible[3:-3])
    running = {k for k, n in on_pages.items() if n >= 2 and n * 2 > len(pages) and k not in inside}
    seen: set[str] = set()
    out: list[str] = []
    for lines in split:
        kept = []
        for line in lines:
            k = key(line)
            if line.strip() and _PAGE_NUMBER.match(line.strip()):
                continue
            if k in running:
                if k in seen:
                    continue
                seen.add(k)
            kept.append(line)
        out.append("\n".join(kept))
    return out


def _unmapped_share(visible: str) -> float:
    """The share of ``visible`` (no spaces) that is glyphs with no character: ``(cid:N)``, U+FFFD, private use,
    control characters, and the Latin-1 letters a font without a ToUnicode map turns glyph numbers into."""
    cid_chars = sum(len(m) for m in _CID.findall(visible))
    odd = sum(
        1 for c in _CID.sub("", visible) if c == "\ufffd" or "\ue000" <= c <= "\uf8ff" or c < " " or "\x80" <= c <= "\xbf"
        or c in "ÂÃÄÅÆÈÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßãäåæëìíîïðñòõöøùúûüýþÿ"
    )
    return (cid_chars + odd) / max(1, len(visible))


def _vowelless_share(text: str) -> float:
    """The share of Latin words of 4+ letters with no vowel: about 0.05 in English (SQL, KYC), far more when a
    font without a ToUnicode map shifts every letter."""
    words = re.findall(r"[A-Za-z]{4,}", text)
    if len(words) < 20:
        return 0.0
    return sum(1 for w in words if not re.search(r"[aeiouyAEIOUY]", w)) / len(words)


def _page_text(textpage) -> str:  # type: ignore[no-untyped-def]
    """The page's text in PDFium's order, a wide gap between two pieces on one line as a tab."""
    n = textpage.count_chars()
    if n <= 0:
        return ""
    text = textpage.get_text_range(0, n)
    if len(text) != n:  # characters outside the BMP: offsets differ, keep PDFium's spacing
        return text
    order = _column_order(text, textpage)
    if order is not None:  # two columns woven line by line: the left read down, then the right
        textpage = _Reordered(textpage, order)
        text = "".join("\r" if k == -1 else "\n" if k == -2 else text[k] for k in order)
        n = len(text)
    chars = list(text)
    for i, c in enumerate(text):
        if c != " ":
            continue
        left = i - 1
        while left >= 0 and text[left] == " ":
            left -= 1
        right = i + 1
        while right < n and text[right] == " ":
            right += 1
        if left < 0 or right >= n or text[left] in "\r\n" or text[right] in "\r\n":
            continue
        if left != i - 1:  # a run of spaces: judged once, at its first
            continue
        try:
            l0, b0, r0, t0 = textpage.get_charbox(left)
            l1, b1, r1, t1 = textpage.get_charbox(right)
        except Exception:  # noqa: BLE001 - a char without a box: keep the space
            continue
        height = max(t0 - b0, t1 - b1)
        if height <= 0 or min(t0, t1) < max(b0, b1):  # not on one line
            continue
        if l1 - r0 > 1.2 * height:
            chars[i] = "\t"
    return _join_wrapped_cells("".join(chars), textpage)


class _Reordered:
    """A text page seen through a new order of its characters (-1 and -2: an added line end, with no box)."""

    def __init__(self, textpage, order: list[int]) -> None:  # type: ignore[no-untyped-def]
        self._textpage = textpage
        self._order = order

    def get_charbox(self, index: int, loose: bool = False):  # type: ignore[no-untyped-def]
        k = self._order[index]
        if k < 0:
            raise ValueError("an added line end has no box")
        return self._textpage.get_charbox(k, loose=loose)


def _column_order(text: str, textpage) -> list[int] | None:  # type: ignore[no-untyped-def]
    """A new order of the page's characters when PDFium's lines run across two columns, else None.

    The columns are found by a vertical gutter: an x at which no character's box lies within a character's
    height (wider than the space between words), within the middle of
    the text's width, with text on both sides of it on at least three of PDFium's lines, and crossed by at
    most one line in eight (a heading over both columns). Most of the right side's pieces must start at one
    left edge, and when most of them also end at one right edge they must have lines of their own (dates set
    flush right on the lines of the left text are no column); without lines of its own the right side must
    hold five lines beside a narrow left column (a sidebar), else ten lines and two in five of the page's (a
    table's last column is no page column). Lines are read top to bottom; each is cut at the
    gutter into a left and a right piece; the left pieces are read, then the right ones, and a line crossing
    the gutter ends the run of columns before it (it is read where it is).
    """
    lines: list[list[tuple[int, float, float]]] = []  # per line: (index, left, right) of its visible characters
    starts: list[int] = []
    heights: list[float] = []
    pos = 0
    for raw in text.split("\r\n"):
        starts.append(pos)
        chars = []
        for k, c in enumerate(raw):
            if c.isspace():
                continue
            try:
                left, bottom, right, top = textpage.get_charbox(pos + k)
            except Exception:  # noqa: BLE001
                continue
            if right > left:
                chars.append((pos + k, left, right))
                heights.append(top - bottom)
        lines.append(chars)
        pos += len(raw) + 2
    visible = [chars for chars in lines if chars]
    if len(visible) < 6:
        return None
    lo = min(c[1] for chars in visible for c in chars)
    hi = max(c[2] for chars in visible for c in chars)
    width = hi - lo
    if width <= 0:
        return None
    # the gutter is wide: a character's height clear on each side of it (the space between words is not)
    half = sorted(heights)[len(heights) // 2]
    best: tuple[int, float] | None = None
    steps = 60
    for step in range(steps + 1):
        x = lo + width * (0.2 + 0.6 * step / steps)
        both = crossing = 0
        for chars in visible:
            if any(left - half < x < right + half for _, left, right in chars):
                crossing += 1
            elif chars[0][1] < x < chars[-1][2]:
                both += 1
        if both >= 3 and crossing * 8 <= len(visible) and (best is None or both > best[0]):
            best = (both, x)
    if best is None:
        return None
    gutter = best[1]
    # a column, not dates or places set flush right on the left text's lines: the right side has lines of its
    # own, and most of its pieces start at one left edge
    right_only = 0
    right_lefts: list[float] = []
    right_ends: list[float] = []
    for chars in visible:
        if any(left - 1 < gutter < right + 1 for _, left, right in chars):
            continue
        first_right = next((left for _, left, _r in chars if left > gutter), None)
        if first_right is None:
            continue
        right_lefts.append(first_right)
        right_ends.append(chars[-1][2])
        right_only += chars[0][1] > gutter

    def most_at_one(xs: list[float]) -> int:
        return max(sum(1 for x in xs if abs(x - y) < 1.5) for y in xs)

    flush_right = most_at_one(right_ends) * 5 >= len(right_ends) * 3
    if most_at_one(right_lefts) * 2 < len(right_lefts) or (flush_right and right_only < 2):
        return None
    # a column runs down the page: lines of its own, or many (a table's last cell on a few rows is none)
    narrow_left = gutter - lo < 0.45 * width  # a sidebar
    if right_only < 2 and not (narrow_left and len(right_lefts) >= 5) and (
        len(right_lefts) < 10 or len(right_lefts) * 5 < len(visible) * 2
    ):
        return None
    order: list[int] = []
    left_run: list[list[int]] = []
    right_run: list[list[int]] = []

    def flush() -> None:  # an empty line between the columns: the right one is no wrapped cell of the left
        for run in (left_run, right_run):
            for piece in run:
                order.extend(piece)
                order.extend((-1, -2))
            if run:
                order.extend((-1, -2))
            run.clear()

    for raw, start, chars in zip(text.split("\r\n"), starts, lines):
        if not chars:
            continue
        if any(left - 1 < gutter < right + 1 for _, left, right in chars):
            flush()
            order.extend(range(start, start + len(raw)))
            order.extend((-1, -2))
            continue
        cut = next((k for k, left, _ in chars if left > gutter), start + len(raw))
        left_piece = list(range(start, cut))
        while left_piece and text[left_piece[-1]].isspace():
            left_piece.pop()
        right_piece = list(range(cut, start + len(raw)))
        if left_piece:
            left_run.append(left_piece)
        if right_piece:
            right_run.append(right_piece)
    flush()
    while order and order[-1] < 0:
        order.pop()
    return order


@dataclass
class _VisualLine:
    text: str
    left: float
    top: float
    bottom: float
    right: float = float("nan")  # of its last character
    first_word: float = float("nan")  # the width of its first word (of its first character, in CJK)


_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _glue(a: str, b: str) -> str:
    """What joins ``a`` to the next piece ``b`` of the same wrapped text: nothing inside a CJK word, a number
    (``186-5681-`` / ``8117``) or an address, else a space."""
    if not a or not b:
        return ""
    if _CJK_CHAR.match(a[-1]) and (_CJK_CHAR.match(b[0]) or b[0] in "（("):
        return ""
    if a[-1] in "、，；：（" or b[0] in "、，；：）":
        return ""
    if a[-1] in "-/@." and b[0].isalnum() and not a[-2:-1].isspace():
        return ""
    return " "


_MONTH_END = re.compile(
    r"(?:\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?|\d{4}[./年-]?\d{0,2}月?)$", re.I
)
_CONNECTOR_END = re.compile(r"(?:[,，、;；&/~～\-–—]|\b(?:to|and|of|in|for|at|the|with|de)|至)$", re.I)
_DATE_START = re.compile(
    r"^(?:\d{1,4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|present|now|current|至今|今|现在|[\-–—~～]|to\b)",
    re.I,
)


_NAME_TAIL = re.compile(
    r"^(?:University|College|Polytechnic|Institute|School|Academy|Bank|Securities|Branch|Group|Company|"
    r"Co\.|Ltd|Limited|Corporation|Capital|Partners|Management|Finance|Economics)\b"
)


def _soft_wrap(prev: _VisualLine, cur: _VisualLine, edge: float) -> bool:
    """Whether ``cur`` continues ``prev``'s text, wrapped by a narrow column: ``prev`` fills its column (the
    next line's first word would not have fitted after it), ``cur`` starts where ``prev`` did just below it,
    and the text runs on (a CJK word cut in two, a list or a date range cut after its comma or dash, a
    month cut from its year, a school's or an employer's name cut before its last word, a lowercase word after a
    lowercase word)."""
    a, b = prev.text.rstrip(), cur.text.lstrip()
    if not a or not b or "\t" in a or "\t" in b:
        return False
    height = prev.top - prev.bottom
    if not height > 0 or not cur.top - cur.bottom > 0:
        return False
    if abs(cur.left - prev.left) > 0.5 * height or not 0 <= prev.bottom - cur.top < 1.2 * height:
        return False
    room = edge - prev.right
    if not room < cur.first_word + 0.6 * height:
        return False
    if _CJK_CHAR.match(a[-1]) and _CJK_CHAR.match(b[0]):
        return True
    if _CONNECTOR_END.search(a) and not b[0] in "•·-–—":
        return True
    if _MONTH_END.search(a) and _DATE_START.match(b):
        return True
    if a[-1].isalpha() and _NAME_TAIL.match(b):  # 'Zhejiang' / 'University, 2019 - 2023'
        return True
    return a[-1].islower() and b[0].islower()


def _join_wrapped_cells(text: str, textpage) -> str:  # type: ignore[no-untyped-def]
    """A table row whose cells wrap, put back on one line.

    PDFium gives such a row cell by cell: a cell's lines going down, then the
    next cell's first line back up at the row's top, to the right. Those
    lines become one line: a cell's lines joined by spaces, cells by tabs.
    Only short runs (at most 4 lines a cell) are joined, so the two columns
    of a two-column page stay as they are.
    """
    lines: list[_VisualLine] = []
    pos = 0
    nan = float("nan")
    for raw in text.split("\r\n"):
        first = next((k for k, c in enumerate(raw) if not c.isspace()), None)
        line = _VisualLine(raw, nan, nan, nan)
        if first is not None:
            last = len(raw.rstrip()) - 1
            word_end = first
            if not _CJK_CHAR.match(raw[first]):
                while word_end + 1 <= last and not raw[word_end + 1].isspace():
                    word_end += 1
            try:
                left, bottom, _right, top = textpage.get_charbox(pos + first)
                line = _VisualLine(raw, left, top, bottom)
                line.right = textpage.get_charbox(pos + last)[2]
                line.first_word = textpage.get_charbox(pos + word_end)[2] - left
            except Exception:  # noqa: BLE001
                pass
        lines.append(line)
        pos += len(raw) + 2
    out: list[str] = []
    i = 0
    while i < len(lines):
        group = _cell_group(lines, i)
        if group is None:
            out.append(lines[i].text)
            i += 1
            continue
        columns, j = group
        cells = []
        for col in columns:
            cell = ""
            for line in col:
                piece = line.text.strip()
                cell += _glue(cell, piece) + piece
            cells.append(cell)
        out.append("\t".join(cells))
        i = j
    return "\r\n".join(_join_soft_wraps(out, lines))


def _join_soft_wraps(out: list[str], lines: list[_VisualLine]) -> list[str]:
    """``out`` with the lines a narrow column wrapped joined again (see :func:`_soft_wrap`).

    Only the lines that are still PDFium's (not a joined table row) are looked at: they are matched to
    ``lines`` by their text. A column's right edge is the rightmost end of the lines starting at the same
    left, one under another, around the line.
    """
    index: dict[str, list[int]] = {}
    for k, line in enumerate(lines):
        index.setdefault(line.text, []).append(k)
    used: set[int] = set()
    geo: list[_VisualLine | None] = []
    for text in out:
        k = next((k for k in index.get(text, []) if k not in used), None)
        if k is not None:
            used.add(k)
        geo.append(lines[k] if k is not None else None)
    edges = _column_edges([g for g in geo if g is not None])
    joined: list[str] = []
    prev: _VisualLine | None = None
    for text, g in zip(out, geo):
        if joined and prev is not None and g is not None and _soft_wrap(prev, g, edges.get(id(prev), prev.right)):
            piece = text.strip()
            joined[-1] = joined[-1].rstrip() + _glue(joined[-1].rstrip(), piece) + piece
        else:
            joined.append(text)
        prev = g
    return joined


def _column_edges(lines: list[_VisualLine]) -> dict[int, float]:
    """For each line, the right edge of its column: the rightmost end among the page's lines whose spans
    overlap its own, one after another across the page (a sidebar's lines, or the body's; a line as wide as
    the page makes the page one column, and fewer lines look full)."""
    edges: dict[int, float] = {}
    spans = sorted((line for line in lines if line.top - line.bottom > 0 and line.right > line.left),
                   key=lambda line: line.left)
    column: list[_VisualLine] = []
    right = float("-inf")

    def close() -> None:
        for line in column:
            edges[id(line)] = right

    for line in spans:
        if column and line.left > right:
            close()
            column, right = [], float("-inf")
        column.append(line)
        right = max(right, line.right)
    close()
    return edges


def _cell_group(lines: list[_VisualLine], i: int) -> tuple[list[list[_VisualLine]], int] | None:
    """The columns of a wrapped table row starting at line ``i`` and the index after it, or None."""
    head = lines[i]
    height = head.top - head.bottom
    if not height > 0:
        return None
    columns = [[head]]
    j = i + 1
    while j < len(lines):
        prev, cur = lines[j - 1], lines[j]
        if not cur.top - cur.bottom > 0:
            break
        col_left = columns[-1][0].left
        back_up = abs(cur.top - head.top) < 0.5 * height and cur.left > prev.left + height
        below = 0 <= prev.bottom - cur.top < 1.5 * height and abs(cur.left - col_left) < 0.5 * height
        if back_up:
            columns.append([cur])
        elif below and len(columns[-1]) < 4:
            columns[-1].append(cur)
        else:
            break
        j += 1
    if len(columns) < 2 or all(len(col) == 1 for col in columns):
        return None
    return columns, j


# ---------------------------------------------------------------------- DOCX --

_IMAGE_MARK = re.compile(r"-{4}[^\n]*?-{4}")  # docx2python's ----media/image1.png---- placeholders
_LINK = re.compile(r'<a href="[^"]*">(.*?)</a>', re.S)
_BULLET = re.compile(r"^(?:--|•|·|\d{1,2}\)|[a-z]\))\t")


def _docx(data: bytes) -> ResumeText:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if zf.testzip() is not None:
                raise ResumeError("corrupt", "the DOCX is damaged and cannot be read: save it again and resend")
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        raise ResumeError("corrupt", "the DOCX is damaged and cannot be read: save it again and resend") from None
    except (RuntimeError, NotImplementedError):  # an encrypted zip member, an unknown compression
        raise ResumeError("corrupt", "the DOCX cannot be unpacked: save it again and resend") from None
    if "word/document.xml" not in names:
        raise ResumeError("unsupported_type", f"this archive is not a Word document: {_ACCEPTED}")
    if unpacked > MAX_DOCX_UNPACKED:
        raise ResumeError("too_large", "the DOCX unpacks to more than 100 MB")

    from docx2python import docx2python

    try:
        with docx2python(io.BytesIO(_without_fallbacks(data))) as doc:
            parts = [doc.header, doc.body, doc.footer]
            images = len(doc.images)
    except ResumeError:
        raise
    except Exception:  # noqa: BLE001 - docx2python raises whatever its XML parser meets
        raise ResumeError("corrupt", "the DOCX is damaged and cannot be read: save it again and resend") from None
    lines: list[str] = []
    seen_parts: set[str] = set()
    for part in parts:
        part_lines = [line for table in part for line in _table_lines(table)]
        key = "\n".join(part_lines)
        if key in seen_parts:  # the same header in every section
            continue
        seen_parts.add(key)
        lines.extend(part_lines)
        lines.append("")
    text = _clean("\n".join(lines))
    review = ["no_text_layer"] if len(re.sub(r"\s+", "", text)) < MIN_TEXT_CHARS else []
    return ResumeText(
        text=text, kind="docx", pages=1, language=guess_language(text), needs_review=tuple(review), images=images
    )


_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_WORD_PART = re.compile(r"word/(?:document|header\d*|footer\d*|footnotes|endnotes)\.xml")


def _without_fallbacks(data: bytes) -> bytes:
    """The DOCX without its ``mc:Fallback`` copies: Word writes a text box twice (a DrawingML shape, and the
    same text in a VML fallback for old readers), and docx2python reads both, so a sidebar drawn as a text box
    would be read twice. Parts without a fallback are left as they are; the bytes are unchanged when none has."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        changed: dict[str, bytes] = {}
        for name in zf.namelist():
            if not _WORD_PART.fullmatch(name):
                continue
            xml = zf.read(name)
            if b"Fallback" not in xml:
                continue
            try:
                root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, huge_tree=False))
            except etree.XMLSyntaxError:
                continue  # docx2python will say it is damaged
            fallbacks = root.findall(f".//{{{_MC}}}Fallback")
            for fb in fallbacks:
                fb.getparent().remove(fb)
            if fallbacks:
                changed[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        if not changed:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
            for info in zf.infolist():
                new.writestr(info, changed.get(info.filename) or zf.read(info.filename))
        return out.getvalue()


def _paragraph(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _IMAGE_MARK.sub("", text)
    text = _BULLET.sub("", text)
    return text.replace("\t", " ").strip()


_LAYOUT_CELL_PARAGRAPHS = 6  # a table cell with this many paragraphs is a column of the page, not a value


def _table_lines(table: list) -> list[str]:  # type: ignore[type-arg]
    """The lines of one docx2python table: a row on one line, its cells separated by tabs.

    A cell of several paragraphs puts its first on the row's line and the
    rest on lines below. Body text outside tables comes as one-cell rows. A
    row with a cell of many paragraphs is the page's layout (a sidebar and a
    main column): its cells are read one after another, each whole.
    """
    out: list[str] = []
    for row in table:
        cells = [[p for p in (_paragraph(p) for p in cell) if p] for cell in row]
        if len(cells) == 1 or max(len(c) for c in cells) >= _LAYOUT_CELL_PARAGRAPHS:
            for c in cells:
                out.extend(c)
            continue
        first = [c[0] for c in cells if c]
        if first:
            out.append("\t".join(first))
        for c in cells:
            out.extend(c[1:])
    return out


# ---------------------------------------------------------------------- text --

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Encodings a Chinese or English resume is saved in, tried in order when there is no BOM.
_CHINESE = ("gb18030", "big5")


def _decode(data: bytes) -> tuple[str, str, bool]:
    """(text, encoding, whether the encoding was guessed)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding.replace("-sig", "-bom"), False
            except UnicodeDecodeError:
                raise ResumeError("corrupt", "the text file is not valid in the encoding its BOM names") from None
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        pass
    # UTF-16 without a BOM: every other byte of ASCII text is NUL.
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 > len(sample):
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        encoding = "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
        try:
            return data.decode(encoding), encoding, True
        except UnicodeDecodeError:
            pass
    if b"\x00" in sample:
        raise ResumeError("unsupported_type", f"this is a binary file, not text: {_ACCEPTED}")
    # GB18030 (a superset of GBK and GB2312) first: what Chinese Windows saves text in. It
    # decodes Latin-1 bytes too, so it must also read as mostly CJK to be taken.
    for encoding in _CHINESE:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        high = [c for c in text if ord(c) > 0x7F]
        if high and sum(1 for c in high if _CJK.match(c) or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef") >= 0.9 * len(high):
            return text, encoding, True
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ResumeError("unsupported_type", f"this file is not text in any known encoding: {_ACCEPTED}")
    return str(best), best.encoding, True


def _txt(data: bytes) -> ResumeText:
    text, encoding, guessed = _decode(data)
    controls = sum(1 for c in text if c < " " and c not in "\t\n\r\x0c")
    if controls > max(8, len(text) // 100):
        raise ResumeError("unsupported_type", f"this is a binary file, not text: {_ACCEPTED}")
    text = _clean(text)
    if not text:
        raise ResumeError("empty", "the text file holds no text")
    review = ["encoding_guessed"] if guessed and encoding not in ("gb18030", "utf-16-le", "utf-16-be") else []
    return ResumeText(
        text=text, kind="txt", pages=1, language=guess_language(text), needs_review=tuple(review), encoding=encoding
    )
