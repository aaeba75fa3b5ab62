"""``python -m arbot``: the same command line as ``arbot``."""

from arbot.cli import main

main()
