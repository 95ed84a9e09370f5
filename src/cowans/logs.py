"""Logging set-up: every line carries the id of the request (or job) it belongs to, and none
carries a credential.

No code logs a token or a password on purpose (tests/integration/test_secrets_in_logs.py runs a
whole workflow to show it). The redacting filter is the second line of defence, for what a
library or a traceback might one day put in a message: anything shaped like a credential this
system handles is replaced before a handler writes the line.
"""

import json
import logging
import re
from contextvars import ContextVar
from typing import Any, TextIO

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

REDACTED = "[redacted]"
_CREDENTIALS = re.compile(
    "|".join(
        (
            r"\bshp(?:at|ca|pa|ss)_[A-Za-z0-9]{8,}",  # Shopify access tokens and secrets
            r"\bcwn_[A-Za-z0-9_-]{16,}",  # this system's API tokens
            r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWTs
        )
    )
)
# A header or field whose value is a credential, however it is quoted: the value goes.
_CREDENTIAL_VALUES = re.compile(
    r"(?i)(\b[\w-]*(?:authorization|access[-_]token|password|passwd|secret|api[-_]key)"
    r"['\"]?\s*[:=]\s*['\"]?(?:bearer\s+|basic\s+)?)[^'\"\s,;}&]+"
)
# The password of a URL (scheme://user:password@host).
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@")


def redacted(text: str) -> str:
    """`text` with every credential-shaped part replaced by REDACTED."""
    text = _CREDENTIALS.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(lambda match: f"{match.group(1)}{REDACTED}@", text)
    return _CREDENTIAL_VALUES.sub(lambda match: match.group(1) + REDACTED, text)


class _RedactingFilter(logging.Filter):
    """Formats the record's message (and traceback) once, redacted, so every handler and
    formatter after it sees only the redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redacted(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redacted(record.exc_text)
        if record.stack_info:
            record.stack_info = redacted(record.stack_info)
        return True


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_text or record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.addFilter(_RequestIdFilter())
    handler.addFilter(_RedactingFilter())
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log repeats ours without the request id.
    logging.getLogger("uvicorn.access").disabled = True
    # HTTP/2's header compression logs header values at DEBUG: the Shopify token among them.
    logging.getLogger("hpack").setLevel(max(logging.INFO, root.level))
