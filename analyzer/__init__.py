"""SIP trace analyzer: every SIP response explained, every call's outcome, from a capture."""

from .analysis import Analysis
from .pipeline import Options, analyze

__version__ = "0.1.0"
__all__ = ["Analysis", "Options", "__version__", "analyze"]
