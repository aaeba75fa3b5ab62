"""The points of a sweep: grid values, ranges, windows, seeds, random draws, their order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from arbot.errors import ConfigError
from arbot_sweep.grid import parse_axis, parse_seeds, parse_window, plan, split_values


def test_values_split_at_top_level_commas_only():
    assert split_values('1, 2.5,"a,b",[1,2],{x = 1, y = 2}') == [
        "1",
        "2.5",
        '"a,b"',
        "[1,2]",
        "{x = 1, y = 2}",
    ]


def test_axis_values_are_toml_like_set():
    axis = parse_axis('risk.rules=["exposure","balance"],[]')
    assert axis.key == "risk.rules"
    assert axis.values == (["exposure", "balance"], [])
    assert parse_axis("executor.on_divergence=hold").values == ("hold",)  # a bare word is a string


def test_ranges_are_inclusive_and_exact():
    assert parse_axis("detector.spatial.min_spread_pct=0.1:0.3:0.1").values == (0.1, 0.2, 0.3)
    assert parse_axis("executor.latency_ms=10:40:10,100").values == (10, 20, 30, 40, 100)
    assert parse_seeds("1:3,7") == (1, 2, 3, 7)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("executor.latency_ms", "expected KEY=V1,V2"),
        ("executor.latency_ms=1,,2", "empty value"),
        ("executor.latency_ms=5:1", "LO <= HI"),
        ("executor.latency_ms=1,1", "given twice"),
        ("output_dir=a,b", "cannot be swept"),
    ],
)
def test_bad_axes_are_config_errors(option: str, message: str):
    with pytest.raises(ConfigError, match=message):
        parse_axis(option)


def test_windows():
    w = parse_window("2026-01-05T00:00/2026-01-05T06:00:00Z")
    assert w.start == datetime(2026, 1, 5, tzinfo=UTC) and w.end == datetime(2026, 1, 5, 6, tzinfo=UTC)
    assert w.overrides() == ("backtest.start=2026-01-05T00:00:00Z", "backtest.end=2026-01-05T06:00:00Z")
    with pytest.raises(ConfigError, match="END must be after START"):
        parse_window("2026-01-05T06:00/2026-01-05T00:00")
    with pytest.raises(ConfigError, match="not an ISO 8601"):
        parse_window("monday/tuesday")


def test_runs_are_the_product_in_command_line_order():
    a, b = parse_axis("a.x=1,2"), parse_axis("b.y=p,q,r")
    p = plan([a, b], seeds=[5, 6])
    assert p.points_total == 6 and len(p.runs) == 12
    assert [r.index for r in p.runs] == list(range(12))
    assert p.runs[0].overrides == ("a.x=1", "b.y=p", "backtest.seed=5")
    assert p.runs[1].overrides == ("a.x=1", "b.y=p", "backtest.seed=6")
    assert p.runs[2].params == {"a.x": 1, "b.y": "q", "backtest.seed": 5}
    assert p.runs[-1].params == {"a.x": 2, "b.y": "r", "backtest.seed": 6}
    assert p.param_keys == ["a.x", "b.y", "backtest.seed"]


def test_windows_are_an_axis_of_the_points():
    w1, w2 = (
        parse_window("2026-01-01T00:00/2026-01-01T01:00"),
        parse_window("2026-01-02T00:00/2026-01-02T01:00"),
    )
    p = plan([parse_axis("a.x=1,2")], windows=[w1, w2])
    assert [(r.params["a.x"], r.params["backtest.start"].day) for r in p.runs] == [
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
    ]


def test_random_draw_is_seeded_and_distinct():
    axes = [parse_axis("a.x=0:9"), parse_axis("b.y=0:9")]
    one = plan(axes, sample=7, sample_seed=3)
    again = plan(axes, sample=7, sample_seed=3)
    other = plan(axes, sample=7, sample_seed=4)
    points = [(r.params["a.x"], r.params["b.y"]) for r in one.runs]
    assert points == [(r.params["a.x"], r.params["b.y"]) for r in again.runs]
    assert points != [(r.params["a.x"], r.params["b.y"]) for r in other.runs]
    assert len(set(points)) == 7 and points == sorted(points)
    assert len(plan(axes, sample=500).runs) == 100  # more than there are: every point once


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"axes": [parse_axis("a.x=1"), parse_axis("a.x=2")]}, "given twice"),
        ({"axes": [parse_axis("backtest.seed=1,2")], "seeds": [1]}, "seeds once"),
        (
            {
                "axes": [parse_axis("backtest.start=2026-01-01T00:00:00Z")],
                "windows": [parse_window("2026-01-01T00:00/2026-01-01T01:00")],
            },
            "data ranges once",
        ),
    ],
)
def test_conflicting_options(kwargs: dict, message: str):  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message):
        plan(**kwargs)
