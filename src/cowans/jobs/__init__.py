"""Jobs: everything long (imports, pulls, pushes, batch operations, scheduled runs).

A `sync_jobs` row is the truth about a job; the Huey queue only carries its id to a worker.
That keeps one code path for a laptop (SqliteHuey, workers inside `cowans serve`) and a fleet
(RedisHuey, `cowans worker` on several machines sharing PostgreSQL), and lets a job lost with
its worker be found in the database and started again.
"""
