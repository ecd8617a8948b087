"""Turning what authors write into safe HTML and plain facts about it."""
