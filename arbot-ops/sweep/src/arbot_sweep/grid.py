"""The points of a sweep: parameter grid × data windows (optionally a random sample) × seeds.

A ``--grid`` option is ``KEY=V1,V2,...``: ``KEY`` is a dotted configuration key, the same as
``arbot backtest --set``, and each value a TOML value (a bare word is a string). Commas inside
brackets or quotes do not split (``risk.rules=["exposure","balance"],[]`` is two values). A value
``LO:HI`` or ``LO:HI:STEP`` of numbers is the inclusive range LO, LO+STEP, ... ≤ HI (step 1 unless
given), computed in decimal so ``0.1:0.3:0.1`` is exactly 0.1, 0.2, 0.3.

The order of the runs is fixed by the command line: the product of the grid values (first key
outermost), then the windows, then the seeds; ``--random N`` keeps N points of the grid × window
product, drawn with a seeded generator, in that same order. The same command gives the same runs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from arbot.config import parse_override
from arbot.errors import ConfigError

__all__ = ["GridAxis", "Run", "SweepPlan", "Window", "parse_axis", "parse_seeds", "parse_window", "plan"]

#: Keys the sweep itself sets for every run.
RESERVED = {
    "output_dir": "each run's folder is chosen by --out",
    "system.execution_mode": "a sweep backtests",
}

_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*:\s*(-?\d+(?:\.\d+)?)\s*(?::\s*(\d+(?:\.\d+)?)\s*)?$")
_MAX_RANGE = 100_000
#: Most runs of one sweep (its plan is built in memory before any runs); --random samples more.
MAX_RUNS = 100_000


@attrs.frozen
class GridAxis:
    """One ``--grid`` option: a dotted key and its values (TOML text and the parsed value)."""

    key: str
    texts: tuple[str, ...]
    values: tuple[Any, ...]


@attrs.frozen
class Window:
    """A data range of the backtest: ``backtest.start`` and ``backtest.end``."""

    start: datetime
    end: datetime

    def overrides(self) -> tuple[str, str]:
        """The two ``--set`` assignments of this window (ISO 8601, UTC)."""
        return (f"backtest.start={_iso(self.start)}", f"backtest.end={_iso(self.end)}")


@attrs.frozen
class Run:
    """One backtest of the sweep: its number, its parameters (key → value) and its overrides."""

    index: int
    params: dict[str, Any]
    overrides: tuple[str, ...]


@attrs.frozen
class SweepPlan:
    """Every run of a sweep, in order, and what chose them."""

    axes: tuple[GridAxis, ...]
    windows: tuple[Window, ...]
    seeds: tuple[int, ...]
    points_total: int
    runs: tuple[Run, ...]

    @property
    def param_keys(self) -> list[str]:
        """The parameter columns of the results: grid keys, then window and seed when swept."""
        keys = [a.key for a in self.axes]
        if self.windows:
            keys += ["backtest.start", "backtest.end"]
        if self.seeds:
            keys.append("backtest.seed")
        return keys


def _iso(ts: datetime) -> str:
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def split_values(text: str) -> list[str]:
    """Split ``text`` at commas that are outside brackets, braces and quotes."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _expand_range(text: str) -> list[str] | None:
    """The values of ``LO:HI[:STEP]`` as TOML text, or None when ``text`` is not a range."""
    m = _RANGE.match(text)
    if m is None:
        return None
    try:
        lo, hi = Decimal(m.group(1)), Decimal(m.group(2))
        step = Decimal(m.group(3)) if m.group(3) else Decimal(1)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal numbers
        return None
    if step <= 0 or hi < lo:
        raise ConfigError(f"range {text!r}: needs LO <= HI and a positive STEP")
    count = int((hi - lo) / step) + 1
    if count > _MAX_RANGE:
        raise ConfigError(f"range {text!r} has {count:,} values (at most {_MAX_RANGE:,})")
    integral = all("." not in (g or "") for g in m.groups())
    return [str(int(v)) if integral else str(v) for v in (lo + step * i for i in range(count))]


