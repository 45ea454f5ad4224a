"""The report and its audit page, opened in a real headless Chromium.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
messages separated by NUL bytes on file descriptors 3 and 4), so the test needs nothing but the
standard library and a Chromium binary; nothing is downloaded. On Debian: ``apt-get install
chromium`` (``.ci/run`` does this when it runs as root). Without a Chromium the tests skip.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import CORPUS, Qualcode
from tests.test_report import SECTIONS

NARROW, WIDE = 420, 1400  # a phone held upright, a laptop


def chromium_path() -> str | None:
    """QUALCODE_CHROMIUM if set, else the first Chromium or Chrome on PATH."""
    given = os.environ.get("QUALCODE_CHROMIUM")
    if given:
        return given
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """A headless Chromium spoken to over the DevTools protocol on a pipe."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="qualcode-chromium-")
        to_chromium, from_us = os.pipe()
        from_chromium, to_us = os.pipe()

        def wire() -> None:  # in the child: fd 3 is what we write, fd 4 what it writes
            a = fcntl.fcntl(to_chromium, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(to_us, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            preexec_fn=wire,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chromium)
        os.close(to_us)
        self.write, self.read = from_us, from_chromium
        self.buffer = b""
        self.last_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 90
        while True:
            reply = self._next(deadline)
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 60) -> dict:
        """The first event ``method`` of ``session`` not yet consumed (waiting for it)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            self.events.append(self._next(deadline))

    def _next(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer")
            ready, _, _ = select.select([self.read], [], [], left)
            if ready:
                chunk = os.read(self.read, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url: str, width: int, height: int = 900) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        return Page(self, session, width)

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.process.wait(timeout=20)
        except Exception:
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self.write)
            os.close(self.read)
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser: Chromium, session: str, width: int) -> None:
        self.browser, self.session, self.width = browser, session, width

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def js(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads the page has logged."""
        out = []
        for e in self.browser.events:
            if e.get("sessionId") != self.session:
                continue
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif e["method"] == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"].get("text", "exception"))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(p["entry"]["text"])
        return out

    def screenshot(self, path: Path, height: int | None = None, top: int = 0) -> Path:
        """The page from ``top``, ``height`` pixels of it (to its end by default)."""
        full = self.js("document.documentElement.scrollHeight") - top
        clip = {"x": 0, "y": top, "width": self.width, "height": min(height or full, full)}
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip | {"scale": 1}},
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def pdf(self, path: Path) -> Path:
        """Printed on A4, as a person printing it would get it (print styles applied)."""
        printed = self.send(
            "Page.printToPDF",
            {
                "paperWidth": 8.27,
                "paperHeight": 11.69,
                "printBackground": True,
                "preferCSSPageSize": True,  # the page's own @page size and margins
            },
        )
        path.write_bytes(base64.b64decode(printed["data"]))
        return path


# A4 less the report's @page margins (12 mm each side, 14 mm top and bottom), at 96 px an inch
PRINT_WIDTH = round((210 - 24) / 25.4 * 96)
PRINT_HEIGHT = round((297 - 28) / 25.4 * 96)

# Elements that reach past the right edge of the viewport without a scrolling box between them
# and the page (a table in a .scroll wrapper may be wider than the screen: it scrolls itself).
SPILLS = """(() => {
  const limit = document.documentElement.clientWidth + 1;
  const out = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (e.getBoundingClientRect().right <= limit) continue;
    let boxed = false;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') { boxed = true; break; }
    }
    if (!boxed) out.push(e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
  }
  return out.slice(0, 10);
})()"""

BROKEN_ANCHORS = """[...document.querySelectorAll('a[href^="#"]')]
  .map(a => a.getAttribute('href').slice(1))
  .filter(id => !document.getElementById(decodeURIComponent(id)))"""

