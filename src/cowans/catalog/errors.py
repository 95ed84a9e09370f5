"""Error codes of the catalog area."""

from enum import StrEnum


class CatalogErrorCode(StrEnum):
    PRODUCT_NOT_FOUND = "product_not_found"
    FIELD_NOT_EDITABLE = "field_not_editable"
    INVALID_VALUE = "invalid_value"
    NOT_LOCKED = "field_not_locked"
    IMPORT_NOT_FOUND = "import_not_found"
    SKU_TAKEN = "sku_taken"
    HANDLE_TAKEN = "handle_taken"
    STORE_NOT_FOUND = "store_not_found"
