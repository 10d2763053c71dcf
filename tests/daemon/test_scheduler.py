"""The scheduler's arithmetic and its loop: intervals, cron, working hours, a plan on disk,
missed runs after sleep."""

from __future__ import annotations

import datetime as dt
import threading
import time

from daemon.service.backoff import Backoff
from daemon.service.scheduler import Plan, Scheduler, next_due, within_hours


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    return dt.datetime(y, mo, d, h, mi).timestamp()


def test_backoff_doubles_with_jitter_up_to_the_cap():
    lo = Backoff(5, 300, rng=lambda: 0.0)
    hi = Backoff(5, 300, rng=lambda: 1.0)
    assert [lo.next_delay() for _ in range(8)] == [2.5, 5, 10, 20, 40, 80, 150, 150]
    assert [hi.next_delay() for _ in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    hi.reset()
    assert hi.next_delay() == 5


def test_interval_counts_from_the_last_run_and_cron_gets_jitter():
    t = local(2025, 3, 4, 9, 0)
    assert next_due("scheduled", "15m", "", t, rng=lambda: 0.5, jitter=30) == t + 900
    cron = next_due("scheduled", "weekdays at 10:00", "", t, rng=lambda: 0.5, jitter=30)
    assert cron == local(2025, 3, 4, 10, 0) + 15  # Tuesday 10:00 plus half the jitter
    assert next_due("manual", "15m", "", t, rng=lambda: 0.5, jitter=30) is None
    assert next_due("realtime", "15m", "", t, rng=lambda: 0.5, jitter=30) is None


def test_working_hours_move_a_run_to_the_next_window():
    assert within_hours(local(2025, 3, 4, 12), "08:00-18:00") == local(2025, 3, 4, 12)
    assert within_hours(local(2025, 3, 4, 19), "08:00-18:00") == local(2025, 3, 5, 8)
    assert within_hours(local(2025, 3, 4, 6), "08:00-18:00") == local(2025, 3, 4, 8)
    # a window across midnight
    assert within_hours(local(2025, 3, 4, 23), "22:00-06:00") == local(2025, 3, 4, 23)
    assert within_hours(local(2025, 3, 4, 12), "22:00-06:00") == local(2025, 3, 4, 22)
    due = next_due("scheduled", "1h", "08:00-18:00", local(2025, 3, 4, 17, 30),
                   rng=lambda: 1.0, jitter=30)
    assert due == local(2025, 3, 5, 8) + 30  # moved to the morning, spread by the jitter


def make(tmp_path, clock, rng=lambda: 0.5, tick=60.0, jitter=30.0, on_due=lambda: True):
    return Scheduler(Plan(tmp_path / "schedule.json"), on_due, tick=tick, jitter=jitter,
                     rng=rng, clock=clock)


def test_the_due_time_is_kept_on_disk_and_a_missed_one_runs_at_start(tmp_path):
    now = [local(2025, 3, 4, 9)]
    s = make(tmp_path, lambda: now[0])
    first = s.start_plan("scheduled", "1h", "")
    assert now[0] <= first <= now[0] + 30  # never planned: soon, spread by jitter
    s.replan("scheduled", "1h", "")
    assert s.due == now[0] + 3600
    # restarted 10 minutes later: the plan on disk still holds
    now[0] += 600
    s2 = make(tmp_path, lambda: now[0])
    assert s2.start_plan("scheduled", "1h", "") == local(2025, 3, 4, 10)
    # the computer was off past the due time: the run happens at start, with jitter
    now[0] = local(2025, 3, 4, 15)
    s3 = make(tmp_path, lambda: now[0], rng=lambda: 0.2)
    assert s3.start_plan("scheduled", "1h", "") == now[0] + 6
    # a changed schedule is planned afresh
    s4 = make(tmp_path, lambda: now[0], rng=lambda: 0.0)
    assert s4.start_plan("scheduled", "15m", "") == now[0]
    assert s4.start_plan("manual", "15m", "") is None


def test_paused_survives_a_restart(tmp_path):
    s = make(tmp_path, time.time)
    s.start_plan("scheduled", "1h", "")
    s.set_paused(True)
    s2 = make(tmp_path, time.time)
    s2.start_plan("scheduled", "1h", "")
    assert s2.paused


def test_the_loop_fires_on_time(tmp_path):
    fired: list[float] = []
    done = threading.Event()

    def on_due() -> bool:
        fired.append(time.time())
        done.set()
        return True

    s = make(tmp_path, time.time, tick=5, on_due=on_due)
    stop = threading.Event()
    th = threading.Thread(target=s.run, args=(stop,), daemon=True)
    th.start()
    s._set(("scheduled", "10s", ""), time.time() + 0.4)
    due = s.due
    assert done.wait(5)
    stop.set()
    s.wake.set()
    th.join(2)
    assert due is not None and due <= fired[0] < due + 0.3
    assert s.due is None  # the engine replans when the sync is over


def test_a_wake_from_sleep_runs_the_missed_sync_with_jitter(tmp_path):
    """The wall clock jumps past the due time (the computer slept): the run happens once,
    after a random delay, instead of at the stale due time."""
    offset = [0.0]
    fired: list[float] = []
    done = threading.Event()

    def clock() -> float:
        return time.time() + offset[0]

    def on_due() -> bool:
        fired.append(clock())
        done.set()
        return True

    s = make(tmp_path, clock, rng=lambda: 1.0, tick=0.2, jitter=0.5, on_due=on_due)
    stop = threading.Event()
    s._set(("scheduled", "1h", ""), clock() + 3)
    th = threading.Thread(target=s.run, args=(stop,), daemon=True)
    th.start()
    time.sleep(0.3)
    woke = clock() + 3600  # an hour asleep
    offset[0] += 3600
    assert done.wait(5)
    stop.set()
    s.wake.set()
    th.join(2)
    assert len(fired) == 1
    assert woke + 0.4 <= fired[0] < woke + 1.5  # jitter of 0.5 s (rng 1.0) after waking