def parse_axis(option: str) -> GridAxis:
    """Parse one ``--grid KEY=V1,V2,...`` option (ranges expanded, values parsed as TOML)."""
    key, sep, rest = option.partition("=")
    key = key.strip()
    if not sep or not rest.strip():
        raise ConfigError(f"--grid {option!r}: expected KEY=V1,V2,... (e.g. backtest.duration_s=600,1200)")
    texts: list[str] = []
    for part in split_values(rest):
        if not part:
            raise ConfigError(f"--grid {option!r}: empty value")
        texts += _expand_range(part) or [part]
    values = []
    for text in texts:
        path, value = parse_override(f"{key}={text}")
        values.append(value)
    dotted = ".".join(path)
    if dotted in RESERVED:
        raise ConfigError(f"--grid {dotted}: cannot be swept ({RESERVED[dotted]})")
    if len(set(texts)) != len(texts):
        raise ConfigError(f"--grid {option!r}: a value is given twice")
    return GridAxis(dotted, tuple(texts), tuple(values))


def parse_seeds(text: str) -> tuple[int, ...]:
    """``--seeds 1,2,3`` or ``--seeds 1:8`` (inclusive) or both mixed: the seeds, in order."""
    seeds: list[int] = []
    for part in split_values(text):
        for item in _expand_range(part) or [part]:
            try:
                seeds.append(int(item))
            except ValueError:
                raise ConfigError(f"--seeds {text!r}: {item!r} is not an integer") from None
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds {text!r}: a seed is given twice")
    return tuple(seeds)


def _instant(text: str, option: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--window {option!r}: {text.strip()!r} is not an ISO 8601 instant") from None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def parse_window(option: str) -> Window:
    """``--window START/END`` (ISO 8601 instants, no zone = UTC): one data range."""
    start, sep, end = option.partition("/")
    if not sep:
        raise ConfigError(f"--window {option!r}: expected START/END, e.g. 2026-01-05T00:00/2026-01-05T06:00")
    window = Window(_instant(start, option), _instant(end, option))
    if window.end <= window.start:
        raise ConfigError(f"--window {option!r}: END must be after START")
    return window


def _point(axes: Sequence[GridAxis], windows: Sequence[Window], number: int) -> tuple[list[int], int]:
    """The value index of every axis and the window index of point ``number`` (mixed radix,
    first axis most significant, window least)."""
    w = number % max(1, len(windows))
    number //= max(1, len(windows))
    picks: list[int] = []
    for axis in reversed(axes):
        picks.append(number % len(axis.values))
        number //= len(axis.values)
    return picks[::-1], w


def plan(
    axes: Sequence[GridAxis],
    windows: Sequence[Window] = (),
    seeds: Sequence[int] = (),
    sample: int | None = None,
    sample_seed: int = 0,
) -> SweepPlan:
    """Every run: the grid × windows product (or ``sample`` points of it) × ``seeds``."""
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise ConfigError("--grid: a key is given twice (give all its values in one --grid)")
    if seeds and "backtest.seed" in keys:
        raise ConfigError("--grid backtest.seed and --seeds: give the seeds once")
    if windows and {"backtest.start", "backtest.end"} & set(keys):
        raise ConfigError("--grid backtest.start/end and --window: give the data ranges once")
    total = 1
    for axis in axes:
        total *= len(axis.values)
    total *= max(1, len(windows))
    if sample is not None and sample < 1:
        raise ConfigError(f"--random {sample}: needs at least 1")
    count = min(total, sample or total) * max(1, len(seeds))
    if count > MAX_RUNS:
        raise ConfigError(f"the sweep has {count:,} runs (at most {MAX_RUNS:,}): fewer values or --random N")
    numbers = (
        range(total)
        if sample is None or sample >= total
        else sorted(random.Random(sample_seed).sample(range(total), sample))
    )
    runs: list[Run] = []
    for number in numbers:
        picks, w = _point(axes, windows, number)
        params: dict[str, Any] = {a.key: a.values[i] for a, i in zip(axes, picks, strict=True)}
        overrides = [f"{a.key}={a.texts[i]}" for a, i in zip(axes, picks, strict=True)]
        if windows:
            params["backtest.start"], params["backtest.end"] = windows[w].start, windows[w].end
            overrides += windows[w].overrides()
        for seed in seeds or (None,):
            run_params = dict(params)
            run_overrides = list(overrides)
            if seed is not None:
                run_params["backtest.seed"] = seed
                run_overrides.append(f"backtest.seed={seed}")
            runs.append(Run(len(runs), run_params, tuple(run_overrides)))
    return SweepPlan(tuple(axes), tuple(windows), tuple(seeds), total, tuple(runs))
