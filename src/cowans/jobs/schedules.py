"""Scheduled jobs: the nightly Etilize import, the hourly Xorosoft refresh and the nightly
reconciliation (a full pull of every active store, which also finds what webhooks missed and
the products deleted in Shopify).

Each schedule is a Huey periodic task that only creates jobs. With several worker machines
every scheduler fires; a job's `dedupe_key` (schedule name, store and time slot) lets the first
one create it and the others find it there.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from huey import crontab
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cowans.config import ConfigError, Settings
from cowans.db.models import Import, Store
from cowans.db.session import session_scope
from cowans.jobs.imports import create_import_job
from cowans.jobs.pull import create_pull_job

if TYPE_CHECKING:
    from cowans.jobs.runtime import JobRuntime

logger = logging.getLogger(__name__)

# The longest a time slot is looked for backwards: a monthly schedule still finds its slot.
SLOT_SEARCH_MINUTES = 32 * 24 * 60

Validator = Callable[[datetime], bool]


RECONCILE = "reconcile"


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    import_kind: str  # "etilize", "xorosoft", or RECONCILE for the pull of every store
    source: str


def schedules(settings: Settings) -> list[Schedule]:
    return [
        Schedule("etilize-import", settings.schedule_etilize_cron, "etilize", "ftp"),
        Schedule("xorosoft-refresh", settings.schedule_xorosoft_cron, "xorosoft", "api"),
        Schedule("reconciliation", settings.schedule_reconcile_cron, RECONCILE, "shopify"),
    ]


def parse_cron(expression: str) -> Validator:
    """`minute hour day month weekday`, as cron writes it (UTC)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ConfigError(f"{expression!r} is not a cron expression of five fields")
    minute, hour, day, month, weekday = fields
    try:
        return crontab(minute, hour, day, month, weekday, strict=True)
    except ValueError as exc:
        raise ConfigError(f"{expression!r} is not a valid cron expression: {exc}") from None


def current_slot(matches: Validator, now: datetime) -> datetime:
    """The latest minute at or before `now` that the schedule fires in."""
    minute = now.replace(second=0, microsecond=0)
    for _ in range(SLOT_SEARCH_MINUTES):
        if matches(minute):
            return minute
        minute -= timedelta(minutes=1)
    return now.replace(second=0, microsecond=0)


def register_schedules(runtime: "JobRuntime") -> list[str]:
    """Register the enabled schedules as periodic tasks; returns their names."""
    if not runtime.settings.schedules_enabled:
        return []
    names = []
    for schedule in schedules(runtime.settings):
        matches = parse_cron(schedule.cron)

        def fire(schedule: Schedule = schedule, matches: Validator = matches) -> None:
            slot = current_slot(matches, datetime.now(UTC))
            if schedule.import_kind == RECONCILE:
                start_reconciliation(runtime, schedule, slot)
            else:
                start_scheduled(runtime, schedule, slot)

        runtime.huey.periodic_task(matches, name=f"schedule.{schedule.name}")(fire)
        names.append(schedule.name)
    return names


def start_scheduled(runtime: "JobRuntime", schedule: Schedule, slot: datetime) -> int | None:
    """Create and queue the job of one time slot, unless another scheduler already did."""
    if schedule.import_kind == "etilize" and not runtime.settings.etilize_ftp_host:
        logger.warning("schedule %s skipped: ETILIZE_FTP_HOST is not set", schedule.name)
        return None
    key = f"schedule:{schedule.name}:{slot:%Y-%m-%dT%H:%M}"
    try:
        with session_scope(runtime.engine) as session:
            record = Import(kind=schedule.import_kind, source=schedule.source, state="queued")
            session.add(record)
            session.flush()
            job = create_import_job(session, record, None, created_by=None)
            job.dedupe_key = key
            job.config = {**job.config, "schedule": schedule.name}
            session.flush()
            runtime.submit(session, job)
            return job.id
    except IntegrityError:
        logger.info("schedule %s: slot %s already has its job", schedule.name, key)
        return None


def start_reconciliation(runtime: "JobRuntime", schedule: Schedule, slot: datetime) -> list[int]:
    """A full pull of each active store for the slot; the ids of the jobs this call created."""
    with session_scope(runtime.engine) as session:
        store_ids = list(session.scalars(select(Store.id).where(Store.is_active.is_(True))))
    created = []
    for store_id in store_ids:
        key = f"schedule:{schedule.name}:{store_id}:{slot:%Y-%m-%dT%H:%M}"
        try:
            with session_scope(runtime.engine) as session:
                store = session.get(Store, store_id)
                if store is None:
                    continue
                job = create_pull_job(
                    session, store, {"full": True, "reason": "reconciliation"}, None
                )
                job.dedupe_key = key
                session.flush()
                runtime.submit(session, job)
                created.append(job.id)
        except IntegrityError:
            logger.info("schedule %s: slot %s already has its job", schedule.name, key)
    return created
