"""What every benchmark needs: the emulator as a child process, and a description of the
machine the figures come from."""

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

import httpx


def write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> list[str]:
    memory = subprocess.run(["/usr/bin/free", "-h"], capture_output=True, text=True, check=False)
    lines = memory.stdout.splitlines()
    return [
        f"CPUs (nproc): {os.cpu_count()}",
        f"Memory (free -h): {lines[1].split()[1] if len(lines) > 1 else '?'} total",
        f"Python: {platform.python_version()} ({platform.python_implementation()})",
        f"Platform: {platform.platform()}",
    ]


class EmulatorProcess:
    """`python -m shopify_emulator` with the given options (which name the shops and their
    tokens), ready when its side door answers."""

    def __init__(self, *options: str, token: str = "shpat_bench") -> None:
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.token = token
        command = [sys.executable, "-m", "shopify_emulator", "--port", str(self.port), *options]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.http = httpx.Client(timeout=300)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.http.get(f"{self.root}/_emulator/shops")
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the emulator did not start")

    def admin_url(self, shop: str = "demo") -> str:
        return f"{self.root}/{shop}/admin/api/2026-10/graphql.json"

    def counters(self, shop: str = "demo") -> dict[str, Any]:
        response = self.http.get(f"{self.root}/_emulator/{shop}/counters")
        response.raise_for_status()
        return response.json()

    def bulk_run_seconds(self, shop: str, since: datetime) -> tuple[int, float]:
        """How many bulk operations the shop ran since `since` (the emulator's clock is this
        machine's), and the seconds Shopify took to run them (created to completed): time no
        client can shorten, whatever the bucket allows."""
        document = (
            "query ($search: String) { bulkOperations(first: 250, query: $search) "
            "{ nodes { createdAt completedAt } } }"
        )
        search = f"created_at:>'{since.isoformat(timespec='seconds')}'"
        response = self.http.post(
            self.admin_url(shop),
            json={"query": document, "variables": {"search": search}},
            headers={"X-Shopify-Access-Token": self.token},
        )
        response.raise_for_status()
        nodes = response.json()["data"]["bulkOperations"]["nodes"]
        ran = [
            datetime.fromisoformat(node["completedAt"]) - datetime.fromisoformat(node["createdAt"])
            for node in nodes
            if node["completedAt"]
        ]
        return len(ran), sum(delta.total_seconds() for delta in ran)

    def configure(self, shop: str = "demo", **config: Any) -> None:
        self.http.patch(f"{self.root}/_emulator/{shop}/config", json=config).raise_for_status()

    def stop(self) -> None:
        self.http.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
