"""Column types that behave the same on SQLite and PostgreSQL."""

import base64
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, DateTime, Dialect, Text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from cowans.config import get_settings

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _fernet(secret_key: str) -> Fernet:
    """A key for column encryption, derived so it is never the signing key itself."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"cowans column encryption v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class EncryptedText(TypeDecorator[str]):
    """Text encrypted at rest (Fernet: AES-128-CBC + HMAC) with a key derived from SECRET_KEY.

    Used for Shopify access tokens: a copied database file or backup does not leak them.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _fernet(get_settings().signing_key).encrypt(value.encode()).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return _fernet(get_settings().signing_key).decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                "an encrypted column cannot be read: SECRET_KEY differs from the one it was "
                "written with"
            ) from exc


def StrEnumType(enum_class: type[StrEnum], length: int = 20) -> SAEnum:  # noqa: N802
    """Store a StrEnum as its value in a VARCHAR (no native enum: new values need no migration,
    as long as they fit `length`)."""
    return SAEnum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )
