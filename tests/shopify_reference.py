"""Shopify's real Admin GraphQL schema (2026-10), from ../shared/shopify, for conformance tests."""

import gzip
import json
from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema

REFERENCE_PATH = (
    Path(__file__).resolve().parents[2] / "shared" / "shopify" / "admin_2026-10.json.gz"
)


@cache
def reference_schema() -> GraphQLSchema:
    with gzip.open(REFERENCE_PATH) as handle:
        data = json.load(handle)["data"]
    # assume_valid: Shopify's schema trips graphql-core's deprecation checks.
    return build_client_schema(data, assume_valid=True)
