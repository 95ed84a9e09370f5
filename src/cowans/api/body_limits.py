"""What a request may carry, refused before any router reads it: its size, and text that no
column can hold.

Pure ASGI, like the request-context middleware, so it sits inside that one (the refusals get a
request id and an access-log line) and never buffers a streamed response.

- Size: a body declared larger than its limit is refused from its Content-Length without being
  read; a streamed (chunked) body is counted as it arrives. JSON and other bodies may be
  MAX_REQUEST_BYTES; multipart uploads MAX_UPLOAD_BYTES (the imports router checks the file
  itself to the byte; this bound keeps the multipart parser from spooling an endless body).
- Text: a NUL character (`%00` in the query string, `\\u0000` in a JSON body) cannot be stored in
  a PostgreSQL text column nor matched against one, so it is refused here once for every route
  instead of surfacing as a database error (a 500) in whichever one meets it first.
- Depth: JSON nested deeper than MAX_JSON_DEPTH is refused before a parser recurses into it,
  and a JSON body that is not UTF-8 (which JSON must be) is refused with a clearer message
  than the parser's.

Routes that verify a signature over the raw bytes (Shopify's webhooks) get their body as sent:
only the size applies to them, and they parse defensively themselves.
"""

import re
from collections.abc import Collection
from enum import StrEnum

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cowans.api.errors import error_response

# Multipart framing (boundaries, part headers, small fields) around the uploaded file itself.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024
# A NUL escaped in JSON text: `\u0000` preceded by an even number of backslashes (an odd
# number would make the first backslash part of a literal `\\`).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
# A JSON string literal, written as an unrolled loop: a run of plain characters at a time, so a
# megabyte-long string is one fast scan rather than a step per character.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")


class RequestErrorCode(StrEnum):
    BODY_TOO_LARGE = "request_body_too_large"
    UPLOAD_TOO_LARGE = "upload_too_large"
    NUL_CHARACTER = "nul_character"
    JSON_TOO_DEEP = "json_too_deep"
    INVALID_UTF8 = "invalid_utf8"


class _BodyTooLarge(Exception):
    """Raised from `receive` to stop whoever is reading a streamed upload."""


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def mebibytes(limit: int) -> str:
    return f"{limit / 2**20:g} MiB ({limit} bytes)"


def json_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """Whether the JSON text nests arrays/objects deeper than `max_depth`. Strings are removed
    first (a bracket inside one is text); the walk only runs over the brackets left, and only
    when there are enough of them to be that deep."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False  # not enough brackets to be that deep, strings or not
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", body))
    if brackets.count(b"[") + brackets.count(b"{") <= max_depth:
        return False
    depth = 0
    for char in brackets:
        depth += 1 if char in b"[{" else -1
        if depth > max_depth:
            return True
    return False


class RequestLimitsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_request_bytes: int,
        max_upload_bytes: int,
        max_json_depth: int,
        raw_body_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_json_depth = max_json_depth
        self.raw_body_paths = frozenset(raw_body_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
            await self._refuse(scope, receive, send, 422, *_NUL_REFUSAL)
            return
        content_type = _header(scope, b"content-type").lower()
        if content_type.startswith("multipart/form-data"):
            await self._stream_upload(scope, receive, send)
        else:
            await self._buffered(scope, receive, send, content_type)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
    ) -> None:
        await error_response(status, code, message)(scope, receive, send)

    def _declared_too_large(self, scope: Scope, limit: int) -> bool:
        declared = _header(scope, b"content-length")
        return declared.isdigit() and int(declared) > limit

    async def _buffered(
        self, scope: Scope, receive: Receive, send: Send, content_type: str
    ) -> None:
        """Bodies other than uploads are small: read whole (as the routers would), checked,
        then handed on unchanged."""
        limit = self.max_request_bytes
        too_large = (
            RequestErrorCode.BODY_TOO_LARGE,
            f"The request body is larger than the {mebibytes(limit)} allowed.",
        )
        if self._declared_too_large(scope, limit):
            await self._refuse(scope, receive, send, 413, *too_large)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, 413, *too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if "json" in content_type and scope["path"] not in self.raw_body_paths:
            refusal = self._json_refusal(body)
            if refusal is not None:
                await self._refuse(scope, receive, send, 422, *refusal)
                return
        await self.app(scope, _replay(body, receive), send)

    def _json_refusal(self, body: bytes) -> tuple[str, str] | None:
        if b"\x00" in body or _JSON_NUL.search(body):
            return _NUL_REFUSAL
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return (RequestErrorCode.INVALID_UTF8, "The JSON body is not valid UTF-8.")
        if json_depth_exceeds(body, self.max_json_depth):
            return (
                RequestErrorCode.JSON_TOO_DEEP,
                f"The JSON body nests arrays or objects more than {self.max_json_depth} "
                "levels deep.",
            )
        return None

    async def _stream_upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An upload is counted as it streams in; past the limit, whoever reads it gets an
        exception and the client a 413, whatever the reader made of the exception."""
        limit = self.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
        message_text = f"The upload is larger than the {mebibytes(self.max_upload_bytes)} allowed."
        if self._declared_too_large(scope, limit):
            await self._refuse(
                scope, receive, send, 413, RequestErrorCode.UPLOAD_TOO_LARGE, message_text
            )
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the reader's own answer to the exception; ours is the 413 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # Ours, or whatever the reader wrapped it in: either way, the body was too large.
            if not exceeded or started:
                raise
        if exceeded and not started:
            await self._refuse(
                scope, receive, send, 413, RequestErrorCode.UPLOAD_TOO_LARGE, message_text
            )


_NUL_REFUSAL = (
    RequestErrorCode.NUL_CHARACTER,
    "The request contains a NUL character (U+0000), which no text field can hold.",
)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the buffered body once, then whatever the client sends next
    (its disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
