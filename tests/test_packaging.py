"""Packaging of every workspace package: license, metadata, py.typed, declared imports, polars extra.

The metadata is read from each ``pyproject.toml`` (the built wheels are checked by
``nox -s wheels``). The import scan parses every module of a package and requires each
third-party module imported at module level to be a declared dependency of that package, so a
plugin cannot rely on a library that only another package happens to install.
"""

from __future__ import annotations

import ast
import gc
import importlib.metadata as md
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("arbot-strategies", "arbot-connectors", "arbot-storage", "arbot-ops", "examples", "packages")
VERSION = "0.2.0"
CORE_RANGE = "arbot-core>=0.2,<0.3"
URL_LABELS = {"Homepage", "Documentation", "Source", "Issues"}

#: Modules allowed to import a library their package does not declare, with the reason.
UNDECLARED_OK = {
    # the pytest plugin is loaded only by pytest (entry point group pytest11)
    ("arbot-core", "pytest", "src/arbot/testing/pytest_plugin.py"),
    # a test suite for connector authors, imported only by their test modules (see the test below)
    ("arbot-core", "pytest", "src/arbot/testing/emulator/trading_conformance.py"),
    # the fast WebSocket transport: the [fast] extra, imported only when picows is installed
    ("arbot-core", "picows", "src/arbot/connectors/ws_picows.py"),
}


def _package_dirs() -> list[Path]:
    dirs = [ROOT / "arbot-core"]
    for group in GROUPS:
        dirs += sorted(p.parent for p in (ROOT / group).glob("*/pyproject.toml"))
    return dirs


PACKAGES = _package_dirs()
IDS = [str(p.relative_to(ROOT)) for p in PACKAGES]


def _project(pkg: Path) -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((pkg / "pyproject.toml").read_text())["project"]
    return project


def _req_name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;(]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def _module_owner() -> dict[str, str]:
    """Top-level import name -> distribution, for the workspace's own packages and installed ones."""
    owner: dict[str, str] = {}
    for top, dists in md.packages_distributions().items():
        owner[top] = dists[0].lower().replace("_", "-")
    for pkg in PACKAGES:
        name = str(_project(pkg)["name"])
        for mod in (pkg / "src").glob("*/__init__.py"):
            owner[mod.parent.name] = name
    return owner


def _runtime_imports(path: Path) -> set[str]:
    """Top-level modules a file imports when it is imported (not inside functions or TYPE_CHECKING)."""
    # no garbage collection while parsing: a finalizer that formats a traceback parses source
    # itself, and CPython 3.11.7 then fails the outer parse ("AST constructor recursion depth
    # mismatch", fixed in later releases)
    gc.disable()
    try:
        tree = ast.parse(path.read_text(), str(path))
    finally:
        gc.enable()
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)

    visit(tree.body)
    return found - set(sys.stdlib_module_names) - {"__future__"}


