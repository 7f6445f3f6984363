"""Risk Manager: a real-time risk manager for ProjectX Gateway futures accounts."""

__version__ = "0.1.0"

__all__ = ["__version__"]
