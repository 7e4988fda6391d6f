"""The image tooling, beside deploy/: builds Stratus's images offline (a local Debian base when the base cannot be
pulled, wheels downloaded on the host, `pip install --no-index` inside the build): the runtime image of each kind,
the platform image's wheels (`python -m images.platform`) and action images. Used by the operator commands and the
standalone root (standalone); it imports the core (kinds, errors), never a service or the client side."""

from images.build import BuildResult, engine, ensure_runtime_image

__all__ = ["BuildResult", "engine", "ensure_runtime_image"]
