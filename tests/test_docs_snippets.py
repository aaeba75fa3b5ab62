"""Every ```python block of the guides (docs/**/*.md and README.md) runs, so a wrong signature fails.

Each block runs in its own interpreter, in a temporary folder that holds a copy of the
repository's example configurations (``examples/*.toml``) so the relative paths the guides use
work, and writes nothing into the checkout. A block is skipped only when the line above it is
``<!-- no-test: <reason> -->`` with a reason; a block under ``<!-- continues -->`` runs after the
python block before it in the same file (a guide that builds on its previous step). ```toml
and ```yaml blocks must at least parse.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
NO_TEST = re.compile(r"<!--\s*no-test:\s*(?P<reason>\S.*?)\s*-->\s*$")
CONTINUES = re.compile(r"<!--\s*continues\s*-->\s*$")
TIMEOUT_S = 180


@dataclass(frozen=True)
class Snippet:
    """One fenced code block of a Markdown file."""

    file: Path
    line: int
    lang: str
    code: str
    skip_reason: str | None
    #: the code of the earlier python block(s) this one continues, run first
    prelude: str = ""

    @property
    def id(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


def extract(path: Path) -> list[Snippet]:
    """The fenced blocks of ``path``, with the line each starts on and its opt-out reason."""
    text = path.read_text()
    found: list[Snippet] = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        before = [ln for ln in text[: m.start()].splitlines() if ln.strip()]
        above = before[-1] if before else ""
        marker = NO_TEST.search(above)
        lang = m["lang"].lower()
        prelude = ""
        if CONTINUES.search(above):
            previous = [s for s in found if s.lang == lang]
            if not previous:
                raise ValueError(f"{path}:{line}: <!-- continues --> but no earlier {lang} block")
            prelude = previous[-1].prelude + previous[-1].code
        found.append(Snippet(path, line, lang, m["body"], marker["reason"] if marker else None, prelude))
    return found


SNIPPETS = [s for f in DOC_FILES for s in extract(f)]
PYTHON = [s for s in SNIPPETS if s.lang in {"python", "py"}]
TOML = [s for s in SNIPPETS if s.lang == "toml"]
YAML = [s for s in SNIPPETS if s.lang in {"yaml", "yml"}]


def test_the_guides_have_python_snippets() -> None:
    assert len(PYTHON) >= 4, [s.id for s in PYTHON]


def test_extract_reads_markers_and_lines(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "# t\n\n```python\nprint(1)\n```\n\n<!-- no-test: needs a live venue -->\n"
        "```python\nprint(2)\n```\n<!-- no-test: -->\n```python\nprint(3)\n```\n"
        "<!-- continues -->\n```python\nprint(4)\n```\n"
    )
    got = extract(doc)
    assert [(s.line, s.code, s.skip_reason, s.prelude) for s in got] == [
        (3, "print(1)\n", None, ""),
        (8, "print(2)\n", "needs a live venue", ""),
        (12, "print(3)\n", None, ""),  # a marker without a reason does not opt out
        (16, "print(4)\n", None, "print(3)\n"),
    ]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with the example configurations, as the guides' relative paths expect."""
    (tmp_path / "examples").mkdir()
    for toml in (ROOT / "examples").glob("*.toml"):
        shutil.copy(toml, tmp_path / "examples")
    return tmp_path


@pytest.mark.parametrize("snippet", PYTHON, ids=[s.id for s in PYTHON])
def test_python_snippet_runs(snippet: Snippet, workdir: Path) -> None:
    if snippet.skip_reason:
        pytest.skip(f"{snippet.id}: {snippet.skip_reason}")
    script = workdir / "snippet.py"
    script.write_text(snippet.prelude + snippet.code)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"{snippet.id} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


@pytest.mark.parametrize("snippet", TOML, ids=[s.id for s in TOML])
def test_toml_snippet_parses(snippet: Snippet) -> None:
    tomllib.loads(snippet.code)


@pytest.mark.parametrize("snippet", YAML, ids=[s.id for s in YAML])
def test_yaml_snippet_parses(snippet: Snippet) -> None:
    assert yaml.safe_load(snippet.code) is not None
