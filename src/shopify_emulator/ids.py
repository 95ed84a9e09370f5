"""Shopify global ids: `gid://shopify/Product/123`."""

GID_PREFIX = "gid://shopify/"


def gid(kind: str, number: int) -> str:
    return f"{GID_PREFIX}{kind}/{number}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """(kind, number) of a well-formed gid, else None. A `?query` suffix is ignored."""
    if not isinstance(value, str) or not value.startswith(GID_PREFIX):
        return None
    kind, _, rest = value[len(GID_PREFIX) :].partition("/")
    number = rest.split("?", 1)[0]
    if not kind or not number.isdigit():
        return None
    return kind, int(number)


def number_of(value: str, kind: str) -> int | None:
    """The number of a gid of the given kind, else None."""
    parsed = parse_gid(value)
    return parsed[1] if parsed and parsed[0] == kind else None
