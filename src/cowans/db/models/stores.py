"""Shopify shops the catalog publishes to."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cowans.db.base import Base, TimestampMixin
from cowans.db.types import EncryptedText, JSONType, UTCDateTime


class Store(TimestampMixin, Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    shop_domain: Mapped[str] = mapped_column(String(255), unique=True)
    access_token: Mapped[str] = mapped_column(EncryptedText())
    api_version: Mapped[str] = mapped_column(String(20), default="2026-10")
    admin_url: Mapped[str] = mapped_column(String(500), default="")
    location_map: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    plan: Mapped[str] = mapped_column(String(50), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # [{"kind": "stock_only"}, {"kind": "price_within_percent", "percent": 20}]: which staged
    # changes approve themselves (see cowans.sync.approval). Empty: a person approves all.
    approval_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # The app's secret Shopify signs webhooks with (write-only, like the token); without it the
    # store's webhooks cannot be verified and are refused.
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedText())
    # [{"topic": ..., "id": gid}]: the subscriptions this system created, to replace or remove.
    webhook_subscriptions: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    # The pull or push working on the store now: they take turns (cowans.jobs.store_turns).
    # A plain id: the turn is free again once that job is no longer running.
    sync_job_id: Mapped[int | None] = mapped_column(Integer)
