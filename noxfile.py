"""Sessions: lint, typecheck, tests (3.11), tests_all (3.11-3.13), demo, bench, build, wheels, docs."""

from __future__ import annotations

import shutil
import tempfile
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
    for group in ("arbot-strategies", "arbot-connectors", "arbot-storage", "arbot-ops", "examples"):
        for pyproject in sorted((ROOT / group).glob("*/pyproject.toml")):
            found.append(str(pyproject.parent.relative_to(ROOT)))
    return found


#: Meta-packages: metadata only, built and installed from wheels (not part of the editable set).
META_PACKAGES = ["packages/arbot"]


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
    session.install("mypy==2.4.1", "-e", "arbot-core[test,fast]")
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


def _build_wheels(session: nox.Session, outdir: Path) -> list[Path]:
    """Build a wheel of every package and meta-package into ``outdir``; the wheels built."""
    session.install("build", "hatchling>=1.27")
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("arbot*.whl"):
        old.unlink()
    for p in [*packages(), *META_PACKAGES]:
        build = ["python", "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir), p]
        session.run(*build, silent=True)
    return sorted(outdir.glob("arbot*.whl"))


@nox.session(python="3.11")
def build(session: nox.Session) -> None:
    """Build a wheel of every package (and the ``arbot`` meta-package) into dist/."""
    for wheel in _build_wheels(session, ROOT / "dist"):
        session.log(f"built {wheel.name}")


def _fresh_venv(session: nox.Session, where: Path) -> Path:
    """A new virtualenv at ``where`` (outside the repository); its python."""
    session.run("python", "-m", "venv", str(where), silent=True)
    python = where / "bin" / "python"
    session.run(str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip", external=True)
    return python


@nox.session(python="3.11")
def wheels(session: nox.Session) -> None:
    """Install the built wheels into fresh virtualenvs outside the repository and use them.

    1. ``arbot`` (the meta-package: everything) and the example templates: metadata of every
       distribution (license, classifiers, URLs, requirements, py.typed), every plugin loads,
       ``arbot plugins`` and the reference backtest run from a folder outside the clone.
    2. ``arbot-core`` + ``arbot-spatial`` only (the README's install): polars is absent, the
       reference backtest still runs, and a Parquet sink fails with exit 2 naming the extra.
    """
    work = Path(tempfile.mkdtemp(prefix="arbot-wheels-"))
    try:
        wheelhouse = work / "wheelhouse"
        built = _build_wheels(session, wheelhouse)
        names = [w.name.split("-")[0].replace("_", "-") for w in built]
        session.log(f"built {len(built)} wheels: {', '.join(names)}")
        check = str(ROOT / "tests" / "packaging" / "check_installed.py")
        run_dir = work / "run"
        (run_dir / "examples").mkdir(parents=True)
        shutil.copy(ROOT / "examples" / "spatial_backtest.toml", run_dir / "examples")

        full = _fresh_venv(session, work / "venv-full")
        pip = [str(full), "-m", "pip", "install", "--quiet", "--find-links", str(wheelhouse)]
        session.run(*pip, *names, external=True)  # "arbot" (everything) plus the templates
        arbot = str(full.parent / "arbot")
        with session.chdir(run_dir):
            session.run(str(full), "-I", check, "full", *names, external=True)
            session.run(arbot, "plugins", external=True)
            session.run(arbot, "backtest", "examples/spatial_backtest.toml", "--no-progress", external=True)

        minimal = _fresh_venv(session, work / "venv-minimal")
        pip = [str(minimal), "-m", "pip", "install", "--quiet", "--find-links", str(wheelhouse)]
        session.run(*pip, "arbot-core", "arbot-spatial", external=True)
        with session.chdir(run_dir):
            session.run(str(minimal), "-I", check, "minimal", "arbot-core", "arbot-spatial", external=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


DOCS_REQUIREMENTS = [
    "mkdocs>=1.6,<2",
    "mkdocs-material>=9.5",
    "mkdocstrings[python]>=0.26",
    "mkdocs-gen-files>=0.5",
]


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """The documentation site, built strict (warnings are errors) into site/.

    Every package is installed so the configuration reference lists the settings of every
    component; the reference pages are generated from the code (hook specs, components, events,
    trading, the pydantic configuration models, the CLI).
    """
    install_all(session)
    session.install(*DOCS_REQUIREMENTS)
    quiet = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}  # banners, not warnings
    site = str(ROOT / "build" / "site")
    session.run("mkdocs", "build", "--strict", "--site-dir", site, *session.posargs, env=quiet)
