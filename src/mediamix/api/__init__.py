"""The REST API shell (FastAPI): parses, authorizes and formats; use cases live in the service.

Nothing here is imported by ``import mediamix``; ``mediamix serve`` loads it.
"""
