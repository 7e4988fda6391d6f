"""What the image tooling raises, and the way around a base image that cannot be made here."""

from core.errors import StratusError

BASE_IMAGE_HOW = "`stratus image build --base-image IMAGE`, or STRATUS_BASE_IMAGE for `stratus standalone`"


class ImageBuildError(StratusError):
    pass


class BaseUnavailable(ImageBuildError):
    """No base can be had here for this kind (no offline base, or its archive cannot be read): `--all` skips it."""
