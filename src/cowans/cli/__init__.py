"""The `cowans` command: run the server, migrate the database, manage users and tokens."""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, select

from cowans.auth import service as auth
from cowans.auth.passwords import check_password_policy
from cowans.cli.emulators import (
    SHOPIFY_EMULATOR_SCRIPT,
    EmulatorStartError,
    RunningEmulator,
    console_script,
    ensure_demo_store,
    start_shopify_emulator,
    start_xorosoft_emulator,
)
from cowans.config import ConfigError, Settings, get_settings
from cowans.db import migrate
from cowans.db.models import Import, Role
from cowans.db.session import get_engine, session_scope
from cowans.errors import DomainError
from cowans.logs import configure_logging

if TYPE_CHECKING:
    from cowans.jobs.events import EventBus
    from cowans.jobs.runtime import JobRuntime

app = typer.Typer(help="Cowan's product management system.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="People who use the system.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for scripts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

console = Console()
err_console = Console(stderr=True)


def _settings() -> Settings:
    try:
        settings = get_settings()
        settings.check_secret_key()
    except (ConfigError, ValueError) as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    return settings


def _fail(exc: DomainError) -> typer.Exit:
    err_console.print(f"[red]{exc.message}[/red]")
    return typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = _settings()
    migrate.upgrade(get_engine(settings.database_url))
    console.print(f"Database at revision {migrate.head_revision()}.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [PORT].")] = None,
    emulators: Annotated[
        bool | None,
        typer.Option(
            "--emulators/--no-emulators",
            help="Start the bundled emulators with demo data [default: in development].",
        ),
    ] = None,
    workers: Annotated[
        bool,
        typer.Option(
            "--workers/--no-workers",
            help="Run jobs in this process too (JOB_WORKERS threads); --no-workers leaves them "
            "to `cowans worker` processes.",
        ),
    ] = True,
) -> None:
    """Migrate the database, then serve the API (and run jobs) until Ctrl-C."""
    from cowans.api.app import create_app

    settings = _settings()
    if not workers:
        settings.job_workers = 0
    with_emulators = (
        emulators if emulators is not None else (settings.is_development and settings.dev_emulators)
    )
    configure_logging(settings.log_level, settings.log_format)
    engine = get_engine(settings.database_url)
    migrate.upgrade(engine)
    if settings.is_development:
        with session_scope(engine) as session:
            password = auth.ensure_demo_admin(session, settings.demo_admin_email)
        if password:
            console.print(
                "[bold green]Created the demo admin[/bold green] (shown only this once): "
                f"{settings.demo_admin_email} / {password}",
                soft_wrap=True,
            )
    emulators = _start_dev_emulators(settings, engine) if with_emulators else []
    listen_host, listen_port = host or settings.host, port or settings.port
    console.print(f"Cowans is running at http://{listen_host}:{listen_port} (API docs at /docs)")
    try:
        uvicorn.run(create_app(settings), host=listen_host, port=listen_port, log_config=None)
    finally:
        for emulator in emulators:
            emulator.stop()


def _start_dev_emulators(settings: Settings, engine: Engine) -> list[RunningEmulator]:
    """Both emulators with the demo data; the catalog is imported from it on the first start."""
    etilize_csv, xorosoft_csv = ensure_demo_feeds(settings)
    console.print(
        f"Starting the Shopify emulator (port {settings.shopify_emulator_port}) and the "
        f"Xorosoft emulator (port {settings.xorosoft_emulator_port})..."
    )
    running: list[RunningEmulator] = []
    try:
        shopify = start_shopify_emulator(settings)
        running.append(shopify)
        xorosoft = start_xorosoft_emulator(settings, xorosoft_csv)
        running.append(xorosoft)
    except EmulatorStartError as exc:
        for emulator in running:
            emulator.stop()
        err_console.print(f"[red]{exc}[/red] (start with --no-emulators to skip them)")
        raise typer.Exit(1) from exc
    with session_scope(engine) as session:
        ensure_demo_store(session, shopify, settings)
    if not settings.xorosoft_api_key.get_secret_value():
        settings.xorosoft_api_url = xorosoft.url
        settings.xorosoft_api_key = SecretStr(xorosoft.access_token)
        settings.xorosoft_api_secret = SecretStr(xorosoft.secret)
    console.print(f"Shopify emulator: {shopify.url}", soft_wrap=True)
    console.print(f"Xorosoft emulator: {xorosoft.url}", soft_wrap=True)
    _import_demo_catalog(settings, engine, etilize_csv)
    return running


