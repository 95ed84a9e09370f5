"""Error codes of the sync area."""

from enum import StrEnum


class SyncErrorCode(StrEnum):
    STORE_NOT_FOUND = "store_not_found"
    STORE_REQUIRED = "store_required"
    STAGED_CHANGE_NOT_FOUND = "staged_change_not_found"
    NOTHING_SELECTED = "nothing_selected"
    AMBIGUOUS_SELECTION = "ambiguous_selection"
    INVALID_RESOLUTION = "invalid_resolution"
