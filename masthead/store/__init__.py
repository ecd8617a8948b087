"""All SQL lives here. Functions take a connection and never commit."""
