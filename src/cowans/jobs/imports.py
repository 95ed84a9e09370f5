"""Import jobs: an Etilize or Xorosoft import run by a worker, followed live, cancellable.

The job carries the import's id (and the uploaded file's path); the `imports` row keeps the
import's own report. An import is all or nothing, so a job that stops half-way (cancelled, or
its worker gone) has written nothing, and one picked up again starts the import afresh.
"""

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowans.db.models import Import, Store, SyncJob
from cowans.db.session import session_scope
from cowans.errors import DomainError
from cowans.jobs import store
from cowans.jobs.context import JobContext
from cowans.jobs.errors import JobCancelled, JobInterrupted, JobLost
from cowans.jobs.staged_events import staged_changed
from cowans.sources import launch
from cowans.sources.imports import ImportHooks, import_view
from cowans.sync.staging import stage_push

KINDS = {"etilize": "import.etilize", "xorosoft": "import.xorosoft"}


class ImportFailed(DomainError):
    pass


def create_import_job(
    session: Session,
    record: Import,
    path: Path | None,
    created_by: int | None,
    priority: str = "normal",
) -> SyncJob:
    params = {"import_id": record.id, "path": str(path) if path else None}
    return store.create_job(
        session, KINDS[record.kind], params=params, created_by=created_by, priority=priority
    )


def run_import(context: JobContext) -> dict[str, Any]:
    import_id: int = context.params["import_id"]
    kind = context.kind.removeprefix("import.")
    path = Path(context.params["path"]) if context.params.get("path") else None
    hooks = ImportHooks(progress=_follower(context), checkpoint=context.checkpoint)
    try:
        launch.run(context.engine, context.settings, import_id, kind, path, hooks)
    except JobCancelled:
        launch.end_import(context.engine, import_id, "cancelled", "Cancelled; nothing was written.")
        _remove_upload(path, context)
        raise
    except (JobInterrupted, JobLost):
        launch.end_import(context.engine, import_id, "queued")
        raise
    except Exception:
        launch.end_import(context.engine, import_id, "failed", "The import failed unexpectedly.")
        _remove_upload(path, context)
        raise
    record = launch.import_state(context.engine, import_id)
    context.publish({"type": "import.progress", "import": import_view(record)})
    _remove_upload(path, context)
    if record.state == "failed":
        raise ImportFailed("import_failed", record.error or "The import failed.")
    skipped = bool((record.report or {}).get("skipped"))
    stage = context.settings.stage_after_import and not skipped
    staged = _stage_for_review(context) if stage else {}
    # Etilize writes its matched products; Xorosoft stores its items (and refreshes products).
    written = (
        record.created + record.updated + record.unchanged if kind == "etilize" else record.products
    )
    context.progress(
        processed=written, total=written, succeeded=written, failed=record.errors, phase="done"
    )
    return {
        "import_id": import_id,
        "state": record.state,
        "products": record.products,
        "staged": staged,
    }


def _stage_for_review(context: JobContext) -> dict[str, int]:
    """The catalog moved: stage what each active store would now change, per store name."""
    context.progress(phase="staging")
    staged: dict[str, int] = {}
    events = []
    with session_scope(context.engine) as session:
        for store in session.scalars(select(Store).where(Store.is_active.is_(True))):
            result = stage_push(session, store, created_by=context.created_by)
            staged[store.name] = result.staged
            session.flush()
            events.append(staged_changed(session, store.id, "staged"))
    for event in events:
        context.publish(event)
    return staged


def _follower(context: JobContext) -> Any:
    """Import progress as events, and as the job's counters: while reading, products read (the
    total is not known yet); while writing, products written of those matched."""

    def follow(view: dict[str, Any]) -> None:
        context.publish({"type": "import.progress", "import": view})
        if view.get("phase") == "writing":
            context.progress(
                processed=view["written"], total=view["to_write"], phase="writing", persist=False
            )
        elif view.get("state") == "running":
            context.progress(processed=view.get("products", 0), phase="reading")

    return follow


def _remove_upload(path: Path | None, context: JobContext) -> None:
    """An uploaded file is kept until its import ends: a job picked up again needs it."""
    uploads = context.settings.data_dir / "uploads"
    if path is not None and path.parent == uploads:
        path.unlink(missing_ok=True)
