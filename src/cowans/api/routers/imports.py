"""Imports of the Etilize feed and of Xorosoft: start one (202), follow it, get its errors.csv.

A start takes either an uploaded file (multipart, field `file`) or JSON naming the remote source
(`{"source": "ftp"}` for Etilize, `{"source": "api"}` for Xorosoft). The import runs in the
background; `GET /api/imports/{id}` shows its progress and, at the end, its report.
"""

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from cowans.api.body_limits import RequestErrorCode, mebibytes
from cowans.api.deps import Editor, SessionDep, SettingsDep, Viewer, audit
from cowans.api.schemas import Id
from cowans.catalog.errors import CatalogErrorCode
from cowans.db.models import Import, ImportRowError
from cowans.errors import DomainError, InvalidInput, NotFound
from cowans.jobs.imports import create_import_job

router = APIRouter(prefix="/api/imports", tags=["imports"])

UPLOAD_CHUNK = 1024 * 1024
REMOTE_SOURCES = {"etilize": "ftp", "xorosoft": "api"}
# The rejected rows an import's detail shows inline; errors.csv has all of them.
ROW_ERRORS_SHOWN = 100


class PayloadTooLarge(DomainError):
    status_code = 413


class ImportStarted(BaseModel):
    import_id: int
    job_id: int


class RemoteSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Literal["ftp", "api"]


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    import_id: int
    kind: str
    state: str
    source: str
    filename: str
    rows: int
    products: int
    matched: int
    unmatched: int
    duplicates: int
    errors: int
    created: int
    updated: int
    unchanged: int
    locked_conflicts: int
    report: dict[str, Any]
    report_url: str
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, record: Import) -> "ImportOut":
        fields = {name: getattr(record, name) for name in cls.model_fields if hasattr(record, name)}
        return cls(**fields, import_id=record.id, report_url=f"/api/imports/{record.id}/errors.csv")


class RowErrorOut(BaseModel):
    row: int
    column: str
    reason: str


class ImportDetailOut(ImportOut):
    """One import with its first rejected rows, so a person reads the report without opening
    errors.csv (`errors` is the total; errors.csv lists every one)."""

    row_errors: list[RowErrorOut]


def _upload_body(source: str) -> dict[str, Any]:
    """The request body in the OpenAPI document: the handlers read the request themselves
    (a multipart upload or JSON), so FastAPI cannot infer it."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["source"],
                        "properties": {"source": {"type": "string", "enum": [source]}},
                        "additionalProperties": False,
                    }
                },
            },
        }
    }


def _safe_name(name: str) -> str:
    """An uploaded file's name as we store it: no directories, no odd characters, short, and
    no leading dots (`..` or `.env` would be a name people misread as a path or a hidden file)."""
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base)[-100:].lstrip(".") or "upload"


async def _save_upload(upload: UploadFile, folder: Path, import_id: int, limit: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"import-{import_id}-{_safe_name(upload.filename or '')}"
    written = 0
    with path.open("wb") as target:
        while chunk := await upload.read(UPLOAD_CHUNK):
            written += len(chunk)
            if written > limit:
                target.close()
                path.unlink(missing_ok=True)
                raise PayloadTooLarge(
                    RequestErrorCode.UPLOAD_TOO_LARGE,
                    f"The upload is larger than the {mebibytes(limit)} allowed.",
                )
            target.write(chunk)
    return path


async def _start(
    kind: str, request: Request, principal: Any, session: Any, settings: Any
) -> ImportStarted:
    content_type = request.headers.get("content-type", "")
    upload: UploadFile | None = None
    source = "upload"
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        candidate = form.get("file")
        if not isinstance(candidate, UploadFile):
            raise InvalidInput("file_missing", "Send the feed as the multipart field `file`.")
        upload = candidate
    else:
        try:
            body = RemoteSource.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            raise InvalidInput(
                "invalid_source",
                f'Upload a file, or send {{"source": "{REMOTE_SOURCES[kind]}"}}.',
            ) from exc
        if body.source != REMOTE_SOURCES[kind]:
            raise InvalidInput(
                "invalid_source", f"{kind} imports come from `{REMOTE_SOURCES[kind]}`."
            )
        source = body.source
    record = Import(
        kind=kind,
        source=source,
        filename=_safe_name(upload.filename or "") if upload else "",
        created_by=principal.user.id,
        state="queued",
    )
    session.add(record)
    session.flush()
    import_id = record.id
    path = None
    if upload is not None:
        path = await _save_upload(
            upload, settings.data_dir / "uploads", import_id, settings.max_upload_bytes
        )
    job = create_import_job(session, record, path, principal.user.id)
    request.app.state.jobs.submit(session, job)
    audit(request, import_id=import_id, kind=kind, source=source, job_id=job.id)
    return ImportStarted(import_id=import_id, job_id=job.id)


@router.post(
    "/etilize",
    response_model=ImportStarted,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_upload_body("ftp"),
)
async def start_etilize(
    request: Request, principal: Editor, session: SessionDep, settings: SettingsDep
) -> ImportStarted:
    """Multipart `file` (the CSV or the zip), or `{"source": "ftp"}`."""
    return await _start("etilize", request, principal, session, settings)


@router.post(
    "/xorosoft",
    response_model=ImportStarted,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_upload_body("api"),
)
async def start_xorosoft(
    request: Request, principal: Editor, session: SessionDep, settings: SettingsDep
) -> ImportStarted:
    """Multipart `file` (the CSV export), or `{"source": "api"}`."""
    return await _start("xorosoft", request, principal, session, settings)


@router.get("", response_model=list[ImportOut])
def list_imports(
    _: Viewer,
    session: SessionDep,
    kind: Literal["etilize", "xorosoft"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ImportOut]:
    """Newest first. `kind` keeps one source's imports: a daily stock refresh would otherwise
    push the last feed import out of the list."""
    statement = select(Import)
    if kind is not None:
        statement = statement.where(Import.kind == kind)
    records = session.scalars(statement.order_by(Import.id.desc()).limit(limit))
    return [ImportOut.of(record) for record in records]


def _import(session: Any, import_id: int) -> Import:
    record = session.get(Import, import_id)
    if record is None:
        raise NotFound(CatalogErrorCode.IMPORT_NOT_FOUND, f"No import with id {import_id}.")
    return record


@router.get("/{import_id}", response_model=ImportDetailOut)
def get_import(import_id: Id, _: Viewer, session: SessionDep) -> ImportDetailOut:
    record = _import(session, import_id)
    rows = session.execute(
        select(ImportRowError.row_number, ImportRowError.column, ImportRowError.reason)
        .where(ImportRowError.import_id == import_id)
        .order_by(ImportRowError.row_number, ImportRowError.id)
        .limit(ROW_ERRORS_SHOWN)
    ).all()
    return ImportDetailOut(
        **ImportOut.of(record).model_dump(),
        row_errors=[
            RowErrorOut(row=row, column=column, reason=reason) for row, column, reason in rows
        ],
    )


@router.get("/{import_id}/errors.csv", response_class=StreamingResponse)
def import_errors(import_id: Id, _: Viewer, session: SessionDep) -> StreamingResponse:
    """One line per rejected row: row number, column, reason."""
    _import(session, import_id)
    rows = session.execute(
        select(ImportRowError.row_number, ImportRowError.column, ImportRowError.reason)
        .where(ImportRowError.import_id == import_id)
        .order_by(ImportRowError.row_number)
    ).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["row", "column", "reason"])
    writer.writerows(rows)
    return StreamingResponse(
        iter([buffer.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'},
    )
