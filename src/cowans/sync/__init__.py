"""Keeping a store in step with the catalog: diffs, staging, the batch planner and the engine."""
