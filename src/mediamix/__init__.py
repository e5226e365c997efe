"""mediamix: media mix modeling, budget optimization and attribution.

Importing the package is cheap: it pulls in no web, tracking, database, JAX or
plotting stack. Those live behind the extras and are imported where used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
