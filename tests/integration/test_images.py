"""The offline image build, against the real Docker engine."""

import docker
import pytest

from core import kinds
from images import ensure_runtime_image
from images.base import has_image, local_base
from images.build import HASH_LABEL, input_hash, runtime_context
from images.errors import ImageBuildError
from tests.conftest import docker_engine, runtime_repository

pytestmark = pytest.mark.docker


@pytest.fixture
def engine() -> docker.DockerClient:
    return docker_engine()  # no runtime image built first: these tests build it


def buildable(runtime: kinds.Runtime, engine: docker.DockerClient) -> bool:
    return runtime.debian_suite is not None or has_image(engine, runtime.base_image)


@pytest.mark.parametrize("runtime", kinds.RUNTIMES, ids=lambda r: r.kind)
def test_each_kind_builds_once_with_its_python_and_the_label_matches_the_inputs(
    engine: docker.DockerClient, runtime: kinds.Runtime
) -> None:
    if not buildable(runtime, engine):
        pytest.skip(f"{runtime.base_image} cannot be had here and no Debian suite ships Python {runtime.version}")
    first = ensure_runtime_image(engine, runtime, repository=runtime_repository())
    again = ensure_runtime_image(engine, runtime, repository=runtime_repository())
    assert not again.built and again.image_id == first.image_id
    image = engine.images.get(runtime.image(runtime_repository()))
    base = (
        runtime.base_image
        if has_image(engine, runtime.base_image)
        else local_base(runtime.debian_suite or "", runtime.version)
    )
    assert image.labels[HASH_LABEL] == input_hash(runtime_context(), engine.images.get(base).id, runtime.kind)
    assert image.labels["org.stratus.kind"] == runtime.kind
    assert image.attrs["Config"]["User"] == "65534:65534"
    version = engine.containers.run(image.id, ["python3", "-c", "import sys; print(sys.version)"], remove=True)
    assert version.decode().startswith(runtime.version + ".")


def test_a_kind_without_an_offline_base_says_what_to_do(engine: docker.DockerClient) -> None:
    [runtime] = [r for r in kinds.RUNTIMES if r.debian_suite is None][:1] or [None]
    if runtime is None or has_image(engine, runtime.base_image):
        pytest.skip("every kind can be built here")
    with pytest.raises(ImageBuildError, match=f"no Debian suite ships Python {runtime.version}.*--base-image"):
        ensure_runtime_image(engine, runtime, repository=runtime_repository())
