"""Resolvers, one module per area; each registers its fields with `schema.resolver`."""
