"""The capacity notebook and the functions it calls (cxlab.loadtest.capacity_view)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import papermill
from cxlab.loadtest.capacity import plan_verdict, write_report
from cxlab.loadtest.capacity_view import (
    capacity_verdict,
    example_report,
    latency_figure,
    newest_report,
    steps_table,
    throughput_figure,
)

PROJECT = Path(__file__).resolve().parents[1]
NOTEBOOK = PROJECT / "notebooks" / "ops" / "capacity.ipynb"


def _printed(notebook: Path) -> str:
    """What the executed notebook's cells printed (not their source)."""
    cells = nbformat.read(notebook, as_version=4).cells
    return "".join(output.get("text", "") for cell in cells if cell.cell_type == "code"
                   for output in cell.outputs)


def _report(invitations: int, rate: float) -> dict:
    """A report as ``cxlab capacity`` writes it: two steps that held, nothing broke."""
    document = example_report()
    document["steps"] = document["steps"][:2]
    document["sustained"] = document["steps"][1]
    document["limit_reached"] = False
    document["plan"] = plan_verdict(invitations, rate, document["sustained"]["responses_per_s"])
    return document


def test_the_verdict_says_the_plan_and_the_limit_in_plain_words():
    verdict = capacity_verdict(_report(1_000_000, 50))
    assert "Highest sustained: 22.0 responses/s (10 users" in verdict
    assert "the limit was not reached" in verdict
    assert "1,000,000 invitations at 50% in the first hour — no, it will not hold." in verdict
    assert "yes, it will hold" in capacity_verdict(_report(1_000, 20))


def test_the_table_and_charts_have_one_row_and_point_per_step():
    document = example_report()
    table = steps_table(document)
    assert table["users"].tolist() == [5, 10, 20, 40]
    assert list(throughput_figure(document).data[1].y) == [11.0, 22.0, 42.0, 48.0]
    assert [trace.name for trace in latency_figure(document).data] == ["p50", "p95", "p99"]


def test_the_newest_report_is_chosen(tmp_path):
    assert newest_report(tmp_path) is None
    older, newer = tmp_path / "capacity.json", tmp_path / "march" / "capacity.json"
    newer.parent.mkdir()
    older.write_text("{}")
    newer.write_text("{}")
    os.utime(older, (time.time() - 60, time.time() - 60))
    assert newest_report(tmp_path) == newer


def test_the_notebook_renders_a_written_report_with_its_verdict(var_dir, monkeypatch, tmp_path):
    write_report(_report(1_000_000, 50), var_dir / "reports" / "ops")
    monkeypatch.setenv("CXLAB_VAR_DIR", str(var_dir))  # the kernel inherits it
    output = tmp_path / "capacity.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(output), cwd=str(NOTEBOOK.parent),
                               progress_bar=False)
    text = _printed(output)
    assert str(var_dir / "reports" / "ops" / "capacity.json") in text
    assert "1,000,000 invitations at 50% in the first hour — no, it will not hold." in text
    assert "Highest sustained: 22.0 responses/s" in text
    assert "EXAMPLE" not in text


def test_the_notebook_shows_an_example_on_a_fresh_machine(var_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("CXLAB_VAR_DIR", str(var_dir))
    output = tmp_path / "capacity.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(output), cwd=str(NOTEBOOK.parent),
                               progress_bar=False)
    text = _printed(output)
    assert "synthetic EXAMPLE report" in text and "yes, it will hold" in text
