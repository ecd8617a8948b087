"""Use cases, each written once and shared by the API, the CLI and the worker."""
