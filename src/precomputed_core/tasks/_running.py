"""Running a list of independent calls: as Dask tasks, or on this process's threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from ..image import progress_bar
from ._arrays import dask_modules, on_dask, progress_for

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["run_calls"]


def run_calls(
    calls: list[tuple[Callable[..., int], tuple[Any, ...]]],
    local: Callable[[tuple[Any, ...]], int],
    *,
    scheduler: Any,
    threads: int,
    progress: bool,
    desc: str,
) -> int:
    """The calls as Dask tasks (a distributed client is active, or ``scheduler`` is given),
    else on a pool of ``threads`` threads in this process running ``local``."""
    if on_dask(scheduler):
        dask, _ = dask_modules()
        tasks = [dask.delayed(function, pure=False)(*args) for function, args in calls]
        with progress_for(dask, progress):
            done = (
                dask.compute(*tasks, scheduler=scheduler) if scheduler is not None else dask.compute(*tasks)
            )
        return int(sum(done))
    total = 0
    bar = progress_bar(len(calls), desc=desc, enabled=progress and len(calls) > 1)
    pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="precomputed-tasks")
    with bar:
        futures = [pool.submit(local, args) for _, args in calls]
        try:
            for future in as_completed(futures):
                total += future.result()
                bar.update(1)
        finally:
            # On the first error the calls not yet started are dropped, not run to the end.
            pool.shutdown(wait=True, cancel_futures=True)
    return total
