"""The HTML report: structure (html.parser), self-containment, and rendering in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from greenopt.batch.html_report import build_report
from greenopt.cli import main


class _Outline(HTMLParser):
    """Collects tags, ids, table rows and external references of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.external: list[str] = []
        self._table: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "table":
            self._table = a.get("id")
        if tag == "tr" and self._table and not self.tags[-2:-1] == ["thead"]:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1
        for key in ("src", "href", "xlink:href"):
            value = a.get(key) or ""
            if value and not value.startswith("#"):
                self.external.append(value)
        if tag in ("script", "link", "iframe", "img", "object", "embed"):
            self.external.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .conftest import make_corpus

    tmp = tmp_path_factory.mktemp("report")
    corpus = make_corpus(tmp / "corpus")
    assert main(["analyze", str(corpus), "--out", str(tmp / "out"), "--jobs", "1"]) == 0
    return tmp / "out" / "report.html"


def test_report_has_headline_charts_and_tables(report: Path) -> None:
    page = _Outline()
    page.feed(report.read_text(encoding="utf-8"))
    assert page.tags.count("svg") == 3
    for chart in ("chart-passes", "chart-savings", "chart-directories"):
        assert chart in page.ids
    assert {"headline", "top-functions", "rule-codes", "statuses", "errors"} <= set(page.ids)
    assert page.rows["top-functions"] >= 2 and page.rows["errors"] >= 6
    text = " ".join(page.text)
    for word in ("files", "functions", "opportunities", "predicted total saving", "python2"):
        assert word in text
    assert page.external == []  # nothing loaded from outside the file
    assert "http://" not in report.read_text() and "https://" not in report.read_text()


def test_corpus_strings_are_escaped() -> None:
    row = {
        "path": "<script>alert(1)</script>.py",
        "directory": "d",
        "status": "syntax",
        "message": "<b>bad</b>",
        "reused": 0,
    }
    html = build_report([row], [], [], None)
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "&lt;b&gt;bad" in html


def test_report_without_predictions_says_so() -> None:
    fn = {
        "path": "a/x.py",
        "directory": "a",
        "qualname": "f",
        "line": 1,
        "n_opportunities": 1,
        "codes": "GO101",
        "predicted_saving": None,
        "prediction_source": "none",
    }
    opp = {
        "path": "a/x.py",
        "qualname": "f",
        "pass_name": "vectorize",
        "code": "GO101",
        "message": "m",
        "predicted_ratio": None,
        "predicted_lo": None,
        "predicted_hi": None,
    }
    files = [{"path": "a/x.py", "directory": "a", "status": "ok", "message": "", "reused": 0}]
    html = build_report(files, [fn], [opp], None)
    assert "no predicted savings" in html and "by number of opportunities" in html
    assert html.count("<svg") == 3


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    base = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*base, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = _Outline()
    page.feed(dom.stdout)
    assert page.tags.count("svg") == 3 and "top-functions" in page.ids
    shot = tmp_path / "report.png"
    run = subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