chromium = chromium_path()
needs_chromium = pytest.mark.skipif(
    chromium is None,
    reason="no Chromium found (set QUALCODE_CHROMIUM, or on Debian: apt-get install chromium)",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The demo corpus with its three human coders' codings and a topic model, reported: the
    report a team gets from `qualcode run`, less the machine coder (slow to train, and not
    what the browser checks)."""
    folder = tmp_path_factory.mktemp("browser")
    qc = Qualcode(folder / "project.db")
    for args in (
        ("init",),
        ("ingest", CORPUS),
        *(
            ("codings", "import", CORPUS / "codings" / f"{coder}.csv", "--coder", coder)
            for coder in ("coder-a", "coder-b", "gold")
        ),
        ("themes", "fit"),
        ("report", "--out-dir", folder / "report"),
    ):
        result = qc(*args)
        assert result.exit_code == 0, (args, result.output)
    return folder / "report"


@pytest.fixture(scope="module")
def browser():
    if chromium is None:
        pytest.skip("no Chromium")
    b = Chromium(chromium)
    yield b
    b.close()


def _checked(page: Page) -> None:
    """What every page must do at every width: load without errors, resolve every in-page
    link, and never make the page scroll sideways."""
    assert page.errors() == []
    assert page.js(BROKEN_ANCHORS) == []
    assert page.js("document.documentElement.scrollWidth") <= page.width
    assert page.js(SPILLS) == []


@needs_chromium
@pytest.mark.parametrize("width", [NARROW, WIDE])
def test_the_report_reads_at_any_width(report, browser, tmp_path, width):
    page = browser.open((report / "index.html").as_uri(), width)
    _checked(page)
    for section in SECTIONS:
        shown = page.js(
            f"(() => {{ const s = document.getElementById('{section}');"
            " return s && s.tagName === 'SECTION' && s.querySelector('h2').offsetHeight > 0 })()"
        )
        assert shown, section
    # at a glance: every difference has its quotes beside it
    findings = page.js(
        "[...document.querySelectorAll('#glance .finding')]"
        ".map(f => f.querySelectorAll('.evidence blockquote').length)"
    )
    assert len(findings) >= 4, findings
    assert min(findings) >= 1, findings
    # the quote appendix is folded: a small part of the page, not most of it (68,000 px before)
    quotes = page.js("document.getElementById('quotes').offsetHeight")
    total = page.js("document.documentElement.scrollHeight")
    assert quotes < 0.2 * total, (quotes, total)
    # one chart per family, as wide as the screen allows, with text a person can read
    charts = page.js(
        "[...document.querySelectorAll('.family-charts svg')]"
        ".map(s => s.getBoundingClientRect().width)"
    )
    assert len(charts) == 5
    assert min(charts) >= (300 if width == NARROW else 200), charts
    assert sum(charts) >= (0 if width == NARROW else 1000), charts
    font = page.js(
        "Math.min(...[...document.querySelectorAll('.family-charts svg text')]"
        ".map(t => parseFloat(getComputedStyle(t).fontSize)))"
    )
    assert font >= 11
    # a matrix cell's link opens the folded quotes it points at
    target = page.js("document.querySelector('#matrix td.heat a').getAttribute('href')")
    page.js(f"location.hash = '{target}'")
    assert page.js(f"document.querySelector('{target}').closest('details').open")
    shot = page.screenshot(tmp_path / f"report-{width}.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
@pytest.mark.parametrize("width", [NARROW, WIDE])
def test_the_audit_page_reads_at_any_width(report, browser, tmp_path, width):
    page = browser.open((report / "agreement-human.html").as_uri(), width)
    _checked(page)
    assert page.js("document.querySelector('a[href=\"index.html\"]') !== null")
    rows = page.js("document.querySelectorAll('#codes ~ .scroll tbody tr').length")
    assert rows == 42
    page.screenshot(tmp_path / f"audit-{width}.png")


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@needs_chromium
def test_the_report_prints(report, browser, tmp_path):
    page = browser.open((report / "index.html").as_uri(), PRINT_WIDTH, PRINT_HEIGHT)
    page.send("Emulation.setEmulatedMedia", {"media": "print"})
    # every table fits the paper: none is cut off at its last columns
    cut = page.js(
        "[...document.querySelectorAll('table')]"
        ".filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
        ".map(t => t.querySelector('caption, th').textContent.slice(0, 60))"
    )
    assert cut == []
    # the first page carries the findings, not just the title: nothing before the first
    # finding forces a new page, and the finding starts within the first page's height
    forced = page.js(
        "(() => { const first = document.querySelector('#glance .finding');"
        " return [...document.body.querySelectorAll('*')]"
        ".filter(e => e.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING)"
        ".filter(e => { const s = getComputedStyle(e);"
        " return ['page', 'left', 'right'].includes(s.breakBefore)"
        " || ['page', 'left', 'right'].includes(s.breakAfter) })"
        ".map(e => e.tagName + '#' + e.id) })()"
    )
    assert forced == []
    glance = page.js("document.querySelector('#glance .finding').getBoundingClientRect().top")
    assert glance < PRINT_HEIGHT * 0.8
    pdf = page.pdf(tmp_path / "report.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-"
    assert 6 <= _pages(pdf) <= 30  # 56 pages before the quotes were folded


def screenshots(report: Path, out: Path) -> list[Path]:
    """The README's two pictures: the top of the report at 1400 px, and the family charts and
    matrix at 420 px. `python -m tests.test_browser REPORT_FOLDER docs`"""
    b = Chromium(chromium or "chromium")
    try:
        wide = b.open((report / "index.html").as_uri(), WIDE)
        narrow = b.open((report / "index.html").as_uri(), NARROW)
        top = narrow.js("document.getElementById('matrix').getBoundingClientRect().top")
        return [
            wide.screenshot(out / "report-1400.png", height=1000),
            narrow.screenshot(out / "report-420.png", height=1300, top=int(top) - 10),
        ]
    finally:
        b.close()


if __name__ == "__main__":
    import sys

    for path in screenshots(Path(sys.argv[1]), Path(sys.argv[2])):
        print(path, path.stat().st_size)
