"""Import benchmark: a 100,000-row Etilize feed through our importer, and a pandas baseline.

    .venv/bin/python bench/import_bench.py [--products 33500] [--runs 3] [--import-runs 3]
    .venv/bin/python bench/import_bench.py --quick     # 3,000 products, 2 runs of each

The feeds come from `cowans.sources.feedgen` (seed 1) into a temporary folder: about three
Etilize rows a product, so 33,500 products make about 100,000 rows. Every measurement runs in a
fresh process and reports its own peak RSS (`ru_maxrss`), so that one stage's memory does not
hide another's. The processes fork from a fork server started before anything else: a `spawn`ed
child would inherit this process's RSS at the time as its starting `ru_maxrss` (Linux keeps the
peak across exec).

- parse: `read_xorosoft_csv` and `read_etilize` consumed into lists, as the imports do. They
  read a seekable file with their column readers (pyarrow); "careful readers only" is the same
  parse through a stream that cannot seek, which only the row-by-row readers read;
- match: the same parse (untimed), then `XorosoftIndex` + `match_products`, timed;
- import: a fresh SQLite database, migrated, then `run_xorosoft_import` and `run_etilize_import`
  on `Import` rows, as `cowans.sources.launch` runs them. Upsert + report is the Etilize import
  minus the parse and match medians;
- pandas parse and pandas match: the baseline, the same work written as a data person would
  (`pandas.read_csv`, rows grouped by Handle, identifiers normalised, candidates merged against
  ItemNumber then BasePartNumber, duplicates settled by best method). pandas 3 keeps strings in
  pyarrow when pyarrow is installed, which the project now depends on, and that made this
  baseline twice as slow; so it runs twice, with pandas' default string storage and with
  `mode.string_storage = "python"` (what it used before), and the target counts the faster.

Heavy libraries are imported inside the measured functions, so a child loads only what its own
side needs: pandas never inflates our figures, nor SQLAlchemy the baseline's.
"""

import argparse
import functools
import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import forkserver, get_context
from pathlib import Path
from typing import Any

from common import machine, write

SEED = 1
REPORTED = ("state", "error", "rows", "products", "matched", "unmatched", "duplicates", "errors")
REPORTED += ("created", "updated", "unchanged")
# (product handle, Xorosoft ItemNumber, method): what both sides must agree on.
Matched = set[tuple[str, str, str]]


@dataclass
class Measured:
    """What one child process reports: seconds per named piece, its peak RSS, and results."""

    seconds: dict[str, float]
    peak_rss_mb: float
    start_rss_mb: float  # the peak before the measured work: interpreter and imports
    result: dict[str, Any] = field(default_factory=dict)


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# Ours -------------------------------------------------------------------------------------------


