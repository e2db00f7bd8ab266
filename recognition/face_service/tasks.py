"""Face-service scanning and callback tasks (being written)."""
