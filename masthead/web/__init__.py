"""HTTP: the app factory, the public routes and, later, the internal API."""
