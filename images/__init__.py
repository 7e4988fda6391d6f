"""Building Stratus's images offline: a local Debian base when the base cannot be pulled, wheels
downloaded on the host, `pip install --no-index` inside the build."""

from images.build import BuildResult, engine, ensure_runtime_image

__all__ = ["BuildResult", "engine", "ensure_runtime_image"]
