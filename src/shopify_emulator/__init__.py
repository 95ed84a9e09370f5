"""A standalone emulator of Shopify's Admin GraphQL API (2026-10), for tests, benchmarks and demos.

It never imports `cowans`: it stands in for Shopify, and code that works against it should work
against a real store.
"""

API_VERSION = "2026-10"
