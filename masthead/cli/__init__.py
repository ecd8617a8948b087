"""The `masthead` command."""
