"""A standalone emulator of Xorosoft's ERP REST API (the `xerp` product endpoints), for tests,
benchmarks and demos.

It never imports `cowans`: it stands in for Xorosoft, and code that works against it should work
against the real ERP.
"""

API_ROOT = "/api/xerp"
