"""The offline image build, against the real Docker engine."""

import docker
import pytest

from stratus.config import DEFAULT_RUNTIME_IMAGE
from stratus.images import ensure_runtime_image
from stratus.images.base import LOCAL_BASE, has_image
from stratus.images.build import HASH_LABEL, input_hash, runtime_context
from tests.conftest import docker_engine

pytestmark = pytest.mark.docker


@pytest.fixture
def engine() -> docker.DockerClient:
    return docker_engine()  # no runtime image built first: these tests build it


def test_second_build_is_a_no_op_and_the_label_matches_the_inputs(engine: docker.DockerClient) -> None:
    first = ensure_runtime_image(engine, base_image="python:3.11-slim", tag=DEFAULT_RUNTIME_IMAGE)
    again = ensure_runtime_image(engine, base_image="python:3.11-slim", tag=DEFAULT_RUNTIME_IMAGE)
    assert not again.built and again.image_id == first.image_id
    image = engine.images.get(DEFAULT_RUNTIME_IMAGE)
    base = "python:3.11-slim" if has_image(engine, "python:3.11-slim") else LOCAL_BASE
    assert image.labels[HASH_LABEL] == input_hash(runtime_context(), engine.images.get(base).id)
    assert image.labels["org.stratus.kind"] == "python:3.11"
    assert image.attrs["Config"]["User"] == "65534:65534"
