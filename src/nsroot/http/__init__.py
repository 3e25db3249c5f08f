"""The HTTP API (ASGI) over the registry core."""
