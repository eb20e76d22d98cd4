"""udc — unified data connector."""

__version__ = "0.1.0"
