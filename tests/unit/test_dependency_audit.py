"""The audit's judgement: what counts as audited, and which findings fail it.

The advisory services themselves are not reachable from this machine (see the script's
docstring), so these feed it reports in the shapes pip-audit and npm audit print; `make audit`
runs the real tools.
"""

from pathlib import Path

import pytest
from tools.dependency_audit import (
    AuditResult,
    Finding,
    load_exceptions,
    locked_python_packages,
    read_npm_audit,
    read_pip_audit,
    unexplained,
)

ROOT = Path(__file__).resolve().parents[2]


def test_skipped_packages_are_not_counted_as_audited() -> None:
    report = {
        "dependencies": [
            {"name": "jinja2", "version": "3.1.6", "vulns": []},
            {"name": "pycrypto", "skip_reason": "Dependency not found on PyPI"},
            {
                "name": "oldlib",
                "version": "1.0",
                "vulns": [{"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["1.1"]}],
            },
        ],
        "fixes": [],
    }
    result = AuditResult()
    skipped = read_pip_audit(report, {"jinja2": "3.1.6", "pycrypto": "2.6.1"}, result)
    assert skipped == ["pycrypto"]
    assert result.audited == {"pip-audit": 2}
    assert result.findings == [Finding("python", "oldlib", "1.0", "PYSEC-1", ("CVE-1",))]


def test_an_unreachable_npm_endpoint_is_unaudited_not_clean() -> None:
    result = AuditResult()
    read_npm_audit({"message": "405 Method Not Allowed", "error": {"summary": ""}}, result)
    assert result.audited == {}
    assert result.not_audited == ["npm: every package (405 Method Not Allowed)"]


def test_npm_findings_come_from_advisories_not_from_the_packages_that_pull_them_in() -> None:
    report = {
        "vulnerabilities": {
            "vite": {"range": "<8.0.1", "via": ["esbuild"]},
            "esbuild": {
                "range": "<0.25",
                "via": [{"source": 1102341, "url": "https://github.com/advisories/GHSA-67mh"}],
            },
        },
        "metadata": {"dependencies": {"total": 321}},
    }
    result = AuditResult()
    read_npm_audit(report, result)
    assert result.audited == {"npm audit": 321}
    assert result.findings == [Finding("npm", "esbuild", "<0.25", "GHSA-67mh")]


def test_an_exception_matches_by_id_or_alias() -> None:
    findings = [
        Finding("python", "a", "1", "PYSEC-1", ("CVE-1",)),
        Finding("python", "b", "1", "GHSA-2"),
    ]
    assert unexplained(findings, {"CVE-1": "not reachable"}) == [findings[1]]


def test_an_exception_must_say_why(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.toml"
    path.write_text('[[exception]]\nid = "GHSA-2"\npackage = "b"\nreason = " "\n')
    with pytest.raises(ValueError, match="GHSA-2 gives no reason"):
        load_exceptions(path)


def test_the_committed_exceptions_file_is_valid() -> None:
    load_exceptions(ROOT / "tools" / "audit_exceptions.toml")


def test_the_project_itself_is_not_audited_as_a_dependency() -> None:
    packages = locked_python_packages(ROOT / "uv.lock")
    assert "cowans" not in packages
    assert packages["fastapi"]
