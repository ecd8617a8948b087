"""`python -m masthead.cli`, the same as the `masthead` command."""

from masthead.cli.main import run

run()
