"""Shopify access tokens are encrypted at rest with a key derived from SECRET_KEY."""

import pytest
from sqlalchemy import Engine, select, text

from cowans.config import get_settings
from cowans.db.models import Store
from cowans.db.session import session_scope

TOKEN = "shpat_0123456789abcdef0123456789abcdef"


def test_token_is_encrypted_in_the_database(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Store(name="Demo", shop_domain="demo.myshopify.com", access_token=TOKEN))
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT access_token FROM stores")).scalar_one()
    assert TOKEN not in raw
    assert "shpat" not in raw
    with session_scope(engine) as session:
        assert session.scalar(select(Store.access_token)) == TOKEN


def test_another_secret_key_cannot_read_it(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(engine) as session:
        session.add(Store(name="Demo", shop_domain="demo.myshopify.com", access_token=TOKEN))
    monkeypatch.setenv("SECRET_KEY", "a-different-secret-key-of-sufficient-length-123")
    get_settings.cache_clear()
    with (
        session_scope(engine) as session,
        pytest.raises(ValueError, match="neither SECRET_KEY nor SECRET_KEY_PREVIOUS"),
    ):
        session.scalar(select(Store.access_token))
