"""`make bench`'s runner: sections land between their markers, a rerun replaces only its own
words, and the summary tells a missed target apart from a met one."""

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402
from section import Section  # noqa: E402


def saved(folder: Path, name: str, words: str, met: bool = True) -> Section:
    section = Section(name, f"Title of {name}")
    section.text(words)
    section.table(["what", "figure"], [["load", "1.50 s"], ["list", "12.0 ms"]])
    section.target(name, "under 2 s", "1.50 s", met)
    section.save(folder)
    return section


@pytest.fixture
def document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nWords a person wrote, kept as they are.\n")
    monkeypatch.setattr(run, "DOCUMENT", path)
    monkeypatch.setattr(run, "SCENARIOS", (run.Scenario("one", "x"), run.Scenario("two", "y")))
    return path


def test_sections_are_added_then_replaced_in_place(tmp_path: Path, document: Path) -> None:
    results = tmp_path / "results"
    saved(results, "one", "first words")
    saved(results, "two", "second words", met=False)
    run._update_document(results, quick=False)
    first = document.read_text()
    assert first.startswith("# Benchmarks\n\nWords a person wrote, kept as they are.\n")
    assert first.index("<!-- bench:summary -->") < first.index("<!-- bench:one -->")
    assert first.index("<!-- bench:one -->") < first.index("<!-- bench:two -->")
    assert "| one | under 2 s | 1.50 s | yes |" in first
    assert "| two | under 2 s | 1.50 s | **no** (see its section) |" in first
    assert "| load | 1.50 s |" in first
    assert "| --- | ---: |" in first

    saved(results, "one", "new words")
    run._update_document(results, quick=False)
    second = document.read_text()
    assert "new words" in second
    assert "first words" not in second
    assert second.count("<!-- bench:one -->") == 1
    assert second.replace("new words", "first words") == first


def test_a_quick_summary_says_it_proves_nothing(tmp_path: Path, document: Path) -> None:
    saved(tmp_path, "one", "words")
    run._update_document(tmp_path, quick=True)
    assert "**Quick run**" in document.read_text()


def test_a_section_survives_its_json(tmp_path: Path) -> None:
    section = saved(tmp_path, "one", "words", met=False)
    assert Section.load(tmp_path / "one.json") == section


def test_unknown_scenarios_are_refused() -> None:
    with pytest.raises(SystemExit, match="unknown scenarios: nope"):
        run._chosen("api-load,nope")


def test_a_scenario_counts_only_if_it_wrote_its_section(tmp_path: Path) -> None:
    """A section left by an earlier run must not pass for the output of one that saved none."""
    saved(tmp_path, "one", "an earlier run's words")
    silent = tmp_path / "silent.py"
    silent.write_text("import sys\nsys.exit(0)\n")
    assert not run._run(run.Scenario("one", str(silent)), quick=True, out=tmp_path, to_log=False)

    writer = tmp_path / "writer.py"
    writer.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(BENCH)!r})\n"
        "from pathlib import Path\n"
        "from section import Section\n"
        "Section('one', 'Fresh').save(Path(sys.argv[sys.argv.index('--out') + 1]))\n"
    )
    assert run._run(run.Scenario("one", str(writer)), quick=True, out=tmp_path, to_log=True)
    assert "Measured" in Section.load(tmp_path / "one.json").measured
    assert (tmp_path / "one.log").exists()  # several at once: each into its own log
