"""`python -m sima` runs the CLI."""

from sima.cli import main

main()
