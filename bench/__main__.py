"""`python -m bench [NAME...]`: run the benchmarks (all, or those named), print a table, write bench/results.json
(naming some keeps the other benchmarks' figures already in the file).

Each benchmark runs in a child process of its own, with a time limit: one that hangs or crashes is reported as
failed (and its processes stopped) while the others still run and their figures are still written, and none
inherits another's threads, memory or loaded models.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# in this order: the cheap ones first; local_v2v loads the real local models
BENCHMARKS = ["engine_turn", "vad_cpu", "pipeline_overhead", "concurrency", "turn_detection", "evaluation_overhead",
              "local_v2v"]
BENCHMARKS.append("conversation")  # adversarial scripted personas against the local interviewer, typed
BENCHMARKS.append("validity")  # the judge on a labelled set of transcripts (bench/data/validity)
RESULTS = Path(__file__).resolve().parent / "results.json"
TIME_LIMIT = 600.0  # seconds per benchmark
TIME_LIMITS = {"local_v2v": 1500.0,  # two spoken interviews with the real local models
               "concurrency": 2700.0}  # nine levels of up to five minutes each
TIME_LIMITS["validity"] = 3600.0  # 17 transcripts, retests and a 22-minute interview through the local 1.5B judge
log = logging.getLogger("bench")


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def _cell(key: str, value: Any) -> str:
    if isinstance(value, bool) and key.endswith("_met"):
        return "[green]met[/green]" if value else "[red]MISSED[/red]"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def run_one(name: str, out: Path) -> None:
    """In the child: run one benchmark, write its figures as JSON to `out`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    figures = importlib.import_module(f"bench.{name}").run()
    out.write_text(json.dumps(figures))


def run_isolated(name: str) -> dict[str, Any]:
    """Run one benchmark in a child process (its own process group) within its time limit; its figures."""
    limit = TIME_LIMITS.get(name, TIME_LIMIT)
    with tempfile.TemporaryDirectory(prefix="sima-bench-") as tmp:
        out = Path(tmp) / "figures.json"
        proc = subprocess.Popen([sys.executable, "-m", "bench", "--one", name, str(out)], start_new_session=True)
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            _stop_group(proc)
            raise RuntimeError(f"{name} took longer than {limit:.0f} s; stopped") from None
        except BaseException:  # Ctrl-C: take the child's helpers (model servers) down too
            _stop_group(proc)
            raise
        if code != 0 or not out.exists():
            raise RuntimeError(f"{name} failed (exit code {code})")
        figures: dict[str, Any] = json.loads(out.read_text())
        return figures


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def merge(results: dict[str, Any], name: str, figures: dict[str, Any]) -> None:
    """Put benchmark `name`'s new figures into `results`, in place of all it wrote last time (a figure it no longer
    gives is dropped, not left to look new); when it ran goes under `measured` ("when" is only this run's)."""
    for key in results.setdefault("produced", {}).get(name, []):
        results.pop(key, None)
    results.update(figures)
    results["produced"][name] = sorted(figures)
    results.setdefault("measured", {})[name] = time.strftime("%Y-%m-%dT%H:%M:%S%z")


def main(names: list[str]) -> int:
    if names[:1] == ["--one"]:
        run_one(names[1], Path(names[2]))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    console = Console(soft_wrap=True)
    results: dict[str, Any] = {}
    if names and RESULTS.exists():  # rerunning some benchmarks keeps the others' figures
        results = json.loads(RESULTS.read_text())
        results.pop("failed", None)
    results |= {"machine": machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    failed = []
    for name in names or BENCHMARKS:
        console.print(f"[bold]▶ {name}[/bold]")
        t0 = time.perf_counter()
        try:
            figures = run_isolated(name)
        except Exception as exc:
            log.error("benchmark %s failed: %s", name, exc)
            failed.append(name)
            continue
        merge(results, name, figures)
        console.print(f"  done in {time.perf_counter() - t0:.1f} s")
    table = Table(title="SIMA benchmarks")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        if key not in ("machine", "when", "measured", "produced"):
            table.add_row(key, _cell(key, value))
    console.print(table)
    if failed:
        results["failed"] = failed
        console.print(f"[red]failed: {', '.join(failed)}[/red]")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
