"""The Huey queue for the configured backend: a SQLite file, or Redis for several machines.

Both carry only job ids. Priorities map onto Huey's (higher runs first); both backends honour
them: SqliteHuey natively, Redis through PriorityRedisHuey (a sorted set, Redis 5 or later).
"""

from pathlib import Path

from huey import Huey, PriorityRedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

from cowans.config import Settings

QUEUE_NAME = "cowans"
PRIORITIES = {"high": 20, "normal": 10, "low": 0}


def sqlite_queue_path(settings: Settings) -> Path:
    database = make_url(settings.queue_url).database
    return Path(database) if database else settings.data_dir / "queue.db"


def build_huey(settings: Settings) -> Huey:
    if settings.uses_redis:
        return PriorityRedisHuey(QUEUE_NAME, url=settings.queue_url, results=False, utc=True)
    path = sqlite_queue_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(path), results=False, utc=True)
