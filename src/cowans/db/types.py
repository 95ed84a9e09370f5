"""Column types that behave the same on SQLite and PostgreSQL."""

import base64
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, DateTime, Dialect, MetaData, Text, select, type_coerce, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from cowans.config import Settings, get_settings

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


def column_cipher(settings: Settings) -> MultiFernet:
    """Encrypts under SECRET_KEY; decrypts under it or any key in SECRET_KEY_PREVIOUS, so a
    rotated key leaves stored tokens readable until `cowans secrets rotate` rewrites them."""
    return _cipher_for((settings.signing_key, *settings.previous_signing_keys))


@lru_cache(maxsize=8)
def _cipher_for(keys: tuple[str, ...]) -> MultiFernet:
    # Cached: every encrypted value read or written would otherwise derive each key again.
    return MultiFernet([_fernet(key) for key in keys])


class EncryptedText(TypeDecorator[str]):
    """Text encrypted at rest (Fernet: AES-128-CBC + HMAC) with a key derived from SECRET_KEY.

    Used for Shopify access tokens: a copied database file or backup does not leak them.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return column_cipher(get_settings()).encrypt(value.encode()).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return column_cipher(get_settings()).decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                "an encrypted column cannot be read: neither SECRET_KEY nor SECRET_KEY_PREVIOUS "
                "is the key it was written with"
            ) from exc


def reencrypt_columns(session: Session, metadata: MetaData, settings: Settings) -> int:
    """Rewrite every EncryptedText value under the current SECRET_KEY; returns how many.

    Values are read and written as raw text (bypassing the column type) so a row is only
    decrypted inside the cipher, and a value no configured key opens fails the whole run
    before anything is committed."""
    cipher = column_cipher(settings)
    rewritten = 0
    for table in metadata.sorted_tables:
        encrypted = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        primary_key = list(table.primary_key.columns)
        for column in encrypted:
            raw = type_coerce(column, Text)
            rows = session.execute(select(*primary_key, raw).where(column.is_not(None))).all()
            for *key_values, value in rows:
                try:
                    rotated = cipher.rotate(value.encode()).decode()
                except InvalidToken as exc:
                    raise ValueError(
                        f"{table.name}.{column.name} of row {key_values} cannot be decrypted with "
                        "SECRET_KEY or SECRET_KEY_PREVIOUS; nothing was re-encrypted"
                    ) from exc
                match = [pk == v for pk, v in zip(primary_key, key_values, strict=True)]
                session.execute(
                    update(table).where(*match).values({column.name: _raw_text(rotated)})
                )
                rewritten += 1
    return rewritten


def _raw_text(value: str) -> Any:
    """A literal bound as plain text, not through EncryptedText (it is already ciphertext)."""
    return type_coerce(value, Text)


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
