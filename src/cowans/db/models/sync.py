"""Jobs, staged changes awaiting review, and the history of every sync run."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowans.db.base import Base, TimestampMixin, utcnow
from cowans.db.types import JSONType, StrEnumType, UTCDateTime

if TYPE_CHECKING:
    from cowans.db.models.catalog import Product


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    # Finished, but some items failed: never reported as plain success.
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobItemState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class StagedChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CONFLICT = "conflict"
    APPLIED = "applied"
    FAILED = "failed"


class SyncJob(TimestampMixin, Base):
    """The source of truth for every long-running job: imports, pulls, pushes, batches."""

    __tablename__ = "sync_jobs"
    __table_args__ = (Index("ix_sync_jobs_state_kind", "state", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    state: Mapped[JobState] = mapped_column(
        StrEnumType(JobState, length=30), default=JobState.QUEUED
    )
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which worker process runs it now ("host:pid"); its heartbeat says it is still alive.
    worker: Mapped[str | None] = mapped_column(String(200))
    # Set for jobs that must exist once only, such as one scheduled run per time slot.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    phase: Mapped[str] = mapped_column(String(100), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # The latest performance figures of a running sync (cowans.sync.monitor), kept when it ends.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class JobItem(Base):
    """One unit of a job's work and its outcome. Finished items are never redone: a job that
    is picked up again after a crash works through the pending ones only."""

    __tablename__ = "job_items"
    __table_args__ = (Index("ix_job_items_job_id_state_seq", "job_id", "state", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("sync_jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    # A plain id, not a foreign key: the item outlives a product its job deletes.
    product_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[JobItemState] = mapped_column(
        StrEnumType(JobItemState), default=JobItemState.PENDING
    )
    message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WorkerProcess(Base):
    """A process that runs jobs, as it last reported itself."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20))  # embedded (in `serve`) or worker
    threads: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="idle")  # idle, busy, stopped
    running_jobs: Mapped[list[int]] = mapped_column(JSONType, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncStaging(TimestampMixin, Base):
    """One reviewed difference between the catalog and a store, in either direction."""

    __tablename__ = "sync_staging"
    # Answered from the indexes alone, without reading the rows (kilobytes of JSON each):
    # "which products have an open change in these stores" (the product list's sync-status
    # filter) and the review's text search (a handle, or a product the search index found).
    __table_args__ = (
        Index("ix_sync_staging_store_id_status_product_id", "store_id", "status", "product_id"),
        Index("ix_sync_staging_handle_product_id", "handle", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_jobs.id", ondelete="SET NULL"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    shopify_product_id: Mapped[str | None] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(10))
    operation_type: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[StagedChangeStatus] = mapped_column(
        StrEnumType(StagedChangeStatus), default=StagedChangeStatus.PENDING
    )
    conflict_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approval_rule: Mapped[str | None] = mapped_column(String(100))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handle: Mapped[str] = mapped_column(String(255), default="")
    # The snapshot a push sends: exactly what was reviewed, even if the catalog moves on.
    desired: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    # Read only, for showing the change with its product's title, vendor and type: code sets
    # `product_id`, never this.
    product: Mapped["Product | None"] = relationship(viewonly=True)


class StoreProduct(TimestampMixin, Base):
    """A product as one store has it: its Shopify ids and its base, the snapshot this system
    last pushed or confirmed there. The three-way diff compares against the base."""

    __tablename__ = "store_products"
    __table_args__ = (
        UniqueConstraint("store_id", "handle"),
        Index("ix_store_products_store_id_product_id", "store_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    handle: Mapped[str] = mapped_column(String(255))
    shopify_product_id: Mapped[str | None] = mapped_column(String(100))
    variant_ids: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    inventory_item_ids: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    base: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncHistory(Base):
    """One row per finished sync run, with its counters and performance figures."""

    __tablename__ = "sync_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_jobs.id", ondelete="SET NULL"), index=True
    )
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"))
    sync_type: Mapped[str] = mapped_column(String(50))
    direction: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(30))  # a JobState value, or "stopped"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    processed_items: Mapped[int] = mapped_column(Integer, default=0)
    succeeded_items: Mapped[int] = mapped_column(Integer, default=0)
    failed_items: Mapped[int] = mapped_column(Integer, default=0)
    performance_metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error_message: Mapped[str | None] = mapped_column(Text)


class WebhookEvent(Base):
    """A webhook Shopify delivered, kept once per event id: Shopify delivers at least once, and
    a repeated delivery must not trigger the work again."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("store_id", "event_id"),
        Index("ix_webhook_events_store_id_processed_at", "store_id", "processed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(100))
    # The product the event is about (a gid), when it is about one.
    shopify_product_id: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
