"""A PostgreSQL server of a test's own that it may stop and start again mid-test.

The suite's shared server (tests/postgres_server.py) must never go away under other tests; a
database-fault test starts this one instead, on the same Debian binaries and options.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.postgres_server import _as_postgres, _bin_dir, _free_port, wait_until_ready


class RestartablePostgres:
    """initdb'd and started on a free loopback port; `url` names its `postgres` database."""

    def __init__(self) -> None:
        self.bin_dir = _bin_dir()
        self.base = Path(tempfile.mkdtemp(prefix="cowans-pg-faults-"))
        self.data = self.base / "data"
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base, user.pw_uid, user.pw_gid)
        self.port = _free_port()
        self.url = f"postgresql+psycopg://cowans@127.0.0.1:{self.port}/postgres"
        self._pg("initdb", "-D", str(self.data), "-U", "cowans", "-A", "trust", "--no-sync")
        self.start()

    def _pg(self, program: str, *args: str) -> None:
        command = _as_postgres([str(self.bin_dir / program), *args])
        subprocess.run(command, check=True, capture_output=True)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        log = str(self.base / "server.log")
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        wait_until_ready(self.url)

    def stop(self) -> None:
        """A fast shutdown: every session is cut off at once, as when the server goes away;
        committed work survives, as it would."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            _as_postgres(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
            ),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.base, ignore_errors=True)
