"""Where the runs execute: a local process pool, or a Ray cluster. No scheduler of our own.

Both yield each :class:`~arbot_sweep.runner.RunOutcome` as it completes; the caller orders them
by run number, so the results do not depend on which worker finished first.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from arbot.errors import ArbotError, ConfigError

from arbot_sweep.runner import RunOutcome, RunTask, run_backtest_task

__all__ = ["RAY_EXTRA", "require_ray", "run_local", "run_on_ray"]

#: How to install what ``--ray`` needs.
RAY_EXTRA = "pip install 'arbot-sweep[ray]'"


def run_local(tasks: Sequence[RunTask], workers: int) -> Iterator[RunOutcome]:
    """Run ``tasks`` on ``workers`` local processes (fresh interpreters: ``spawn``)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_backtest_task, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                task = futures[future]
                try:
                    yield future.result()
                except BrokenProcessPool as exc:  # a worker died (killed, out of memory): the run failed
                    yield RunOutcome(
                        task.index, False, f"worker process died: {exc}", {}, None, task.output_dir, 0.0
                    )
        except BaseException:  # interrupted (Ctrl-C) or closed early: start no further run
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def require_ray() -> Any:
    """The ``ray`` module; ConfigError naming the extra when Ray is not installed."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(f"--ray needs Ray, which is not installed ({exc}): {RAY_EXTRA}") from None
    return ray


def run_on_ray(tasks: Sequence[RunTask], address: str, workers: int | None) -> Iterator[RunOutcome]:
    """Run ``tasks`` as Ray tasks (one CPU each) on the cluster at ``address``.

    ``auto`` connects to the local cluster if one runs (or to ``RAY_ADDRESS``), else starts one
    on this machine with ``workers`` CPUs (all cores when None); any other value is the address
    of a running cluster (``HOST:PORT`` or ``ray://HOST:PORT``). With ``workers`` at most that
    many runs are in flight at once.
    """
    ray = require_ray()
    try:
        if address != "auto":
            ray.init(address=address, log_to_driver=False)
        else:
            try:  # a cluster already running on this machine (or at RAY_ADDRESS)
                ray.init(address="auto", log_to_driver=False)
            except ConnectionError:
                ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        raise ArbotError(f"cannot start or reach Ray at {address!r}: {type(exc).__name__}: {exc}") from None
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_backtest_task)
        limit = workers or len(tasks) or 1
        waiting = list(tasks)
        running: dict[Any, RunTask] = {}
        while waiting or running:
            while waiting and len(running) < limit:
                task = waiting.pop(0)
                running[remote.remote(task)] = task
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                task = running.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as exc:  # the worker died or Ray lost the task: that run failed
                    error = f"Ray task failed: {type(exc).__name__}: {exc}"
                    yield RunOutcome(task.index, False, error, {}, None, task.output_dir, 0.0)
    finally:
        ray.shutdown()
