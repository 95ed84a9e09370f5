"""The bundled emulators as child processes of `cowans serve` in development mode.

The application never imports the emulators: it runs their console scripts, exactly as a person
would from a shell, and talks to them over HTTP like to the real services.
"""

import hashlib
import logging
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowans.config import Settings
from cowans.db.models import Store
from cowans.shopify.stores import subscribe_webhooks

logger = logging.getLogger(__name__)

SHOPIFY_EMULATOR_SCRIPT = "cowans-shopify-emulator"
XOROSOFT_EMULATOR_SCRIPT = "cowans-xorosoft-emulator"
DEMO_SHOP = "demo"
DEMO_LOCATIONS = ("Main Warehouse", "Store Front", "East Warehouse")
# The demo feed's Xorosoft locations (sources.feedgen), as the demo shop names them.
DEMO_LOCATION_MAP = {"MAIN": "Main Warehouse", "WEST": "Store Front", "EAST": "East Warehouse"}
# The emulator signs a shop's webhooks with "<shop>-webhook-secret" unless told otherwise.
DEMO_WEBHOOK_SECRET = f"{DEMO_SHOP}-webhook-secret"
STARTUP_TIMEOUT_SECONDS = 60


class EmulatorStartError(RuntimeError):
    """An emulator process exited or never answered; the message says which and how."""


@dataclass
class RunningEmulator:
    process: subprocess.Popen[bytes]
    url: str
    access_token: str
    secret: str = ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def console_script(name: str) -> str:
    """A console script installed beside this interpreter (the project's virtualenv)."""
    return str(Path(sys.executable).with_name(name))


def demo_access_token(settings: Settings, purpose: str = "shop token") -> str:
    """Stable across restarts (the demo store row keeps working) and unique per install."""
    digest = hashlib.sha256(f"cowans demo {purpose}:".encode() + settings.signing_key.encode())
    return ("shpat_" if purpose == "shop token" else "") + digest.hexdigest()[:32]


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorStartError(
                f"the Shopify emulator exited with code {process.returncode}; is port {port} free?"
            )
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise EmulatorStartError(f"the Shopify emulator did not answer on {host}:{port}")


def _spawn(script: str, port: int, arguments: list[str]) -> subprocess.Popen[bytes]:
    command = [console_script(script), "--host", "127.0.0.1", "--port", str(port), *arguments]
    process = subprocess.Popen(command)  # noqa: S603 - our own console script, fixed arguments
    try:
        _wait_for_port("127.0.0.1", port, process)
    except EmulatorStartError:
        process.kill()
        raise
    return process


def start_shopify_emulator(settings: Settings) -> RunningEmulator:
    token = demo_access_token(settings)
    port = settings.shopify_emulator_port
    process = _spawn(
        SHOPIFY_EMULATOR_SCRIPT,
        port,
        [
            "--shop",
            DEMO_SHOP,
            "--access-token",
            token,
            "--seed-products",
            str(settings.demo_seed_products),
            "--seed-random",
            "1",
            "--locations",
            ",".join(DEMO_LOCATIONS),
            "--state-file",
            str(settings.data_dir / "shopify-emulator.sqlite"),
        ],
    )
    admin_url = f"http://127.0.0.1:{port}/{DEMO_SHOP}/admin/api/2026-10/graphql.json"
    return RunningEmulator(process, admin_url, token, DEMO_WEBHOOK_SECRET)


def start_xorosoft_emulator(settings: Settings, export_csv: Path) -> RunningEmulator:
    """Serves the demo feed's Xorosoft export, so the demo catalog and the ERP agree."""
    key, secret = "demo", demo_access_token(settings, "xorosoft secret")
    port = settings.xorosoft_emulator_port
    process = _spawn(
        XOROSOFT_EMULATOR_SCRIPT, port, ["--csv", str(export_csv), "--key", key, "--secret", secret]
    )
    return RunningEmulator(process, f"http://127.0.0.1:{port}/api/xerp", key, secret)


def ensure_demo_store(
    session: Session, emulator: RunningEmulator, settings: Settings | None = None
) -> Store:
    """The demo shop as a store of the catalog, pointing at the emulator; with `settings`, also
    subscribed to its webhooks (delivered to PUBLIC_URL), so a merchant edit made in the
    emulator reaches the catalog as it would from Shopify."""
    domain = f"{DEMO_SHOP}.myshopify.com"
    store = session.scalar(select(Store).where(Store.shop_domain == domain))
    if store is None:
        store = Store(
            name="Demo store (emulator)",
            shop_domain=domain,
            access_token="",
            location_map=dict(DEMO_LOCATION_MAP),
        )
        session.add(store)
    store.admin_url = emulator.url
    store.access_token = emulator.access_token
    store.api_version = "2026-10"
    store.webhook_secret = emulator.secret or None
    session.flush()
    if settings is not None and store.webhook_secret:
        setup = subscribe_webhooks(session, settings, store.id)
        if setup.error:
            logger.warning("the demo store has no webhooks: %s", setup.error)
    return store
