"""How long ``python -c "import qa"`` takes (target: under 0.3 s), the median of fresh interpreters.

    python bench/import_time.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, publish  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-record", action="store_true", help="print, do not append to RESULTS.md")
    args = parser.parse_args()
    timings = {}
    for code in ("pass", "import qa"):
        runs = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
            runs.append(time.perf_counter() - started)
        timings[code] = statistics.median(runs)
    lines = [f"Median of {args.runs} fresh interpreters: `python -c \"pass\"` {timings['pass']:.3f} s, "
             f"`python -c \"import qa\"` **{timings['import qa']:.3f} s** (target < 0.3 s; the package alone: "
             f"{timings['import qa'] - timings['pass']:.3f} s)."]
    publish("import qa (bench/import_time.py)", lines, not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
