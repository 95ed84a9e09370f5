"""Talking to Shopify's Admin GraphQL API: a cost-aware async client, its documents, and typed
helpers for reading products, bulk export and bulk import."""
