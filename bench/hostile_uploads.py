"""How long, and how much memory, checking each hostile upload takes.

    .venv/bin/python bench/hostile_uploads.py

Prints, per file: the first located error, seconds, and the peak of Python memory
(tracemalloc) plus the growth of the process's resident set. The goal: a clear error within
5 s and 200 MB each. A valid questionnaire (the shipped BAN form) is the baseline.
"""
from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.services.questionnaires import check  # noqa: E402
from app.xlsform.source import to_xlsx  # noqa: E402
from tests.xlsform_builders import HOSTILE, SHIPPED  # noqa: E402


def measure(name: str, data: bytes) -> None:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    _definition, issues = check(data)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    errors = [i for i in issues if not i.warning]
    first = f"{errors[0].code} @ {errors[0].where()}" if errors else "valid"
    print(f"{name:<18} {len(data) / 1048576:7.2f} MB  {elapsed:6.3f} s  peak {peak / 1048576:7.1f} MB"
          f"  rss +{(rss_after - rss_before) / 1024:6.1f} MB  {first}")


def main() -> None:
    print(f"{'file':<18} {'size':>10}  {'time':>8}  {'python peak':>15}  {'rss growth':>12}  first error")
    measure("ban (valid)", to_xlsx(SHIPPED / "ban_monitoring"))
    for name, build in HOSTILE.items():
        measure(name, build())


if __name__ == "__main__":
    main()
