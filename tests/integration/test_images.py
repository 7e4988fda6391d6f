"""The offline image build, against the real Docker engine."""

import os

import docker
import pytest

from core import kinds
from images import ensure_runtime_image
from images.base import ensure_base_image, has_image, local_base
from images.build import HASH_LABEL, input_hash, runtime_context
from images.errors import BaseUnavailable
from tests.conftest import docker_engine, runtime_repository

pytestmark = pytest.mark.docker


@pytest.fixture
def engine() -> docker.DockerClient:
    return docker_engine()  # no runtime image built first: these tests build it


def buildable(runtime: kinds.Runtime, engine: docker.DockerClient) -> bool:
    return runtime.offline_base is not None or has_image(engine, runtime.base_image)


@pytest.mark.parametrize("runtime", kinds.RUNTIMES, ids=lambda r: r.kind)
def test_each_kind_builds_once_with_its_python_and_the_label_matches_the_inputs(
    engine: docker.DockerClient, runtime: kinds.Runtime
) -> None:
    if not buildable(runtime, engine):
        pytest.skip(f"{runtime.base_image} cannot be had here and no offline base ships Python {runtime.version}")
    try:
        first = ensure_runtime_image(engine, runtime, repository=runtime_repository())
    except BaseUnavailable as exc:  # its archive cannot be read here (Ubuntu's, for 3.12)
        pytest.skip(str(exc))
    again = ensure_runtime_image(engine, runtime, repository=runtime_repository())
    assert not again.built and again.image_id == first.image_id
    image = engine.images.get(runtime.image(runtime_repository()))
    base = (
        runtime.base_image
        if has_image(engine, runtime.base_image)
        else local_base(runtime.offline_base.suite if runtime.offline_base else "", runtime.version)
    )
    assert image.labels[HASH_LABEL] == input_hash(runtime_context(), engine.images.get(base).id, runtime.kind)
    assert image.labels["org.stratus.kind"] == runtime.kind
    assert image.attrs["Config"]["User"] == "65534:65534"
    version = engine.containers.run(image.id, ["python3", "-c", "import sys; print(sys.version)"], remove=True)
    assert version.decode().startswith(runtime.version + ".")


def test_a_kind_without_an_offline_base_says_what_to_do(engine: docker.DockerClient) -> None:
    runtime = kinds.Runtime("python:3.99", "3.99", None)
    with pytest.raises(BaseUnavailable, match="no offline base ships Python 3.99.*--base-image"):
        ensure_runtime_image(engine, runtime, repository=runtime_repository())


def test_an_ubuntu_base_whose_archive_cannot_be_read_says_what_to_do(engine: docker.DockerClient) -> None:
    if os.geteuid() != 0:
        pytest.skip("a local base is built as root only (before the archive is read)")
    unreachable = kinds.OfflineBase("ubuntu", "noble", "http://127.0.0.1:9/ubuntu")  # the discard port: refused
    with pytest.raises(BaseUnavailable, match=r"Cannot read the Ubuntu archive.*--mirror URL.*--base-image"):
        ensure_base_image(engine, "stratus-test/absent:1", print, offline=unreachable, python="3.99")
    assert not has_image(engine, local_base("noble", "3.99"))
