"""Checks run by ``nox -s wheels`` with the python of a fresh virtualenv outside the repository.

Usage: ``python -I check_installed.py full|minimal DIST...`` from a folder holding
``examples/spatial_backtest.toml``. Exits non-zero, listing every problem, when a check fails.

* every DIST: version 0.2.0, license ``MIT`` with the LICENSE file in its metadata, the
  classifiers, the four project URLs, plugins requiring ``arbot-core>=0.2,<0.3``, ``py.typed``
  beside each top-level module, and every top-level module importable;
* ``full``: every ``arbot`` entry point loads and the component registry builds;
* ``minimal`` (arbot-core and arbot-spatial only): polars is not installed, the reference
  backtest runs, and a configuration using the Parquet recorder exits 2 naming the extra.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import importlib.util
import subprocess
import sys
import sysconfig
from pathlib import Path

VERSION = "0.2.0"
URL_LABELS = {"Homepage", "Documentation", "Source", "Issues"}
CORE_RANGE = {">=0.2", "<0.3"}
REQUIRED_CLASSIFIERS = {"Programming Language :: Python :: 3.11", "Development Status :: 3 - Alpha"}


def _core_requirement(requires: list[str]) -> set[str] | None:
    """The specifiers of the ``arbot-core`` requirement (ignoring extras and markers), if any."""
    for req in requires:
        head = req.split(";")[0].replace(" ", "")
        if head.startswith("arbot-core"):
            spec = head[len("arbot-core") :]
            if spec.startswith("["):
                spec = spec[spec.index("]") + 1 :]
            return set(spec.strip("()").split(","))
    return None


def check_distribution(name: str) -> list[str]:
    """Problems with one installed distribution's metadata and files."""
    problems: list[str] = []
    dist = md.distribution(name)
    meta = dist.metadata
    if dist.version != VERSION:
        problems.append(f"{name}: version {dist.version}, expected {VERSION}")
    expression = meta.get_all("License-Expression") or []
    if expression != ["MIT"]:
        problems.append(f"{name}: License-Expression is {expression!r}, not ['MIT']")
    files = {str(f) for f in dist.files or ()}
    license_file = next((f for f in dist.files or () if f.name == "LICENSE"), None)
    if "LICENSE" not in (meta.get_all("License-File") or []) or license_file is None:
        problems.append(f"{name}: no LICENSE in the wheel's metadata")
    elif "Copyright (c) 2026 The ArBot developers" not in license_file.read_text():
        problems.append(f"{name}: LICENSE lacks the copyright line")
    classifiers = set(meta.get_all("Classifier") or [])
    if missing := REQUIRED_CLASSIFIERS - classifiers:
        problems.append(f"{name}: classifiers missing {sorted(missing)}")
    labels = {u.split(",")[0].strip() for u in meta.get_all("Project-URL") or []}
    if missing := URL_LABELS - labels:
        problems.append(f"{name}: project URLs missing {sorted(missing)}")
    requires = dist.requires or []
    if name != "arbot-core":
        spec = _core_requirement(requires)
        if spec != CORE_RANGE:
            problems.append(f"{name}: requires arbot-core {spec}, expected >=0.2,<0.3")
    tops = sorted({f.split("/")[0] for f in files if f.endswith(".py") and "/" in f})
    for top in tops:
        if f"{top}/py.typed" not in files:
            problems.append(f"{name}: {top}/py.typed missing")
        try:
            importlib.import_module(top)
        except Exception as exc:
            problems.append(f"{name}: import {top} failed: {exc!r}")
    print(f"{name} {dist.version}: modules {tops or '-'}, {len(requires)} requirements, {len(labels)} URLs")
    return problems


def check_full() -> list[str]:
    """Every entry point loads; the registry builds."""
    from arbot.plugins import PluginHost

    host = PluginHost()
    components = host.components()
    problems = [str(f) for f in host.failures]
    kinds: dict[str, int] = {}
    for c in components:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    print(f"{len(components)} components: {kinds}")
    return problems


def _arbot(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "arbot"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300, check=False)


def check_minimal() -> list[str]:
    """No polars; the reference backtest runs; Parquet names the extra."""
    problems: list[str] = []
    if importlib.util.find_spec("polars") is not None:
        problems.append("polars is installed by arbot-core + arbot-spatial alone")
    done = _arbot("backtest", "examples/spatial_backtest.toml", "--no-progress")
    if done.returncode != 0:
        problems.append(f"reference backtest exited {done.returncode}: {done.stderr[-2000:]}")
    else:
        print("reference backtest without polars: exit 0")
    config = Path("examples/parquet_without_polars.toml")
    text = Path("examples/spatial_backtest.toml").read_text()
    config.write_text(text.replace('enabled = ["sqlite_journal"]', 'enabled = ["parquet_recorder"]'))
    done = _arbot("backtest", str(config), "--no-progress")
    if done.returncode != 2 or "arbot-core[parquet]" not in done.stderr:
        problems.append(f"Parquet without polars: exit {done.returncode}, stderr {done.stderr[-500:]!r}")
    else:
        print(f"Parquet without polars: exit 2, {done.stderr.strip().splitlines()[-1]}")
    return problems


def site_packages_mb() -> float:
    """Size of this virtualenv's site-packages, in MB (what the install costs on disk)."""
    root = Path(sysconfig.get_paths()["purelib"])
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1e6


def main(argv: list[str]) -> int:
    """Run the checks; print every problem; 1 if any."""
    mode, names = argv[0], argv[1:]
    problems = [p for n in names for p in check_distribution(n)]
    problems += check_full() if mode == "full" else check_minimal()
    print(f"site-packages of this {mode} install: {site_packages_mb():.0f} MB")
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    print(f"{len(names)} distributions checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
