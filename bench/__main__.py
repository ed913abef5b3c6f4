"""`python -m bench [NAME...]`: run the benchmarks, print a table, write bench/results.json."""

from __future__ import annotations

import importlib
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# in this order: the cheap ones first; local_v2v loads the real local models
BENCHMARKS = ["engine_turn", "pipeline_overhead", "concurrency", "evaluation_overhead", "local_v2v"]
RESULTS = Path(__file__).resolve().parent / "results.json"
log = logging.getLogger("bench")


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def _cell(key: str, value: Any) -> str:
    if isinstance(value, bool) and key.endswith("_met"):
        return "[green]met[/green]" if value else "[red]MISSED[/red]"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def main(names: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    console = Console(soft_wrap=True)
    results: dict[str, Any] = {"machine": machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    failed = []
    for name in names or BENCHMARKS:
        console.print(f"[bold]▶ {name}[/bold]")
        t0 = time.perf_counter()
        try:
            figures = importlib.import_module(f"bench.{name}").run()
        except Exception:
            log.exception("benchmark %s failed", name)
            failed.append(name)
            continue
        results.update(figures)
        console.print(f"  done in {time.perf_counter() - t0:.1f} s")
    table = Table(title="SIMA benchmarks")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        if key not in ("machine", "when"):
            table.add_row(key, _cell(key, value))
    console.print(table)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
