"""How long, and how much memory, checking each hostile upload takes.

    .venv/bin/python bench/hostile_uploads.py

Prints, per file: the first located error, seconds, and the peak of Python memory
(tracemalloc) plus the growth of the process's resident set. The goal: a clear error within
5 s and 200 MB each. A valid questionnaire (the shipped BAN form) is the baseline.

The second table holds hostile forms that are valid (a 999-term sum, 1,000 calculations each
reading the next, a ladder of 120, three repeats of 40 inside one another): each is checked,
compiled, and a response to it evaluated whole and scored, within the same bounds.
"""
from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.scoring import score_response  # noqa: E402
from app.services.questionnaires import check  # noqa: E402
from app.xlsform.compiled import CompiledForm  # noqa: E402
from app.xlsform.source import to_xlsx  # noqa: E402
from app.xlsform.state import FormState  # noqa: E402
from tests.xlsform_builders import BOUNDED, HOSTILE, SHIPPED  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, data: bytes, evaluate: bool = False) -> None:
    rss_before = _rss_mb()
    tracemalloc.start()
    started = time.perf_counter()
    definition, issues = check(data)
    errors = [i for i in issues if not i.warning]
    outcome = f"{errors[0].code} @ {errors[0].where()}" if errors else "valid"
    if evaluate and not errors:
        form = CompiledForm(definition)
        state = FormState(form, {"n": "1", "q1": "a" * 3000 + "b"}, whole=True)
        score_response(form, state)
        state.progress()
        outcome += f", evaluated ({len(state.failures)} values cannot be computed)"
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{name:<18} {len(data) / 1048576:7.2f} MB  {elapsed:6.3f} s  peak {peak / 1048576:7.1f} MB"
          f"  rss +{_rss_mb() - rss_before:6.1f} MB  {outcome}")


def main() -> None:
    print(f"{'file':<18} {'size':>10}  {'time':>8}  {'python peak':>15}  {'rss growth':>12}  first error")
    measure("ban (valid)", to_xlsx(SHIPPED / "ban_monitoring"), evaluate=True)
    for name, build in HOSTILE.items():
        measure(name, build())
    print()
    print("valid but hostile: checked, compiled, a response evaluated whole and scored")
    for name, build in BOUNDED.items():
        measure(name, build(), evaluate=True)


if __name__ == "__main__":
    main()
