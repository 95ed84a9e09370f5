"""The master catalog: what Cowan's sells, and the snapshots the sync compares and publishes."""
