"""``python -m mediamix`` runs the CLI."""

from mediamix.cli.app import main

main()