def test_every_package_is_found() -> None:
    names = {str(_project(p)["name"]) for p in PACKAGES}
    assert {"arbot-core", "arbot", "arbot-spatial", "arbot-binance", "arbot-ccxt"} <= names


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_metadata(pkg: Path) -> None:
    project = _project(pkg)
    assert project["version"] == VERSION
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (pkg / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert "Copyright (c) 2026 The ArBot developers" in (ROOT / "LICENSE").read_text()
    classifiers = project["classifiers"]
    assert isinstance(classifiers, list)
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")], "license is the SPDX expression"
    urls = project["urls"]
    assert isinstance(urls, dict) and set(urls) == URL_LABELS
    assert all(u.startswith("https://") for u in urls.values())
    assert (pkg / "README.md").is_file()


@pytest.mark.parametrize("pkg", [p for p in PACKAGES if p.name != "arbot-core"], ids=IDS[1:])
def test_plugins_require_a_compatible_core(pkg: Path) -> None:
    deps = _project(pkg)["dependencies"]
    assert isinstance(deps, list)
    core = [d for d in deps if _req_name(d) == "arbot-core"]
    assert len(core) == 1, f"{pkg.name}: one arbot-core requirement expected, got {core}"
    assert re.sub(r"\[[^\]]*\]", "", core[0]) == CORE_RANGE


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_py_typed_in_every_module_package(pkg: Path) -> None:
    modules = [m.parent for m in (pkg / "src").glob("*/__init__.py")]
    if (pkg.parent.name, pkg.name) == ("packages", "arbot"):
        assert not modules, "the meta-package has no code"
        return
    assert modules, f"{pkg}: no package under src/"
    for mod in modules:
        assert (mod / "py.typed").is_file(), f"{mod.relative_to(ROOT)}/py.typed missing"


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_every_direct_import_is_declared(pkg: Path) -> None:
    project = _project(pkg)
    name = str(project["name"])
    deps = project["dependencies"]
    assert isinstance(deps, list)
    declared = {_req_name(d) for d in deps} | {name}
    owner = _module_owner()
    missing: list[str] = []
    for path in sorted((pkg / "src").rglob("*.py")):
        rel = str(path.relative_to(pkg))
        for top in sorted(_runtime_imports(path)):
            dist = owner.get(top)
            if dist is None:
                missing.append(f"{rel}: imports {top!r}, which no installed distribution provides")
            elif dist not in declared and (name, dist, rel) not in UNDECLARED_OK:
                missing.append(f"{rel}: imports {top!r} from {dist}, not in dependencies")
    assert not missing, f"{name}:\n" + "\n".join(missing)


def test_import_scan_sees_module_level_imports_only(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                import polars
            try:
                import orjson
            except ImportError:
                import json
            def f():
                import pytest
            """
        )
    )
    assert _runtime_imports(src) == {"numpy", "orjson"}


def test_the_meta_package_installs_every_package() -> None:
    meta = _project(ROOT / "packages" / "arbot")["dependencies"]
    assert isinstance(meta, list)
    required = {_req_name(d): d for d in meta}
    templates = {"arbot-example-plugin", "arbot-example-connector"}  # templates to copy, not parts of ArBot
    names = {str(_project(p)["name"]) for p in PACKAGES} - {"arbot"} - templates
    assert set(required) == names
    assert all(re.sub(r"\[[^\]]*\]", "", d).endswith(">=0.2,<0.3") for d in meta)
    extras = set(re.findall(r"\[([^\]]*)\]", required["arbot-core"])[0].split(","))
    assert extras == {"parquet", "fast"}  # Parquet and the picows transport come with `pip install arbot`


def test_core_reports_its_package_version() -> None:
    import arbot

    assert arbot.__version__ == _project(ROOT / "arbot-core")["version"] == md.version("arbot-core")


def test_runtime_modules_import_without_pytest() -> None:
    """The emulators serve paper runs (`emulate = true`) and `arbot emulate`: pytest is not needed."""
    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "import arbot.api, arbot.cli, arbot.testing.emulator, arbot.testing.emulator.conformance\n"
        "print('ok')"
    )
    run = [sys.executable, "-c", code]
    done = subprocess.run(run, capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_polars_is_an_extra_of_core() -> None:
    project = _project(ROOT / "arbot-core")
    deps = project["dependencies"]
    extras = project["optional-dependencies"]
    assert isinstance(deps, list) and isinstance(extras, dict)
    assert "polars" not in {_req_name(d) for d in deps}
    assert [_req_name(d) for d in extras["parquet"]] == ["polars"]


_WITHOUT_POLARS = textwrap.dedent(
    """
    import sys
    sys.modules["polars"] = None  # as if polars were not installed: importing it raises
    from pathlib import Path
    from arbot.bot import Bot
    from arbot.config import config_from_dict
    from arbot.errors import ConfigError
    from arbot.sources.replay import read_parquet_events

    base = {
        "system": {"execution_mode": "backtest"},
        "exchanges": {"enabled": ["binance", "okx"]},
        "backtest": {"seed": 1, "duration_s": 60},
        "output_dir": sys.argv[1],
    }
    summary = Bot(config_from_dict(base), plugins=[]).run_backtest()
    print("backtest ok", summary["events"] > 0)
    for what, call in [
        ("sink", lambda: Bot(config_from_dict({**base, "sinks": {"enabled": ["parquet_recorder"]}}))),
        ("replay", lambda: list(read_parquet_events([Path(sys.argv[1])]))),
    ]:
        try:
            call()
        except ConfigError as exc:
            print(what, "ConfigError:", exc)
        else:
            print(what, "no error")
    print("polars imported:", "polars" in sys.modules and sys.modules["polars"] is not None)
    """
)


def test_core_runs_without_polars_and_parquet_names_the_extra(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_POLARS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "backtest ok True" in lines
    sink = next(line for line in lines if line.startswith("sink "))
    replay = next(line for line in lines if line.startswith("replay "))
    for line in (sink, replay):
        assert "ConfigError" in line and "pip install 'arbot-core[parquet]'" in line, line
    assert "parquet_recorder" in sink
    assert "polars imported: False" in lines
