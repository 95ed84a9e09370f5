"""Shopify's search syntax for the `query:` argument: `sku:ABC-1 status:active tag:sale`,
`updated_at:>2026-01-01`, `id:>1000`, `title:pen*`, `NOT vendor:acme`, `a OR b`, `(…)`.

Each resource declares which fields it can be filtered on (`Fields`); a filter on any other
field is ignored, as Shopify does, and reported in `unknown_fields`.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

# A field maps an item to its value(s): str, int, datetime, bool, or a list of those.
Fields = dict[str, Callable[[Any], Any]]

_QUOTED = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
# A token: a parenthesis, a leading minus, `field:"a quoted value"` (kept whole, spaces and
# all), a bare quoted phrase, or a run of other characters.
_TOKEN = re.compile(
    rf"\s*(\(|\)|-(?=\S)|[^\s()\"':]+:(?:[<>]=?|=)?(?:{_QUOTED})|{_QUOTED}|[^\s()]+)"
)
_COMPARATORS = (">=", "<=", ">", "<", "=")


def _always(_item: Any) -> bool:
    return True


@dataclass
class Query:
    predicate: Callable[[Any], bool]
    unknown_fields: list[str] = field(default_factory=list)

    def filter(self, items: Iterable[Any]) -> list[Any]:
        return [item for item in items if self.predicate(item)]


def parse(text: str | None, fields: Fields, default_field: str) -> Query:
    if not text or not text.strip():
        return Query(_always)
    tokens = [t for t in _TOKEN.findall(text) if t]
    parser = _Parser(tokens, fields, default_field)
    predicate = parser.parse_or()
    return Query(predicate, parser.unknown)


class _Parser:
    def __init__(self, tokens: list[str], fields: Fields, default_field: str) -> None:
        self.tokens = tokens
        self.position = 0
        self.fields = fields
        self.default_field = default_field
        self.unknown: list[str] = []

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse_or(self) -> Callable[[Any], bool]:
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda item: any(p(item) for p in parts))

    def parse_and(self) -> Callable[[Any], bool]:
        parts = []
        while (token := self.peek()) is not None and token not in ("OR", ")"):
            if token == "AND":
                self.take()
                continue
            parts.append(self.parse_unary())
        if not parts:
            return _always
        return parts[0] if len(parts) == 1 else (lambda item: all(p(item) for p in parts))

    def parse_unary(self) -> Callable[[Any], bool]:
        token = self.take()
        if token in ("NOT", "-"):
            inner = self.parse_unary()
            return lambda item: not inner(item)
        if token == "(":
            inner = self.parse_or()
            if self.peek() == ")":
                self.take()
            return inner
        return self.term(token)

    def term(self, token: str) -> Callable[[Any], bool]:
        name, colon, raw = token.partition(":")
        if not colon or _is_quoted(name):
            name, raw = self.default_field, token
        name = name.lower()
        if name not in self.fields:
            self.unknown.append(name)
            return _always
        comparator = next((c for c in _COMPARATORS if raw.startswith(c)), "=")
        value = _unquote(raw[len(comparator) :] if raw.startswith(comparator) else raw)
        extract = self.fields[name]
        return lambda item: _matches(extract(item), comparator, value)


def _is_quoted(text: str) -> bool:
    return text[:1] in ("'", '"')


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in ("'", '"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _matches(actual: Any, comparator: str, wanted: str) -> bool:
    values = actual if isinstance(actual, list | tuple | set) else [actual]
    return any(_compare(value, comparator, wanted) for value in values if value is not None)


def _compare(value: Any, comparator: str, wanted: str) -> bool:
    if isinstance(value, bool):
        return comparator == "=" and str(value).lower() == wanted.lower()
    if isinstance(value, datetime):
        moment = _parse_moment(wanted)
        return moment is not None and _ordered(value, comparator, moment)
    if isinstance(value, int | float):
        try:
            return _ordered(value, comparator, float(wanted))
        except ValueError:
            return False
    text, pattern = str(value).lower(), wanted.lower()
    if comparator != "=":
        return _ordered(text, comparator, pattern)
    if pattern.endswith("*"):
        return text.startswith(pattern[:-1])
    return text == pattern


def _ordered(value: Any, comparator: str, wanted: Any) -> bool:
    return {
        ">": value > wanted,
        ">=": value >= wanted,
        "<": value < wanted,
        "<=": value <= wanted,
        "=": value == wanted,
    }[comparator]


def _parse_moment(text: str) -> datetime | None:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        return None


def words(text: str) -> list[str]:
    """Default-field matching: a bare word matches any word of the title (or a prefix with *)."""
    return [word for word in re.split(r"\W+", text.lower()) if word]