class _Unseekable(io.RawIOBase):
    """A file that cannot go back to its start, like a socket: the careful readers read it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file = path.open("rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._file.readinto(buffer)

    def close(self) -> None:
        self._file.close()
        super().close()


def _open(path: Path, careful_only: bool) -> Any:
    return io.BufferedReader(_Unseekable(path)) if careful_only else path.open("rb")


def _our_parse(
    etilize: Path, xorosoft: Path, careful_only: bool = False
) -> tuple[list[Any], list[Any], dict[str, float]]:
    from cowans.sources.etilize import read_etilize
    from cowans.sources.records import RowError
    from cowans.sources.xorosoft import read_xorosoft_csv

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with _open(xorosoft, careful_only) as stream:
        items = [r for r in read_xorosoft_csv(stream) if not isinstance(r, RowError)]
    seconds["parse xorosoft"] = time.perf_counter() - started
    started = time.perf_counter()
    products, errors = [], []
    with _open(etilize, careful_only) as stream:
        for record in read_etilize(stream):
            (errors if isinstance(record, RowError) else products).append(record)
    seconds["parse etilize"] = time.perf_counter() - started
    return items, products, seconds


def our_parse(etilize: Path, xorosoft: Path, careful_only: bool = False) -> Measured:
    start_rss = _peak_rss_mb()
    _items, _products, seconds = _our_parse(etilize, xorosoft, careful_only)
    return Measured(seconds, _peak_rss_mb(), start_rss)


def our_parse_floor(etilize: Path, _xorosoft: Path) -> Measured:
    """The Etilize feed through the column reader's text pipeline only (read, re-encoded,
    checked to be plain CSV, parsed by pyarrow) with no record made: what the parse costs
    before the first Python object of a product exists."""
    from cowans.sources import etilize as etilize_reader
    from cowans.sources.csv_batches import CsvBatches

    start_rss = _peak_rss_mb()
    started = time.perf_counter()
    with etilize.open("rb") as stream:
        lines, _reader, layout = etilize_reader._open_feed(stream)
        stream.seek(0)
        batches = CsvBatches(
            stream,
            lines.encoding,
            columns=len(layout.names),
            header_is=lambda _cells: True,
            limits=(etilize_reader.MAX_CELL_CHARS, etilize_reader.MAX_ROW_BYTES),
        )
        rows = sum(batch.num_rows for batch in batches)
    seconds = {"floor etilize": time.perf_counter() - started}
    return Measured(seconds, _peak_rss_mb(), start_rss, {"rows": rows})


def our_match(etilize: Path, xorosoft: Path) -> Measured:
    from cowans.sources.matching import ItemRef, XorosoftIndex, match_products

    start_rss = _peak_rss_mb()
    items, products, _ = _our_parse(etilize, xorosoft)
    started = time.perf_counter()
    index = XorosoftIndex(ItemRef(item.item_number, item.base_part_number) for item in items)
    report = match_products(products, index)
    seconds = {"match": time.perf_counter() - started}
    matched = {(m.product.handle, m.item_number, m.method) for m in report.matches.values()}
    result = {
        "matched": matched,
        "duplicates": {(d.handle, d.item_number) for d in report.duplicates},
        "unmatched": {p.handle for p in report.unmatched},
    }
    return Measured(seconds, _peak_rss_mb(), start_rss, result)


def our_import(etilize: Path, xorosoft: Path) -> Measured:
    import logging

    from cowans.db.migrate import upgrade
    from cowans.db.models import Import
    from cowans.db.session import create_db_engine, session_scope
    from cowans.sources.etilize_fetch import open_feed_file
    from cowans.sources.imports import run_etilize_import, run_xorosoft_import
    from cowans.sources.xorosoft import read_xorosoft_csv

    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="import-bench-db-") as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'cowans.db'}")
        upgrade(engine)
        start_rss = _peak_rss_mb()

        def new_import(kind: str, path: Path) -> int:
            with session_scope(engine) as session:
                record = Import(kind=kind, source="file", filename=path.name)
                session.add(record)
                session.flush()
                return record.id

        seconds: dict[str, float] = {}
        xorosoft_id = new_import("xorosoft", xorosoft)
        started = time.perf_counter()
        with xorosoft.open("rb") as stream:
            run_xorosoft_import(engine, xorosoft_id, read_xorosoft_csv(stream))
        seconds["xorosoft import"] = time.perf_counter() - started
        etilize_id = new_import("etilize", etilize)
        started = time.perf_counter()
        with open_feed_file(etilize) as stream:
            run_etilize_import(engine, etilize_id, stream)
        seconds["etilize import"] = time.perf_counter() - started
        with session_scope(engine) as session:
            result = {
                kind: {name: getattr(session.get(Import, import_id), name) for name in REPORTED}
                for kind, import_id in (("xorosoft", xorosoft_id), ("etilize", etilize_id))
            }
        engine.dispose()
    return Measured(seconds, _peak_rss_mb(), start_rss, result)


# The pandas baseline ----------------------------------------------------------------------------

ALTERNATES = {  # method -> its column; the SKU comes first, then these in this order
    "cws_a": "Metafield: custom.CWS_A [list.single_line_text]",
    "cws_catalog": "Metafield: custom.CWS_Catalog [list.single_line_text]",
    "sprc": "Metafield: custom.SPRC [list.single_line_text]",
}
METHOD_RANK = {"sku": 0, "cws_a": 1, "cws_catalog": 2, "sprc": 3}


def _pandas_parse(etilize: Path, xorosoft: Path) -> tuple[Any, Any, dict[str, float]]:
    import pandas as pd

    started = time.perf_counter()
    feed = pd.read_csv(etilize, encoding="latin-1", dtype=str, keep_default_na=False)
    items = pd.read_csv(xorosoft, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    # The first row of a Handle is the product; the rows after it only add images.
    feed = feed[feed["Handle"].str.strip() != ""]
    products = feed.drop_duplicates("Handle").set_index("Handle")
    products = products[products["Title"].str.strip() != ""]  # no Title: a row error
    images = (
        feed[feed["Product image URL"] != ""]
        .groupby("Handle", sort=False)[["Product image URL", "Image position", "Image alt text"]]
        .agg(list)
    )
    products = products.join(images, rsuffix=" (all)")
    for method, column in ALTERNATES.items():
        products[method] = products[column].map(lambda cell: json.loads(cell) if cell else [])
    return products, items, {"parse": time.perf_counter() - started}


def _pandas_match(products: Any, items: Any) -> dict[str, Any]:
    import pandas as pd

    def normalize(values: Any) -> Any:
        return values.str.strip().str.upper().str.replace(r"[-\s/]", "", regex=True)

    items = items.sort_values("ItemNumber")  # "the first item of a base part, by ItemNumber"
    by_item = items.assign(key=normalize(items["ItemNumber"])).drop_duplicates("key")
    with_base = items[items["BasePartNumber"].str.strip() != ""]
    by_base = with_base.assign(key=normalize(with_base["BasePartNumber"])).drop_duplicates("key")

    products = products.reset_index()
    products["order"] = range(len(products))
    candidates = [products[["Handle", "order", "SKU"]].rename(columns={"SKU": "candidate"})]
    candidates[0]["method"], candidates[0]["position"] = "sku", 0
    for method in ALTERNATES:
        values = products[["Handle", "order", method]].explode(method).dropna()
        values = values.rename(columns={method: "candidate"})
        values["method"], values["position"] = method, values.groupby("order").cumcount()
        candidates.append(values)
    tried = pd.concat(candidates, ignore_index=True)
    tried["key"] = normalize(tried["candidate"])
    tried = tried[tried["key"] != ""]
    tried["rank"] = tried["method"].map(METHOD_RANK)

    hits = pd.concat(
        [
            tried.merge(by_item[["key", "ItemNumber"]], on="key").assign(field=0),
            tried.merge(by_base[["key", "ItemNumber"]], on="key").assign(field=1),
        ]
    )
    # The first hit wins: candidates in order, ItemNumber before BasePartNumber.
    hits = hits.sort_values(["order", "rank", "position", "field"]).drop_duplicates("Handle")
    # Several products on one item: the best method keeps it, ties by file order.
    hits = hits.sort_values(["rank", "order"])
    kept = hits.drop_duplicates("ItemNumber")
    duplicates = hits[hits.duplicated("ItemNumber")]
    unmatched = products.loc[~products["Handle"].isin(hits["Handle"]), "Handle"]
    return {
        "matched": set(
            zip(kept["Handle"], kept["ItemNumber"], kept["method"].astype(str), strict=True)
        ),
        "duplicates": set(zip(duplicates["Handle"], duplicates["ItemNumber"], strict=True)),
        "unmatched": set(unmatched),
    }


def pandas_parse(etilize: Path, xorosoft: Path, storage: str = "") -> Measured:
    """`storage`: pandas' string storage ("python" or "pyarrow"); empty for its default."""
    start_rss = _peak_rss_mb()
    import pandas as pd

    with pd.option_context("mode.string_storage", storage or pd.get_option("mode.string_storage")):
        _products, _items, seconds = _pandas_parse(etilize, xorosoft)
    return Measured(seconds, _peak_rss_mb(), start_rss)


