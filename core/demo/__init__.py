"""The bundled demo corpus: procedural micro-videos, users with hidden preferences."""
