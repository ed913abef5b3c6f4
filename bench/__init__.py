"""SIMA's benchmarks: each module's `run()` returns figures; `python -m bench` prints them and writes results.json."""