def pandas_match(etilize: Path, xorosoft: Path, storage: str = "") -> Measured:
    start_rss = _peak_rss_mb()
    import pandas as pd

    with pd.option_context("mode.string_storage", storage or pd.get_option("mode.string_storage")):
        products, items, _ = _pandas_parse(etilize, xorosoft)
        started = time.perf_counter()
        result = _pandas_match(products, items)
        seconds = {"match": time.perf_counter() - started}
    return Measured(seconds, _peak_rss_mb(), start_rss, result)


# Running and reporting --------------------------------------------------------------------------


def in_child(measure: Callable[[Path, Path], Measured], etilize: Path, xorosoft: Path) -> Measured:
    """One measurement in a fresh interpreter: its peak RSS is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("forkserver")) as pool:
        return pool.submit(measure, etilize, xorosoft).result()


@dataclass
class Series:
    """Several runs of one measurement."""

    runs: list[Measured]

    def seconds(self, name: str) -> float:
        return statistics.median(run.seconds[name] for run in self.runs)

    def peak(self) -> float:
        return statistics.median(run.peak_rss_mb for run in self.runs)

    def start(self) -> float:
        return statistics.median(run.start_rss_mb for run in self.runs)


def series(
    label: str,
    measure: Callable[[Path, Path], Measured],
    runs: int,
    etilize: Path,
    xorosoft: Path,
) -> Series:
    measured = []
    for number in range(1, runs + 1):
        run = in_child(measure, etilize, xorosoft)
        timings = ", ".join(f"{name} {value:.2f} s" for name, value in run.seconds.items())
        write(f"  {label} run {number}/{runs}: {timings}, peak RSS {run.peak_rss_mb:.0f} MB")
        measured.append(run)
    return Series(measured)


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def agreement(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    parts = []
    for name in ("matched", "duplicates", "unmatched"):
        same = ours[name] == theirs[name]
        detail = (
            f"{len(ours[name]):,} identical"
            if same
            else f"DIFFER: ours {len(ours[name]):,}, pandas {len(theirs[name]):,}, "
            f"{len(ours[name] ^ theirs[name]):,} not in both"
        )
        parts.append(f"{name} {detail}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=33_500)
    parser.add_argument("--runs", type=int, default=3, help="runs of each parse/match child")
    parser.add_argument("--import-runs", type=int, default=3, help="runs of the full import")
    parser.add_argument("--quick", action="store_true", help="3,000 products, 2 runs of each")
    args = parser.parse_args()
    forkserver.ensure_running()  # while this process is small: see the module docstring
    if args.quick:
        args.products, args.runs, args.import_runs = 3_000, 2, 2
    for line in machine():
        write(f"- {line}")

    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        etilize, xorosoft = Path(folder) / "etilize.csv", Path(folder) / "xorosoft.csv"
        from cowans.sources.feedgen import generate_feeds

        with etilize.open("wb") as etilize_out, xorosoft.open("wb") as xorosoft_out:
            feeds = generate_feeds(args.products, SEED, etilize_out, xorosoft_out)
        expected = feeds.expected
        rows, xo_rows = feeds.etilize_rows, feeds.xorosoft_rows
        write(
            f"- Feeds (seed {SEED}): {feeds.products:,} Etilize products in {rows:,} rows "
            f"({etilize.stat().st_size / 1e6:.1f} MB, cp1252), Xorosoft {xo_rows:,} rows "
            f"({xorosoft.stat().st_size / 1e6:.1f} MB)"
        )
        write(f"- Expected outcome (generator): {dict(sorted(expected.items()))}")
        write()

        ours_parse = series("ours parse", our_parse, args.runs, etilize, xorosoft)
        ours_match = series("ours match", our_match, args.runs, etilize, xorosoft)
        floor = series("ours text pipeline", our_parse_floor, args.runs, etilize, xorosoft)
        careful = functools.partial(our_parse, careful_only=True)
        careful_parse = series("careful parse", careful, args.runs, etilize, xorosoft)
        base_parse = series("pandas parse", pandas_parse, args.runs, etilize, xorosoft)
        base_match = series("pandas match", pandas_match, args.runs, etilize, xorosoft)
        py_parse_measure = functools.partial(pandas_parse, storage="python")
        py_match_measure = functools.partial(pandas_match, storage="python")
        py_parse = series(
            "pandas parse (python strings)", py_parse_measure, args.runs, etilize, xorosoft
        )
        py_match = series(
            "pandas match (python strings)", py_match_measure, args.runs, etilize, xorosoft
        )
        imports = series("import", our_import, args.import_runs, etilize, xorosoft)

    ours, theirs = ours_match.runs[0].result, base_match.runs[0].result
    report = imports.runs[0].result
    want = sum(expected.get(method, 0) for method in METHOD_RANK)
    write()
    write(f"Agreement, ours vs pandas: {agreement(ours, theirs)}")
    write(
        f"Against the generator: {len(ours['matched']):,} matched (expected {want:,}), "
        f"{len(ours['duplicates']):,} duplicates (expected {expected.get('duplicate', 0):,}), "
        f"{len(ours['unmatched']):,} unmatched (expected {expected.get('unmatched', 0):,})"
    )
    write(f"Import reports: xorosoft {report['xorosoft']}")
    write(f"                etilize {report['etilize']}")

    parse_x, parse_e = ours_parse.seconds("parse xorosoft"), ours_parse.seconds("parse etilize")
    careful_x = careful_parse.seconds("parse xorosoft")
    careful_e = careful_parse.seconds("parse etilize")
    match = ours_match.seconds("match")
    ours_total = parse_x + parse_e + match
    pd_parse, pd_match = base_parse.seconds("parse"), base_match.seconds("match")
    pd_total = pd_parse + pd_match
    py_total = py_parse.seconds("parse") + py_match.seconds("match")
    etilize_import = imports.seconds("etilize import")
    upsert = etilize_import - parse_e - match
    write()
    write("| stage | median | Etilize rows/s | peak RSS of its process |")
    write("| --- | ---: | ---: | ---: |")
    table = (
        ("ours: parse Xorosoft CSV", parse_x, xo_rows, "Xorosoft rows/s", None),
        ("ours: parse Etilize feed", parse_e, rows, None, ours_parse.peak()),
        ("ours: match (index + match_products)", match, rows, None, ours_match.peak()),
        ("ours: parse + match", ours_total, rows, None, None),
        ("ours: Etilize text pipeline alone, no records (floor of the parse)",
         floor.seconds("floor etilize"), rows, None, floor.peak()),
        ("ours, careful readers only: parse Xorosoft CSV", careful_x, xo_rows,
         "Xorosoft rows/s", None),
        ("ours, careful readers only: parse Etilize feed", careful_e, rows, None,
         careful_parse.peak()),
        ("pandas: parse (both CSVs, group by Handle)", pd_parse, rows, None, base_parse.peak()),
        ("pandas: match", pd_match, rows, None, base_match.peak()),
        ("pandas: parse + match", pd_total, rows, None, None),
        ("pandas, python strings: parse", py_parse.seconds("parse"), rows, None,
         py_parse.peak()),
        ("pandas, python strings: match", py_match.seconds("match"), rows, None,
         py_match.peak()),
        ("pandas, python strings: parse + match", py_total, rows, None, None),
        ("ours: Xorosoft import (end to end)", imports.seconds("xorosoft import"), xo_rows,
         "Xorosoft rows/s", None),
        ("ours: Etilize import (end to end)", etilize_import, rows, None, None),
        ("ours: upsert + report (import - parse - match)", upsert, rows, None, None),
        ("ours: whole import (Xorosoft then Etilize, one process)",
         imports.seconds("xorosoft import") + etilize_import, rows, None, imports.peak()),
    )  # fmt: skip
    for label, seconds, count, unit, peak in table:
        speed = rate(count, seconds) + (f" ({unit})" if unit else "")
        peak_text = f"{peak:.0f} MB" if peak is not None else ""
        write(f"| {label} | {seconds:.2f} s | {speed} | {peak_text} |")
    write()
    write(
        "Process floors (peak RSS before the measured work): "
        f"ours parse {ours_parse.start():.0f} MB, pandas parse {base_parse.start():.0f} MB, "
        f"import after migrating {imports.start():.0f} MB"
    )
    write()
    fastest = min(pd_total, py_total)
    write(
        f"Target 1, our parse + match at least 3x the baseline's speed (its faster string "
        f"storage): {ours_total:.2f} s vs {fastest:.2f} s = {fastest / ours_total:.2f}x "
        f"({'met' if fastest / ours_total >= 3 else 'missed'}); against pandas' default "
        f"storage {pd_total:.2f} s = {pd_total / ours_total:.2f}x"
    )
    write(
        f"   parse alone {(pd_parse) / (parse_x + parse_e):.2f}x, "
        f"match alone {pd_match / match:.2f}x (pandas' default storage); the column readers "
        f"parse {(careful_x + careful_e) / (parse_x + parse_e):.2f}x as fast as the careful ones"
    )
    floor_total = parse_x + floor.seconds("floor etilize") + match
    write(
        f"   floor of this design (Xorosoft parse + the Etilize text pipeline without records + "
        f"match): {floor_total:.2f} s, at most {fastest / floor_total:.2f}x the baseline"
    )
    write(
        f"Target 2, whole import under 300 MB peak RSS: {imports.peak():.0f} MB "
        f"({'met' if imports.peak() < 300 else 'missed'}; max of runs "
        f"{max(run.peak_rss_mb for run in imports.runs):.0f} MB)"
    )


if __name__ == "__main__":
    main()
