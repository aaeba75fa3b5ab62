"""Configuration, CLI and bad input as a user meets them: YAML, overrides, config show/validate,
exit codes, logging, secrets never printed, bad captures named by file and line."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict, load_config
from arbot.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parent.parent
ARBOT = [sys.executable, "-m", "arbot"]
SECRETS = ("AKIA-k3y-0001", "s3cr3t-value-0002", "pa55phrase-0003", "hunter2-0004")


def arbot(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ARBOT_TRACE")}
    full.update(env or {})
    return subprocess.run([*ARBOT, *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=full)


def _small(tmp_path: Path, extra: str = "", name: str = "bot.toml") -> Path:
    f = tmp_path / name
    f.write_text(
        'symbols = ["BTC/USDT"]\noutput_dir = "out"\n[system]\nexecution_mode = "backtest"\n'
        '[exchanges]\nenabled = ["binance", "okx"]\n[backtest]\nduration_s = 60\n'
        "[portfolio]\ninitial = { USDT = 100000, BTC = 2 }\n[detector.spatial]\nenabled = true\n" + extra
    )
    return f


# -- YAML --------------------------------------------------------------------------------


def test_the_trd_default_yaml_loads_as_written():
    cfg = load_config(ROOT / "tests" / "trd_default.yaml")
    assert cfg.exchanges.enabled == ["binance", "okx", "bybit", "upbit", "kucoin"]
    assert cfg.detector["triangular"]["paths"] == [["BTC/USDT", "ETH/BTC", "ETH/USDT"]]
    assert cfg.risk.cooldown_minutes == 30 and cfg.alerts.thresholds.opportunity_min_pct == 0.5
    assert cfg.feature_section("alerts.telegram") == {"enabled": True, "chat_id": "", "bot_token": ""}
    assert cfg.feature_section("database.postgres")["port"] == 5432
    assert cfg.feature_section("rebalancer")["imbalance_threshold_pct"] == 30


def test_yaml_copy_of_the_reference_bot_gives_the_same_numbers(tmp_path):
    keys = ("events", "detected", "executed", "rejected", "pnl_usd", "fees_usd", "sharpe", "rejected_by_rule")
    results = []
    for name in ("spatial_backtest.toml", "spatial_backtest.yaml"):
        cfg = load_config(ROOT / "examples" / name, ["backtest.duration_s=300"])
        cfg.output_dir = str(tmp_path / name)
        results.append({k: Bot(cfg, mode="backtest").run_backtest()[k] for k in keys})
    assert results[0] == results[1] and results[0]["executed"] > 0


def test_broken_yaml_names_file_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("system:\n  execution_mode: paper\n   log_level: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml is not valid YAML \(line \d+, column \d+\)"):
        load_config(f)


# -- config checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"portfolio": {"fx_per_usd": {"KRW": 0}}},
            "portfolio.fx_per_usd = {'KRW': 0}: Value error, rate of KRW",
        ),
        ({"portfolio": {"initial": {"USDT": 0}}}, "no capital"),
        ({"sinks": {"enabled": [], "path": "x"}}, "sinks.path = 'x': unknown key"),
        ({"system": {"on_component_error": "ignore"}}, "system.on_component_error = 'ignore'"),
    ],
)
def test_bad_values_are_refused_with_the_key(data, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(data)
    assert message in str(exc.value)


def test_unknown_component_names_the_key_and_the_file(tmp_path):
    f = _small(tmp_path, '[sinks]\nenabled = ["sqlite_journl"]\n')
    with pytest.raises(ConfigError) as exc:
        Bot(load_config(f))
    assert str(f) in str(exc.value) and "sinks.enabled names 'sqlite_journl'" in str(exc.value)
    assert "available: " in str(exc.value) and "sqlite_journal" in str(exc.value)


def test_an_unknown_venue_is_an_error_not_invented(tmp_path):
    f = _small(tmp_path)
    f.write_text(f.read_text().replace('["binance", "okx"]', '["binance", "binanse"]'))
    with pytest.raises(ConfigError, match=r"'binanse'.*no installed connector serves"):
        Bot(load_config(f))


def test_enabling_a_feature_whose_plugin_is_missing_names_the_package(tmp_path):
    f = _small(tmp_path, "[rebalancer]\nenabled = true\ncheck_interval_minutes = 5\n")
    # the rebalancer plugin may be installed here: its entry point is switched off, as if absent
    res = arbot("backtest", str(f), "--no-progress", env={"ARBOT_DISABLE_PLUGINS": "rebalancer"})
    assert res.returncode == 2
    # the section name in brackets is printed as written (no markup eats it)
    assert (
        "[rebalancer] enabled = true, but no installed plugin implements it: pip install arbot-rebalancer"
        in (res.stderr)
    )


# -- CLI -----------------------------------------------------------------------------------


def test_python_dash_m_arbot_and_exit_codes(tmp_path):
    assert arbot("--version").stdout.startswith("arbot, version")
    assert arbot("backtest", str(tmp_path / "missing.toml")).returncode == 2
    assert arbot("no-such-command").returncode == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[risk]\nmax_drawdown_pct = 'lots'\n")
    res = arbot("config", "validate", str(bad))
    assert res.returncode == 2 and "risk.max_drawdown_pct = 'lots'" in res.stderr
    res = arbot("config", "validate", str(ROOT / "examples" / "spatial_backtest.toml"))
    assert res.returncode == 0 and "valid (source simulator, 1 detector(s)" in res.stdout


def test_json_to_stdout_seed_and_set_overrides(tmp_path):
    f = _small(tmp_path)
    res = arbot(
        "backtest", str(f), "--no-progress", "--json", "-", "--seed", "11", "--set", "backtest.duration_s=30"
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["exit_code"] == 0 and summary["events"] > 0
    assert "opportunities detected" in res.stderr  # the table went to stderr
    res2 = arbot(
        "backtest", str(f), "--no-progress", "--json", "-", "--seed", "12", "--set", "backtest.duration_s=30"
    )
    assert json.loads(res2.stdout)["events"] > 0
    assert json.loads(res2.stdout)["run_id"] != summary["run_id"]  # the seed changed the run
    bad = arbot("backtest", str(f), "--set", "nonsense")
    assert bad.returncode == 2 and "expected KEY=VALUE" in bad.stderr


def test_progress_total_is_the_exact_event_count(tmp_path):
    cfg = load_config(_small(tmp_path))
    bot = Bot(cfg, mode="backtest")
    hint = bot.source.size_hint()
    assert bot.run_backtest()["events"] == hint


def test_json_log_format_and_levels(tmp_path):
    f = _small(tmp_path)
    res = arbot("--log-format", "json", "-v", "backtest", str(f), "--no-progress")
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stderr.splitlines() if line.startswith("{")]
    assert any(r["message"].startswith("bot built:") and r["level"] == "INFO" for r in lines)
    quiet = arbot("--log-level", "ERROR", "backtest", str(f), "--no-progress")
    assert "bot built" not in quiet.stderr


# -- secrets ---------------------------------------------------------------------------------


def test_no_secret_in_any_output_of_a_traced_debug_run(tmp_path):
    f = _small(
        tmp_path,
        f'[connectors.binance]\napi_key = "{SECRETS[0]}"\napi_secret = "{SECRETS[1]}"\n'
        f'passphrase = "{SECRETS[2]}"\n[database.postgres]\npassword = "{SECRETS[3]}"\n',
    )
    env = {"ARBOT_TRACE_HOOKS": "1"}
    outputs = []
    for args in (
        ("-vv", "backtest", str(f), "--no-progress", "--json", str(tmp_path / "s.json")),
        ("--log-format", "json", "-vv", "config", "show", str(f)),
        ("config", "show", str(f), "--format", "json"),
        ("config", "validate", str(f)),
        ("plugins",),
    ):
        res = arbot(*args, env=env)
        assert res.returncode == 0, res.stderr
        outputs += [res.stdout, res.stderr]
    assert "arbot hook: arbot_configure(config=<BotConfig>)" in "".join(outputs)  # the trace ran
    assert "api_secret: '********'" in "".join(outputs)
    # a validation error that quotes the value of a secret key
    bad = _small(tmp_path, f'[sinks.sqlite_journal]\napi_secret = "{SECRETS[1]}"\n', name="bad.toml")
    res = arbot("backtest", str(bad), env=env)
    assert res.returncode == 2 and "sinks.sqlite_journal.api_secret = '********'" in res.stderr
    outputs += [res.stdout, res.stderr, (tmp_path / "s.json").read_text()]
    outputs.append((tmp_path / "out" / "journal.sqlite").read_bytes().decode("latin-1"))
    for secret in SECRETS:
        assert not any(secret in text for text in outputs), secret


LIVE_SECRETS = ("dsnpw-0005", "querypw-0006", "envpw-0007", "wdkey-0008", "wdsecret-0009", "wdpass-0010")


def test_no_secret_in_any_output_of_a_traced_debug_live_run_with_the_postgres_journal(tmp_path):
    """A traced (-vv) live run against the venue emulators, its journal in PostgreSQL (password in
    the DSN, as ?password= and in POSTGRES_PASSWORD) and withdrawal keys configured: no output,
    log, summary, run file or journal row holds a secret; ``arbot stop`` and ``config show`` neither."""
    for pkg in ("arbot_binance", "arbot_okx", "arbot_bybit", "arbot_postgres", "arbot_rebalancer"):
        pytest.importorskip(pkg)
    import asyncio
    import uuid

    from arbot_postgres.testing import SERVER, admin, query

    db = f"arbot_hostile_secrets_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(f"CREATE DATABASE {db}"))
    try:
        host = SERVER.replace("postgres@", f"postgres:{LIVE_SECRETS[0]}@")
        example = (ROOT / "examples" / "live_emulated.toml").read_text()
        cfg = tmp_path / "live.toml"
        cfg.write_text(
            example.replace(
                'output_dir = "runs/live_emulated"', f'output_dir = "{tmp_path / "run"}"'
            ).replace("live_trading_opt_in = true", 'live_trading_opt_in = true\njournal = "postgres"')
            + f'[sinks.postgres]\ndsn = "{host}/{db}?password={LIVE_SECRETS[1]}&application_name=hostile"\n'
            'journal_scope = "secrets-1"\n[rebalancer]\nenabled = true\n[rebalancer.withdraw_keys.okx]\n'
            f'api_key = "{LIVE_SECRETS[3]}"\nsecret = "{LIVE_SECRETS[4]}"\npassphrase = "{LIVE_SECRETS[5]}"\n'
        )
        env = {"ARBOT_TRACE_HOOKS": "1", "ARBOT_LIVE_TRADING": "1", "POSTGRES_PASSWORD": LIVE_SECRETS[2]}
        outputs = []
        for args in (
            ("-vv", "run", str(cfg), "--duration", "4"),  # its summary goes to stdout
            ("--log-format", "json", "-vv", "config", "show", str(cfg)),
            ("config", "show", str(cfg), "--format", "json"),
            ("-vv", "stop", str(cfg), "--clear"),
        ):
            res = arbot(*args, env=env)
            assert res.returncode == 0, res.stderr
            outputs += [res.stdout, res.stderr]
        down = f"postgresql://postgres:{LIVE_SECRETS[0]}@127.0.0.1:1/{db}?password={LIVE_SECRETS[1]}"
        res = arbot("-vv", "stop", str(cfg), "--set", f'sinks.postgres.dsn="{down}"', env=env)
        assert (
            res.returncode == 2
            and "cannot open the execution journal postgresql://postgres@127.0.0.1:1/" in res.stderr
        )
        outputs += [res.stdout, res.stderr]  # an error naming the DSN of a server that is down
        text = "".join(outputs)
        assert "arbot_open_journal returned <PostgresJournal>" in text  # traced, journal in PostgreSQL
        assert "executed" in outputs[0]  # the run's summary
        outputs += [p.read_bytes().decode("latin-1") for p in (tmp_path / "run").rglob("*") if p.is_file()]
        dsn = f"{SERVER}/{db}"
        tables = [r[0] for r in query(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        assert query(dsn, "SELECT count(*) FROM exec_orders")[0][0] > 0  # the run traded, journaled
        outputs += [str(r[0]) for t in tables for r in query(dsn, f"SELECT t::text FROM {t} t")]
        for secret in LIVE_SECRETS:
            assert not any(secret in out for out in outputs), secret
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))


# -- bad input -------------------------------------------------------------------------------


def _replay_bot(tmp_path: Path, path: Path, fmt: str = "capture") -> Bot:
    return Bot(
        config_from_dict(
            {
                "symbols": ["BTC/USDT"],
                "output_dir": str(tmp_path / "out"),
                "system": {"execution_mode": "backtest"},
                "exchanges": {"enabled": ["binance"]},
                "source": {
                    "name": "replay",
                    "replay": {"format": fmt, "venue": "binance", "path": [str(path)]},
                },
                "detector": {},
                "sinks": {"enabled": []},
            }
        ),
        mode="backtest",
    )


def test_wrong_shape_json_in_a_capture_names_file_and_line(tmp_path):
    pytest.importorskip("arbot_binance")
    f = tmp_path / "cap.ndjson"
    depth = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 1, "u": 2, "b": "oops", "a": []}
    bad = {"local_ts": 2.0, "dir": "in", "msg": {"stream": "btcusdt@depth@100ms", "data": depth}}
    f.write_text(json.dumps({"local_ts": 0.5, "dir": "open"}) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError, match=r"cap\.ndjson:2: "):
        _replay_bot(tmp_path, f).run_backtest()


def test_a_gz_that_is_not_gzip_or_is_truncated_is_named(tmp_path):
    pytest.importorskip("arbot_binance")
    fake = tmp_path / "fake.ndjson.gz"
    fake.write_text('{"local_ts": 1, "dir": "open"}\n')
    with pytest.raises(DataError, match=r"fake\.ndjson\.gz.*not a readable gzip file"):
        _replay_bot(tmp_path, fake).run_backtest()
    cut = tmp_path / "cut.ndjson.gz"
    whole = gzip.compress(b"".join(b'{"local_ts": %d, "dir": "open"}\n' % i for i in range(20_000)))
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"cut\.ndjson\.gz.*(corrupt or truncated)"):
        _replay_bot(tmp_path, cut).run_backtest()


def test_parquet_with_the_wrong_schema_is_named(tmp_path):
    pl = pytest.importorskip("polars")
    f = tmp_path / "other.parquet"
    pl.DataFrame({"a": [1, 2], "ts": [1.0, 2.0]}).write_parquet(f)
    with pytest.raises(
        DataError, match=r"other\.parquet: not an ArBot recording: missing columns exchange_ts"
    ):
        _replay_bot(tmp_path, f, fmt="parquet").run_backtest()
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match=r"junk\.parquet: not a readable Parquet file"):
        _replay_bot(tmp_path, junk, fmt="parquet").run_backtest()


def test_an_empty_capture_warns_and_counts(tmp_path):
    pytest.importorskip("arbot_binance")
    f = tmp_path / "empty.ndjson"
    f.write_text(json.dumps({"local_ts": 1.0, "dir": "open"}) + "\n")
    summary = _replay_bot(tmp_path, f).run_backtest()
    assert summary["warnings"] and "produced no events" in summary["warnings"][0]
    assert summary["source"]["lines"] == 1 and summary["source"]["lines_skipped"] == 1


def test_bad_capture_through_the_cli_exits_1_with_file_and_line(tmp_path):
    pytest.importorskip("arbot_binance")
    cap = tmp_path / "c.ndjson"
    cap.write_text(
        '{"local_ts": 1.0, "dir": "in", "msg": {"stream": "btcusdt@depth", "data": '
        '{"e": "depthUpdate", "U": 1, "u": 2, "b": 5, "a": []}}}\n'
    )
    f = tmp_path / "r.toml"
    f.write_text(
        'symbols = ["BTC/USDT"]\n[system]\nexecution_mode = "backtest"\n[exchanges]\nenabled = ["binance"]\n'
        f'[source]\nname = "replay"\n[source.replay]\nformat = "capture"\nvenue = "binance"\n'
        f'path = ["{cap}"]\n'
        "[sinks]\nenabled = []\n"
    )
    res = arbot("backtest", str(f), "--no-progress")
    assert res.returncode == 1 and f"{cap}:1:" in res.stderr, res.stderr


def test_journal_rows_survive_a_stop(tmp_path):
    """Sanity: after a normal run the journal holds what the summary counted."""
    f = _small(tmp_path)
    res = arbot("backtest", str(f), "--no-progress", "--json", str(tmp_path / "s.json"))
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    db = sqlite3.connect(tmp_path / "out" / "journal.sqlite")
    assert db.execute("select count(*) from arbitrage_signals").fetchone()[0] == summary["detected"]


def test_backtest_start_and_end_bound_the_run(tmp_path):
    base = _small(tmp_path)
    whole = Bot(load_config(base), mode="backtest")
    events = list(whole.source.events())
    first, last = events[0].ts, events[-1].ts
    lo, hi = first + 15.0, first + 40.0

    def iso(ts: float) -> str:
        import datetime as dt

        return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()

    # the simulator keeps its own start here, so the stream is the one above, only windowed
    pinned = f"source.simulator.start_ts={whole.source.start}"
    cfg = load_config(base, [f'backtest.start="{iso(lo)}"', f'backtest.end="{iso(hi)}"', pinned])
    bot = Bot(cfg, mode="backtest")
    summary = bot.run_backtest()
    expected = sum(1 for ev in events if lo <= ev.ts < hi)
    assert 0 < summary["events"] == expected < len(events)
    assert summary["counters"]["events_before_start"] == sum(1 for ev in events if ev.ts < lo)
    assert last > hi
    # the simulator starts its market at [backtest] start when its own start_ts is not set
    sim = Bot(load_config(base, [f'backtest.start="{iso(lo)}"']), mode="backtest")
    assert next(iter(sim.source.events())).ts >= lo
    with pytest.raises(ConfigError, match="must be after start"):
        load_config(base, [f'backtest.start="{iso(hi)}"', f'backtest.end="{iso(lo)}"'])