def ensure_demo_feeds(settings: Settings) -> tuple[Path, Path]:
    from cowans.sources.feedgen import generate_feeds

    folder = settings.data_dir / "demo"
    etilize, xorosoft = folder / "etilize.csv", folder / "xorosoft.csv"
    if not (etilize.exists() and xorosoft.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        with etilize.open("wb") as etilize_out, xorosoft.open("wb") as xorosoft_out:
            generate_feeds(settings.demo_feed_products, 1, etilize_out, xorosoft_out)
    return etilize, xorosoft


def _import_demo_catalog(settings: Settings, engine: Engine, etilize_csv: Path) -> None:
    """On a fresh database: stock and prices through the Xorosoft API, content from the feed."""
    with session_scope(engine) as session:
        if session.scalar(select(func.count()).select_from(Import)):
            return
        first = Import(kind="xorosoft", source="api")
        second = Import(kind="etilize", source="file", filename=etilize_csv.name)
        session.add_all([first, second])
        session.flush()
        ids = (first.id, second.id)
    with console.status("Importing the demo catalog..."):
        _run_import_job(settings, engine, ids[0], None)
        _run_import_job(settings, engine, ids[1], etilize_csv)
    with session_scope(engine) as session:
        for import_id in ids:
            record = session.get(Import, import_id)
            assert record is not None
            console.print(f"Demo {record.kind} import: {record.state}, {record.products} products")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("create")
def user_create(
    email: str,
    role: Annotated[Role, typer.Option(help="viewer, editor, approver or admin.")] = Role.VIEWER,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user (the password is prompted for unless --password-stdin)."""
    settings = _settings()
    password = _read_password(password_stdin)
    try:
        check_password_policy(password)
        with session_scope(get_engine(settings.database_url)) as session:
            user = auth.create_user(session, email, password, role, name)
            console.print(f"Created user {user.id}: {user.email} ({user.role.value}).")
    except DomainError as exc:
        raise _fail(exc) from exc


@user_app.command("list")
def user_list() -> None:
    """List every user."""
    settings = _settings()
    table = Table("id", "email", "name", "role", "active", "last login")
    with session_scope(get_engine(settings.database_url)) as session:
        for user in auth.list_users(session):
            last_login = (
                user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "-"
            )
            table.add_row(
                str(user.id),
                user.email,
                user.name,
                user.role.value,
                "yes" if user.is_active else "no",
                last_login,
            )
    console.print(table)


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    expires_in_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
) -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    settings = _settings()
    days = expires_in_days or settings.api_token_default_expire_days
    with session_scope(get_engine(settings.database_url)) as session:
        user = auth.find_user_by_email(session, email)
        if user is None:
            err_console.print(f"[red]No user with email {email}.[/red]")
            raise typer.Exit(1)
        token, record = auth.create_api_token(session, user, name, days)
    err_console.print(
        f"API token {record.id} for {user.email}, expires {record.expires_at:%Y-%m-%d}:"
    )
    print(token)  # noqa: T201 - plain stdout, so scripts can capture the token


secrets_app = typer.Typer(help="Keys and encrypted secrets.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt stored secrets (Shopify tokens) under SECRET_KEY, reading them with it or
    SECRET_KEY_PREVIOUS; run after changing SECRET_KEY, then drop the old key when done."""
    from cowans.db.base import Base
    from cowans.db.types import reencrypt_columns

    settings = _settings()
    try:
        with session_scope(get_engine(settings.database_url)) as session:
            count = reencrypt_columns(session, Base.metadata, settings)
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Re-encrypted {count} stored secrets under the current SECRET_KEY.")


import_app = typer.Typer(help="Import the Etilize feed or Xorosoft's items.", no_args_is_help=True)
app.add_typer(import_app, name="import")
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


def _run_import(kind: str, path: Path | None, source: str) -> None:
    settings = _settings()
    engine = get_engine(settings.database_url)
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        record = Import(kind=kind, source=source, filename=path.name if path else "")
        session.add(record)
        session.flush()
        import_id = record.id
    with console.status(f"Importing {kind}..."):
        _run_import_job(settings, engine, import_id, path)
    with session_scope(engine) as session:
        record = session.get(Import, import_id)
        assert record is not None
        _print_import(record)
        if record.state != "completed":
            raise typer.Exit(1)


def _job_runtime(settings: Settings, engine: Engine) -> tuple["JobRuntime", "EventBus"]:
    """The job runtime with every handler. Imported here rather than at the top: the handlers
    bring pyarrow, openpyxl and numpy, seconds of start-up that `db upgrade`, `user create` and
    the other quick commands never need."""
    from cowans.jobs.events import EventBus
    from cowans.jobs.handlers import HANDLERS
    from cowans.jobs.runtime import JobRuntime

    events = EventBus(settings)
    return JobRuntime(settings, engine, events, HANDLERS), events


def _run_import_job(settings: Settings, engine: Engine, import_id: int, path: Path | None) -> None:
    """Run the import as a job in this process: recorded and shown live like any other."""
    from cowans.jobs.imports import create_import_job

    runtime, events = _job_runtime(settings, engine)
    with session_scope(engine) as session:
        record = session.get(Import, import_id)
        assert record is not None
        job_id = create_import_job(session, record, path, created_by=None).id
    try:
        runtime.run_here(job_id)
    finally:
        events.close()


def _print_import(record: Import) -> None:
    table = Table(f"import {record.id}", "", show_header=True)
    for label, value in (
        ("state", record.state),
        ("rows", record.rows),
        ("products", record.products),
        ("matched", record.matched),
        ("unmatched", record.unmatched),
        ("duplicates", record.duplicates),
        ("row errors", record.errors),
        ("created", record.created),
        ("updated", record.updated),
        ("unchanged", record.unchanged),
        ("locked fields kept", record.locked_conflicts),
    ):
        table.add_row(label, str(value))
    console.print(table)
    if record.error:
        err_console.print(f"[red]{record.error}[/red]")
    if record.errors:
        console.print(f"Rejected rows: GET /api/imports/{record.id}/errors.csv")


@import_app.command("etilize")
def import_etilize(
    file: Annotated[Path | None, typer.Argument(help="The feed: a CSV or the zip.")] = None,
    ftp: Annotated[
        bool, typer.Option("--ftp", help="Fetch it from the Etilize FTP server.")
    ] = False,
) -> None:
    """Import the Etilize feed from a file or by FTP."""
    if (file is None) == (not ftp):
        err_console.print("[red]Give a FILE or --ftp, not both and not neither.[/red]")
        raise typer.Exit(2)
    if file is not None and not file.is_file():
        err_console.print(f"[red]No such file: {file}[/red]")
        raise typer.Exit(2)
    _run_import("etilize", file, "ftp" if ftp else "file")


@import_app.command("xorosoft")
def import_xorosoft(
    file: Annotated[Path | None, typer.Argument(help="The CSV export.")] = None,
    api: Annotated[bool, typer.Option("--api", help="Read it from the Xorosoft API.")] = False,
) -> None:
    """Import Xorosoft's items (SKUs, prices, stock) from the CSV export or the API."""
    if (file is None) == (not api):
        err_console.print("[red]Give a FILE or --api, not both and not neither.[/red]")
        raise typer.Exit(2)
    if file is not None and not file.is_file():
        err_console.print(f"[red]No such file: {file}[/red]")
        raise typer.Exit(2)
    _run_import("xorosoft", file, "api" if api else "file")


@app.command()
def worker(
    threads: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=64, help="Jobs run at once.")
    ] = 2,
    periodic: Annotated[
        bool,
        typer.Option(
            "--periodic/--no-periodic",
            help="Also fire the schedules (safe on several machines: a slot runs once).",
        ),
    ] = True,
) -> None:
    """Run jobs from the queue until stopped (SIGTERM or Ctrl-C finishes at an item boundary
    and gives unfinished jobs back to the queue)."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = get_engine(settings.database_url)
    migrate.upgrade(engine)
    runtime, events = _job_runtime(settings, engine)
    console.print(
        f"Worker {runtime.worker_id}: {threads} thread(s), queue {_queue_name(settings)}, "
        f"schedules: {', '.join(runtime.schedules) or 'off'}",
        soft_wrap=True,
    )
    try:
        runtime.consumer(threads, embedded=False, periodic=periodic).run()
    finally:
        events.close()


def _queue_name(settings: Settings) -> str:
    """The queue's address without its password."""
    from sqlalchemy.engine import make_url

    if settings.uses_redis:
        return make_url(settings.queue_url.replace("rediss://", "redis://", 1)).render_as_string()
    return settings.queue_url


