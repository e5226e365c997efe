"""One router per use case, versioned under ``/v1``."""
