"""Cowan's product management system: supplier feeds in, reviewed changes out to Shopify."""

__version__ = "0.1.0"