@demo_app.command("generate-feed")
def demo_generate_feed(
    products: Annotated[int, typer.Option(min=1, max=1_000_000)] = 1000,
    seed: Annotated[int, typer.Option()] = 1,
    out: Annotated[Path, typer.Option(help="Folder to write the two files to.")] = Path("var/demo"),
) -> None:
    """Write a realistic Etilize CSV and the matching Xorosoft CSV export."""
    from cowans.sources.feedgen import generate_feeds

    out.mkdir(parents=True, exist_ok=True)
    etilize, xorosoft = out / "etilize.csv", out / "xorosoft.csv"
    with etilize.open("wb") as etilize_out, xorosoft.open("wb") as xorosoft_out:
        generate_feeds(products, seed, etilize_out, xorosoft_out)
    console.print(f"Wrote {etilize} and {xorosoft}")


emulator_app = typer.Typer(help="The bundled emulators, on their own.", no_args_is_help=True)
app.add_typer(emulator_app, name="emulator")


@emulator_app.command(
    "shopify",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def emulator_shopify(context: typer.Context) -> None:
    """Run the Shopify emulator (same options as cowans-shopify-emulator; try --help)."""
    script = console_script(SHOPIFY_EMULATOR_SCRIPT)
    os.execv(script, [script, *context.args])  # noqa: S606 - replaces this process on purpose


if __name__ == "__main__":
    app()
