"""All models, imported here so `Base.metadata` knows every table (Alembic needs that)."""

from cowans.db.models.audit import AuditLog
from cowans.db.models.catalog import Product, ProductImage, ProductMetafield, ProductVariant
from cowans.db.models.stores import Store
from cowans.db.models.sync import (
    JobState,
    StagedChangeStatus,
    SyncHistory,
    SyncJob,
    SyncStaging,
)
from cowans.db.models.users import ApiToken, LoginAttempt, Role, User

__all__ = [
    "ApiToken",
    "AuditLog",
    "JobState",
    "LoginAttempt",
    "Product",
    "ProductImage",
    "ProductMetafield",
    "ProductVariant",
    "Role",
    "StagedChangeStatus",
    "Store",
    "SyncHistory",
    "SyncJob",
    "SyncStaging",
    "User",
]
