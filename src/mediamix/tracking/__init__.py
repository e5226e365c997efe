"""Model lifecycle on MLflow: tracking every fit, the registry, safe loading and drift.

Importing this package is cheap: MLflow is imported only by the modules that talk
to a store (``worker``, ``registry``, ``pyfunc``) and only when they are used, so the
CLI and ``import mediamix`` stay light.
"""

from mediamix.tracking.config import TrackingConfig

__all__ = ["TrackingConfig"]
