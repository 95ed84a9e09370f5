"""All models, imported here so `Base.metadata` knows every table (Alembic needs that)."""

from cowans.db.models.audit import AuditLog
from cowans.db.models.catalog import (
    Product,
    ProductImage,
    ProductMetafield,
    ProductVariant,
    ProductVersion,
)
from cowans.db.models.sources import Import, ImportRowError, XorosoftItem
from cowans.db.models.stores import Store
from cowans.db.models.sync import (
    JobItem,
    JobItemState,
    JobState,
    StagedChangeStatus,
    StoreProduct,
    SyncHistory,
    SyncJob,
    SyncStaging,
    WebhookEvent,
    WorkerProcess,
)
from cowans.db.models.users import ApiToken, LoginAttempt, Role, User

__all__ = [
    "ApiToken",
    "AuditLog",
    "Import",
    "ImportRowError",
    "JobItem",
    "JobItemState",
    "JobState",
    "LoginAttempt",
    "Product",
    "ProductImage",
    "ProductMetafield",
    "ProductVariant",
    "ProductVersion",
    "Role",
    "StagedChangeStatus",
    "Store",
    "StoreProduct",
    "SyncHistory",
    "SyncJob",
    "SyncStaging",
    "User",
    "WebhookEvent",
    "WorkerProcess",
    "XorosoftItem",
]
