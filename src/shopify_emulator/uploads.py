"""Staged uploads and bulk result files (to be completed)."""

from starlette.routing import Route


def routes() -> list[Route]:
    return []
