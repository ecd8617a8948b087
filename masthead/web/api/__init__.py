"""The internal API under /api/v1/: JSON in and out, described by its OpenAPI document."""
