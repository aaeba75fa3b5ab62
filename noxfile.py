"""Sessions: lint, typecheck, tests (3.11), tests_all (3.11-3.13), demo, bench, build."""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.11", "3.12", "3.13"]
BENCH_PEERS = ["ccxt", "sortedcontainers", "statsmodels", "orjson", "nautilus_trader"]


def packages() -> list[str]:
    """Every installable package of the workspace: core first, then plugins and examples."""
    found = ["arbot-core"]
    for group in ("arbot-strategies", "arbot-connectors", "arbot-storage", "arbot-ops"):
        for pyproject in sorted((ROOT / group).glob("*/pyproject.toml")):
            found.append(str(pyproject.parent.relative_to(ROOT)))
    example = ROOT / "examples" / "arbot-example-plugin" / "pyproject.toml"
    if example.exists():
        found.append(str(example.parent.relative_to(ROOT)))
    return found


def test_dirs() -> list[str]:
    """Every package's tests/ folder plus the cross-package tests/."""
    dirs = [f"{p}/tests" for p in packages() if (ROOT / p / "tests").is_dir()]
    if (ROOT / "tests").is_dir():
        dirs.append("tests")
    return dirs


def install_all(session: nox.Session) -> None:
    """Install every package (editable) with its test extras."""
    args: list[str] = []
    for p in packages():
        args += ["-e", f"{p}[test]" if _has_test_extra(p) else p]
    session.install(*args)
    session.install("pytest>=8", "hypothesis>=6.100")


def _has_test_extra(pkg: str) -> bool:
    text = (ROOT / pkg / "pyproject.toml").read_text()
    return "[project.optional-dependencies]" in text and "\ntest = " in text


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff over the whole repository."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on arbot-core."""
    session.install("mypy==2.4.1", "-e", "arbot-core[test]")
    session.run("mypy", "arbot-core/src/arbot")


def _tests(session: nox.Session) -> None:
    install_all(session)
    session.run("pytest", *test_dirs(), *session.posargs)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Every package's tests and the cross-package tests, on Python 3.11."""
    _tests(session)


@nox.session(python=PYTHONS)
def tests_all(session: nox.Session) -> None:
    """The same tests on Python 3.11, 3.12 and 3.13."""
    _tests(session)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The reference bot: a spatial backtest on the simulator, embedded stores only."""
    session.install("-e", "arbot-core", "-e", "arbot-strategies/spatial")
    session.run("arbot", "backtest", "examples/spatial_backtest.toml")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Every benchmarks/bench_*.py, peers installed in this session only."""
    install_all(session)
    session.install(*BENCH_PEERS)
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.log(f"== {script.name}")
        session.run("python", str(script))


@nox.session(python="3.11")
def build(session: nox.Session) -> None:
    """Build a wheel of every package into dist/."""
    session.install("build")
    for p in packages():
        session.run("python", "-m", "build", "--wheel", "--outdir", "dist", p)
