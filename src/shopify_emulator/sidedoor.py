"""The `/_emulator/` side door (to be completed)."""

from starlette.routing import Route


def routes() -> list[Route]:
    return []
