"""The `cowans` command: run the server, migrate the database, manage users and tokens."""

import os
import sys
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from cowans.auth import service as auth
from cowans.auth.passwords import check_password_policy
from cowans.cli.emulators import (
    SHOPIFY_EMULATOR_SCRIPT,
    EmulatorStartError,
    RunningShopifyEmulator,
    console_script,
    ensure_demo_store,
    start_shopify_emulator,
)
from cowans.config import ConfigError, Settings, get_settings
from cowans.db import migrate
from cowans.db.models import Role
from cowans.db.session import get_engine, session_scope
from cowans.errors import DomainError
from cowans.logs import configure_logging

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
) -> None:
    """Migrate the database, then serve the API until Ctrl-C."""
    from cowans.api.app import create_app

    settings = _settings()
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
    emulator = _start_dev_emulators(settings, engine) if with_emulators else None
    listen_host, listen_port = host or settings.host, port or settings.port
    console.print(f"Cowans is running at http://{listen_host}:{listen_port} (API docs at /docs)")
    try:
        uvicorn.run(create_app(settings), host=listen_host, port=listen_port, log_config=None)
    finally:
        if emulator is not None:
            emulator.stop()


def _start_dev_emulators(settings: Settings, engine: Engine) -> RunningShopifyEmulator:
    console.print(
        f"Starting the Shopify emulator on port {settings.shopify_emulator_port} "
        f"with {settings.demo_seed_products} demo products..."
    )
    try:
        emulator = start_shopify_emulator(settings)
    except EmulatorStartError as exc:
        err_console.print(f"[red]{exc}[/red] (start with --no-emulators to skip it)")
        raise typer.Exit(1) from exc
    with session_scope(engine) as session:
        ensure_demo_store(session, emulator)
    console.print(f"Shopify emulator: {emulator.admin_url}", soft_wrap=True)
    return emulator


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
