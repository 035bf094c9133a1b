"""``import workbench`` against a bare ``python``: the public API is lazy, so the ratio stays small.

Both run as fresh interpreters, interleaved, and the medians are compared.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

RUNS = 15


def _time(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main() -> dict[str, float]:
    # An installed package has its bytecode compiled (pip does it); an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would recompile on every start and time the compiler instead.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import workbench"], check=True, env=env)
    bare, imported = [], []
    for _ in range(RUNS):
        bare.append(_time("pass"))
        imported.append(_time("import workbench"))
    b, i = statistics.median(bare), statistics.median(imported)
    result = {"bare_python_ms": b * 1000, "import_workbench_ms": i * 1000, "ratio": i / b}
    print(f"bare python      {b * 1000:7.1f} ms (median of {RUNS})")
    print(f"import workbench {i * 1000:7.1f} ms")
    print(f"ratio            {i / b:7.2f}x")
    return result


if __name__ == "__main__":
    main()
