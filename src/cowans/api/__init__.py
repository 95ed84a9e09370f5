"""The HTTP API (FastAPI): thin routers over the business areas' services."""
