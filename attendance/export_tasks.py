"""Export tasks (being written)."""
