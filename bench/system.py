"""The whole system as a user runs it, for the end-to-end scenarios.

`System` starts `cowans serve` in a child process on a fresh data folder (SQLite by default, or
the database and queue URLs given), creates an admin with the CLI, signs in and talks to the API
over HTTP. Peak memory is read from the server's /proc status (VmHWM) and can be reset between
stages, so each stage reports its own peak.
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from common import EmulatorProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the suite's PostgreSQL and Redis launchers: tests.*_server
COWANS = Path(sys.executable).parent / "cowans"
ADMIN_EMAIL = "bench@cowans.local"
FINISHED = {"completed", "completed_with_errors", "failed", "cancelled"}


class JobFailed(RuntimeError):
    pass


class System:
    def __init__(
        self,
        *,
        database_url: str | None = None,
        queue_url: str | None = None,
        job_workers: int = 2,
        env: Mapping[str, str] | None = None,
        serve_workers: bool = True,
        launcher: Sequence[str] = (),
    ) -> None:
        """`launcher`: a command the server runs under, as `("memray", "run", "-o", path)`
        for a memory profile of the whole run."""
        self.folder = Path(tempfile.mkdtemp(prefix="cowans-bench-"))
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATA_DIR": str(self.folder),
            "DATABASE_URL": database_url or f"sqlite:///{self.folder / 'cowans.db'}",
            "QUEUE_URL": queue_url or f"sqlite:///{self.folder / 'queue.db'}",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DEV_EMULATORS": "false",
            "SCHEDULES": "false",
            "JOB_WORKERS": str(job_workers),
            "LOG_LEVEL": "WARNING",
            "WEB_DIST_DIR": str(ROOT / "web" / "dist"),
            **(env or {}),
        }
        self.password = secrets.token_urlsafe(16)
        self._cli("db", "upgrade")
        self._cli(
            "user", "create", ADMIN_EMAIL, "--role", "admin", "--password-stdin",
            stdin=self.password,
        )  # fmt: skip
        serve = [*launcher, str(COWANS), "serve", "--port", str(self.port), "--no-emulators"]
        if not serve_workers:
            serve.append("--no-workers")
        # A file, not a pipe: nobody reads a pipe while the benchmark runs, and a server that
        # logged 64 KB of errors into one would block forever.
        self.log = self.folder / "serve.log"
        with self.log.open("wb") as log:
            self.server = subprocess.Popen(
                serve, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=log
            )
        self.http = httpx.Client(base_url=self.root, timeout=600)
        self._wait_until_up()
        self.token = self.login(ADMIN_EMAIL, self.password)
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    # -- processes ---------------------------------------------------------------------------

    def _cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(COWANS), *args], cwd=ROOT, env=self.env, input=stdin,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"cowans {' '.join(args)} failed: {done.stderr or done.stdout}")
        return done.stdout

    def worker(self, threads: int = 2) -> subprocess.Popen[bytes]:
        """A `cowans worker` process on the same database and queue (stop it yourself)."""
        return subprocess.Popen(
            [str(COWANS), "worker", "--workers", str(threads), "--no-periodic"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"cowans serve exited: {self.log.read_text()[-4000:]}")
            try:
                if self.http.get("/api/health").status_code in (200, 503):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("cowans serve did not start")

    def stop(self) -> None:
        """Stop the server and remove its data folder (BENCH_KEEP=1 keeps it to look into)."""
        self.http.close()
        self.server.terminate()
        try:
            self.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.server.kill()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "System":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- memory ------------------------------------------------------------------------------

    def peak_rss(self) -> int:
        """The server process's peak resident memory in bytes since start or the last reset."""
        for line in Path(f"/proc/{self.server.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM in /proc status")

    def reset_peak_rss(self) -> None:
        """Linux resets VmHWM to the current RSS when 5 is written to clear_refs."""
        Path(f"/proc/{self.server.pid}/clear_refs").write_text("5")

    # -- the API -----------------------------------------------------------------------------

    def login(self, email: str, password: str) -> str:
        response = httpx.post(
            f"{self.root}/api/auth/login", json={"email": email, "password": password}
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def connect_store(
        self, emulator: EmulatorProcess, shop: str = "demo", **fields: Any
    ) -> dict[str, Any]:
        body = {
            "name": shop.title(),
            "shop_domain": f"{shop}.myshopify.com",
            "access_token": emulator.token,
            "admin_url": emulator.admin_url(shop),
            **fields,
        }
        return self.api("POST", "/api/shopify/stores", json=body)

    def wait_job(self, job_id: int, timeout: float = 3600) -> dict[str, Any]:
        """The finished job; raises if it failed, so a benchmark never times a failure."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.api("GET", f"/api/jobs/{job_id}")
            if job["state"] in FINISHED:
                if job["state"] in ("failed", "cancelled"):
                    raise JobFailed(f"job {job_id} {job['state']}: {job}")
                return job
            time.sleep(0.1)
        raise TimeoutError(f"job {job_id} did not finish in {timeout} s")
