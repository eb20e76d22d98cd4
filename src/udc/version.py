"""The release, for --version and the service's API description (kept equal to pyproject.toml's)."""

__version__ = "0.1.0"
