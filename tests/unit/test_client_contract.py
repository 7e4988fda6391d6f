"""The client side keeps its own copy of the few API facts it needs (it imports nothing of the platform):
they must match what the platform does."""

from core import kinds
from core import limits as L
from images.wheels import PLATFORM_ARGS
from stratus.client import code, manifest, vendor


def test_the_manifest_knows_the_api_s_default_limits_in_their_order() -> None:
    assert manifest.DEFAULT_LIMITS == {bound.field: bound.default for bound in L.ACTION_BOUNDS}
    assert list(manifest.DEFAULT_LIMITS) == [bound.field for bound in L.ACTION_BOUNDS]


def test_the_manifest_knows_the_kind_aliases_and_the_default_kind() -> None:
    assert manifest.KIND_ALIASES == kinds.ALIASES
    assert code.KIND == kinds.DEFAULT.kind


def test_requirements_are_fetched_for_the_runtime_s_wheel_platform() -> None:
    assert vendor.PLATFORM_ARGS == PLATFORM_ARGS
