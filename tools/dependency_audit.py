"""Audit the locked dependencies (uv.lock, web/package-lock.json) for known vulnerabilities.

`pip-audit` and `npm audit` do the work where they can. Both need an advisory service: pip-audit
reads PyPI's per-release JSON, npm audit posts to the registry's bulk advisory endpoint. A machine
that reaches package registries only through a mirror may get neither, and pip-audit then says
"No known vulnerabilities found" having audited nothing. So this script reads what each tool
really audited, and for the Python packages pip-audit skipped it falls back to PyPI's project
JSON, whose `vulnerabilities` are those of the project's latest release: a locked package that
is its project's latest release is audited that way; one that is not is listed as not audited
(upgrading it is the fix). Nothing unaudited is ever reported as clean.

A finding fails the audit unless `tools/audit_exceptions.toml` explains it. `--strict` also
fails when something could not be audited (for machines that reach the advisory services).

    python tools/dependency_audit.py [--strict]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXCEPTIONS_FILE = ROOT / "tools" / "audit_exceptions.toml"
PYPI_PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
HTTP_TIMEOUT_SECONDS = 30.0
HTTP_ATTEMPTS = 3


@dataclass(frozen=True)
class Finding:
    ecosystem: str
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...] = ()

    @property
    def ids(self) -> set[str]:
        return {self.advisory, *self.aliases}


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    audited: dict[str, int] = field(default_factory=dict)  # how -> packages audited that way
    not_audited: list[str] = field(default_factory=list)  # "ecosystem package: why"


def locked_python_packages(lock_file: Path) -> dict[str, str]:
    """Name -> version of every package uv.lock pins from an index (not the project itself)."""
    lock = tomllib.loads(lock_file.read_text())
    return {
        package["name"]: package["version"]
        for package in lock["package"]
        if "registry" in package.get("source", {})
    }


def run_pip_audit(packages: dict[str, str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write("".join(f"{name}=={version}\n" for name, version in packages.items()))
        requirements.flush()
        completed = subprocess.run(
            [sys.executable, "-m", "pip_audit", "-r", requirements.name, "--no-deps",
             "--disable-pip", "--format", "json", "--progress-spinner", "off"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if not completed.stdout.strip():
        raise RuntimeError(f"pip-audit printed no report: {completed.stderr.strip()[-500:]}")
    return json.loads(completed.stdout)


def read_pip_audit(report: dict, packages: dict[str, str], result: AuditResult) -> list[str]:
    """Record pip-audit's findings; return the packages it skipped."""
    skipped = []
    for dependency in report["dependencies"]:
        name = dependency["name"]
        if "skip_reason" in dependency:
            skipped.append(name)
            continue
        result.audited["pip-audit"] = result.audited.get("pip-audit", 0) + 1
        for vuln in dependency.get("vulns", []):
            version = dependency.get("version", packages.get(name, "?"))
            aliases = tuple(vuln.get("aliases", ()))
            result.findings.append(Finding("python", name, version, vuln["id"], aliases))
    return skipped


def _project_json(client: httpx.Client, name: str) -> dict | None:
    for attempt in range(HTTP_ATTEMPTS):
        try:
            response = client.get(PYPI_PROJECT_JSON.format(name=name))
        except httpx.TransportError:
            if attempt == HTTP_ATTEMPTS - 1:
                return None
            continue
        return response.json() if response.status_code == 200 else None
    return None


def read_latest_release_advisories(
    names: list[str], packages: dict[str, str], result: AuditResult
) -> None:
    """The fallback for what pip-audit skipped: PyPI's advisories of each latest release."""
    with (
        httpx.Client(timeout=HTTP_TIMEOUT_SECONDS) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        answers = pool.map(lambda name: _project_json(client, name), names)
        projects = dict(zip(names, answers, strict=True))
    for name, project in projects.items():
        version = packages[name]
        if project is None:
            result.not_audited.append(f"python {name} {version}: PyPI did not answer")
            continue
        latest = project["info"]["version"]
        if latest != version:
            result.not_audited.append(f"python {name} {version}: not the latest ({latest})")
            continue
        result.audited["PyPI latest release"] = result.audited.get("PyPI latest release", 0) + 1
        for vuln in project.get("vulnerabilities", []):
            aliases = tuple(vuln.get("aliases", ()))
            result.findings.append(Finding("python", name, version, vuln["id"], aliases))


def audit_python(lock_file: Path, result: AuditResult) -> None:
    packages = locked_python_packages(lock_file)
    skipped = read_pip_audit(run_pip_audit(packages), packages, result)
    if skipped:
        read_latest_release_advisories(skipped, packages, result)


def read_npm_audit(report: dict, result: AuditResult) -> None:
    """Record npm audit's findings: one per advisory (a `via` that is an object, not a name)."""
    if "error" in report:
        summary = report["error"].get("summary") or report.get("message") or "no report"
        result.not_audited.append(f"npm: every package ({summary})")
        return
    dependencies = report.get("metadata", {}).get("dependencies", {})
    result.audited["npm audit"] = dependencies.get("total", 0)
    for package, entry in report.get("vulnerabilities", {}).items():
        for via in entry.get("via", []):
            if isinstance(via, dict):
                advisory = via.get("url", "").rsplit("/", 1)[-1] or str(via.get("source"))
                result.findings.append(Finding("npm", package, entry.get("range", "?"), advisory))


def audit_npm(web_dir: Path, result: AuditResult) -> None:
    completed = subprocess.run(
        ["npm", "audit", "--json"], cwd=web_dir, capture_output=True, text=True, check=False
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        report = {"error": {"summary": completed.stderr.strip()[-300:] or "no report"}}
    read_npm_audit(report, result)


def load_exceptions(path: Path) -> dict[str, str]:
    """Advisory id -> why it is accepted. An exception without a reason is refused."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text()).get("exception", [])
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path.name}: the exception {entry.get('id')} gives no reason")
    return {entry["id"]: entry["reason"] for entry in entries}


def unexplained(findings: list[Finding], exceptions: dict[str, str]) -> list[Finding]:
    return [finding for finding in findings if not finding.ids & exceptions.keys()]


def print_report(result: AuditResult, exceptions: dict[str, str]) -> None:
    for how, count in sorted(result.audited.items()):
        print(f"audited by {how}: {count} packages")
    for line in result.not_audited:
        print(f"not audited: {line}")
    for finding in result.findings:
        reason = next((exceptions[i] for i in sorted(finding.ids) if i in exceptions), None)
        verdict = f"explained: {reason}" if reason else "UNEXPLAINED"
        print(f"{finding.ecosystem} {finding.package} {finding.version}", end=" ")
        print(f"{finding.advisory}: {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true", help="fail when anything is unaudited")
    args = parser.parse_args(argv)
    exceptions = load_exceptions(EXCEPTIONS_FILE)
    result = AuditResult()
    audit_python(ROOT / "uv.lock", result)
    audit_npm(ROOT / "web", result)
    print_report(result, exceptions)
    failures = unexplained(result.findings, exceptions)
    if failures:
        print(f"{len(failures)} unexplained: upgrade, or explain in {EXCEPTIONS_FILE.name}")
        return 1
    if args.strict and result.not_audited:
        print(f"--strict: {len(result.not_audited)} unaudited")
        return 1
    print("no unexplained findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
