"""The value syntax of ITI-18 stored-query parameters, both directions (IHE ITI TF-2 3.18.4.1.2.3; reference §4.8).

* a string is quoted, ``'…'``, an embedded quote doubled (``''``); numbers and times are bare (``20240101``);
* a list is parenthesised, ``('a','b')``, and means OR; one slot may hold several ``Value`` elements, each a
  list, which together are one OR list (that is how a long list stays within ebRIM's 256-character
  ``Value``); the same slot name repeated means AND (``EventCodeList``, ``ConfidentialityCode``, ``CodeList``);
* a coded value is ``code^^codingScheme`` (HL7 v2 escapes inside).

Writing quotes every string, so no value — whatever quotes, parentheses, commas, ``%`` or ``_`` it holds —
can end a value, add one or change the query; reading is a small tokenizer (not a split on commas), so
what was written is read back exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Final

from dmpclient.codes import Code
from dmpclient.errors import DmpProtocolError, DmpValidationError
from dmpclient.xds.identifiers import escape, format_dtm, parse_dtm, unescape

__all__ = [
    "MAX_VALUE_LENGTH",
    "QueryValueError",
    "format_code",
    "format_list",
    "format_time",
    "parse_code",
    "parse_single",
    "parse_time",
    "parse_values",
    "quote",
]

#: ebRIM ``Value`` is a LongName: at most 256 characters.
MAX_VALUE_LENGTH: Final = 256
_BARE: Final = re.compile(r"[^\s,()']+")
_SPACE: Final = re.compile(r"\s*")


class QueryValueError(DmpProtocolError):
    """A parameter value that does not follow the stored-query syntax."""


def quote(value: str) -> str:
    """``'value'`` with every ``'`` doubled."""
    return "'" + value.replace("'", "''") + "'"


def format_time(moment: dt.datetime) -> str:
    """A time parameter: 14 digits, UTC, unquoted."""
    return format_dtm(moment)


def format_code(code: Code) -> str:
    """``code^^codingScheme`` (the display name is not part of a query)."""
    return f"{escape(code.code)}^^{escape(code.system)}"


def format_list(items: Iterable[str], *, name: str) -> list[str]:
    """Quoted items as parenthesised lists, packed into as few ``Value`` texts of ≤ 256 characters as possible.

    Raises:
        DmpValidationError: an item alone does not fit in a ``Value``.
    """
    values: list[str] = []
    current: list[str] = []
    size = 2
    for item in items:
        quoted = quote(item)
        if len(quoted) + 2 > MAX_VALUE_LENGTH:
            raise DmpValidationError(
                f"{name}: a value of {len(item)} characters does not fit in a query parameter (256 at most)",
                field=name,
            )
        if current and size + len(quoted) + 1 > MAX_VALUE_LENGTH:
            values.append("(" + ",".join(current) + ")")
            current, size = [], 2
        size += len(quoted) + (1 if current else 0)
        current.append(quoted)
    if current:
        values.append("(" + ",".join(current) + ")")
    return values


class _Tokens:
    """A cursor over one ``Value`` text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        match = _SPACE.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def item(self) -> str:
        self.skip_space()
        if self.peek() == "'":
            return self._quoted()
        match = _BARE.match(self.text, self.pos)
        if match is None:
            raise self.error("expected a quoted string or a number")
        self.pos = match.end()
        return match[0]

    def _quoted(self) -> str:
        out: list[str] = []
        self.pos += 1
        while True:
            end = self.text.find("'", self.pos)
            if end < 0:
                raise self.error("a quoted string is not closed")
            out.append(self.text[self.pos : end])
            if self.text.startswith("''", end):
                out.append("'")
                self.pos = end + 2
                continue
            self.pos = end + 1
            return "".join(out)

    def end(self) -> None:
        self.skip_space()
        if self.pos != len(self.text):
            raise self.error("unexpected text after the value")

    def error(self, what: str) -> QueryValueError:
        return QueryValueError(f"{what} at character {self.pos + 1} of the parameter value")


def _items(text: str) -> Iterator[str]:
    tokens = _Tokens(text)
    tokens.skip_space()
    if tokens.peek() != "(":
        yield tokens.item()
        tokens.end()
        return
    tokens.expect("(")
    while True:
        yield tokens.item()
        tokens.skip_space()
        if tokens.peek() == ",":
            tokens.pos += 1
            continue
        tokens.expect(")")
        tokens.end()
        return


def parse_values(texts: Iterable[str]) -> list[str]:
    """Every item of a slot's ``Value`` texts (lists or single values), in order: one OR list.

    Raises:
        QueryValueError: a value is not a quoted string, a bare token or a parenthesised list of them.
    """
    return [item for text in texts for item in _items(text)]


def parse_single(texts: Iterable[str]) -> str:
    """The one item of a single-valued parameter.

    Raises:
        QueryValueError: not exactly one item.
    """
    items = parse_values(texts)
    if len(items) != 1:
        raise QueryValueError(f"expected one value, got {len(items)}")
    return items[0]


def parse_code(item: str) -> Code:
    """A ``code^^codingScheme`` item.

    Raises:
        QueryValueError: the item has no coding scheme.
    """
    parts = item.split("^")
    if len(parts) < 3 or not parts[2]:
        raise QueryValueError("a coded value must be written code^^codingScheme")
    return Code(unescape(parts[0]), unescape(parts[2]))


def parse_time(item: str) -> dt.datetime:
    """A time item (``YYYY[MM[DD[hh[mm[ss]]]]]``, UTC).

    Raises:
        QueryValueError: not a time.
    """
    moment = parse_dtm(item)
    if moment is None:
        raise QueryValueError("a time must be digits YYYY[MM[DD[hh[mm[ss]]]]] (UTC)")
    return moment
