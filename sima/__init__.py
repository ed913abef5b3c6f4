"""SIMA app shell: typed config loading, the `sima` CLI, and wiring of the layers."""
