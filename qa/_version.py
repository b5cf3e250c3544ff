"""The version, in one place: read by the package, the CLI, /health and the build (pyproject.toml)."""

__version__ = "0.1.0"
