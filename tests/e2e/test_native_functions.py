"""Real functions with compiled dependencies: zips built at test time from manylinux wheels
(tests/native_zips.py), deployed through the API, run in every runtime kind that can be had here."""

import base64
import io
import zipfile
from uuid import uuid4

import docker
import pytest

from core import kinds
from images import ensure_runtime_image
from images.errors import ImageBuildError
from tests.conftest import runtime_repository
from tests.e2e.conftest import Platform
from tests.native_zips import action_zip_base64

pytestmark = pytest.mark.docker

SCIENCE = """
import numpy as np
import pandas as pd
from PIL import Image

def main(args):
    rng = np.random.default_rng(7)
    matrix = rng.random((200, 200))
    inverse = np.linalg.inv(matrix)  # LAPACK on the OpenBLAS the numpy wheel bundles
    frame = pd.DataFrame({"city": ["a", "b", "a", "c", "b", "a"], "sales": [1, 2, 3, 4, 5, 6]})
    totals = frame.groupby("city")["sales"].sum()
    libraries = sorted({line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line})
    pixels = np.asarray(Image.new("L", (40, 30), 255).rotate(45))  # numpy and Pillow together, as the issue had
    return {
        "pixels": [list(pixels.shape), int(pixels.max())],
        "identity": bool(np.allclose(matrix @ inverse, np.eye(200), atol=1e-6)),
        "totals": {city: int(total) for city, total in totals.items()},
        "openblas": libraries,
    }
"""

MEDIA = """
import hashlib
import io

import igraph
from cryptography.fernet import Fernet
from lxml import etree
from PIL import Image, ImageDraw

def main(args):
    picture = Image.new("RGB", (640, 480), "white")
    ImageDraw.Draw(picture).rectangle((80, 80, 400, 300), fill="red")
    picture.thumbnail((128, 128))
    sizes = {}
    for fmt in ("TIFF", "JPEG", "PNG", "WEBP"):  # libtiff, libjpeg, zlib, libwebp from Pillow's wheel
        buffer = io.BytesIO()
        picture.save(buffer, fmt)
        sizes[fmt] = list(Image.open(io.BytesIO(buffer.getvalue())).size)
    graph = igraph.Graph.Famous("Zachary")
    titles = etree.fromstring(args["xml"]).xpath("//title/text()")
    key = Fernet.generate_key()
    secret = Fernet(key).decrypt(Fernet(key).encrypt(b"s3cret")).decode()
    return {
        "sizes": sizes,
        "graph": [graph.vcount(), graph.ecount(), len(graph.community_multilevel()) > 1],
        "titles": titles,
        "secret": secret,
        "sha256": hashlib.sha256(b"x").hexdigest()[:8],
    }
"""

VERSION = """
import sys
import numpy as np

def main(args):
    return {"python": sys.version.split()[0], "dot": float(np.arange(4) @ np.arange(4))}
"""


def deploy(platform: Platform, code: str, kind: str = "python:3.11", memory_mb: int = 256) -> str:
    name = f"native-{uuid4().hex[:8]}"
    body = {"exec": {"kind": kind, "code": code}, "limits": {"memory": memory_mb, "timeout": 120_000}}
    with platform.client() as client:
        client.put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
    return name


def invoke(platform: Platform, name: str, params: dict[str, object] | None = None) -> dict[str, object]:
    with platform.client() as client:
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json=params or {})
    record: dict[str, object] = answer.json()
    assert answer.status_code == 200, record
    return record


def test_numpy_with_its_openblas_pandas_and_pillow(platform: Platform) -> None:
    name = deploy(platform, action_zip_base64(SCIENCE, ["numpy", "pandas", "Pillow"], "3.11"), memory_mb=512)
    result = invoke(platform, name)["response"]["result"]  # type: ignore[index]
    assert result["identity"] is True and result["totals"] == {"a": 10, "b": 7, "c": 4}
    assert result["pixels"] == [[30, 40], 255]
    assert result["openblas"] and all(path.startswith("/action/") for path in result["openblas"])


def test_pillow_igraph_lxml_and_cryptography_together(platform: Platform) -> None:
    name = deploy(platform, action_zip_base64(MEDIA, ["Pillow", "igraph", "lxml", "cryptography"], "3.11"))
    xml = "<shelf><book><title>Dune</title></book><book><title>Emma</title></book></shelf>"
    result = invoke(platform, name, {"xml": xml})["response"]["result"]  # type: ignore[index]
    assert result["sizes"] == {fmt: [128, 96] for fmt in ("TIFF", "JPEG", "PNG", "WEBP")}
    assert result["graph"] == [34, 78, True] and result["titles"] == ["Dune", "Emma"]
    assert result["secret"] == "s3cret" and result["sha256"] == "2d711642"


@pytest.mark.parametrize("runtime", kinds.RUNTIMES, ids=lambda r: r.kind)
def test_every_kind_runs_a_compiled_wheel_of_its_own_python(platform: Platform, runtime: kinds.Runtime) -> None:
    try:
        ensure_runtime_image(docker.from_env(), runtime, repository=runtime_repository())  # run.sh built it
    except ImageBuildError as exc:
        pytest.skip(f"no {runtime.kind} image can be built here: {exc}")
    name = deploy(platform, action_zip_base64(VERSION, ["numpy"], runtime.version), kind=runtime.kind)
    record = invoke(platform, name)
    assert record["response"]["result"]["python"].startswith(runtime.version + ".")  # type: ignore[index]
    assert record["response"]["result"]["dot"] == 14.0  # type: ignore[index]
    notes = {a["key"]: a["value"] for a in record["annotations"]}  # type: ignore[attr-defined]
    assert notes["kind"] == runtime.kind


def test_python_3_is_the_default_kind_and_root_lists_every_runtime_with_its_image(platform: Platform) -> None:
    name = deploy(platform, "import sys\ndef main(a):\n    return {'v': sys.version[:4]}\n", kind="python:3")
    assert invoke(platform, name)["response"]["result"] == {"v": kinds.DEFAULT.version}  # type: ignore[index]
    with platform.client() as client:
        runtimes = client.get("/").json()["runtimes"]
    listed = {entry["kind"]: entry for entry in runtimes["python"]}
    assert set(listed) == {r.kind for r in kinds.RUNTIMES}
    assert listed["python:3.13"]["image"].endswith(":3.13") and listed[kinds.DEFAULT.kind]["default"] is True
    assert runtimes["blackbox"][0]["kind"] == "blackbox"


def test_a_zip_that_unpacks_beyond_the_memory_says_so_before_unpacking(platform: Platform) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__main__.py", "def main(a):\n    return {}\n")
        archive.writestr("model.bin", bytes(120 * 2**20))  # 120 MB unpacked, a few hundred KB zipped
    name = deploy(platform, base64.b64encode(buffer.getvalue()).decode(), memory_mb=128)
    with platform.client() as client:
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={})
    assert answer.status_code == 502, answer.text
    error = answer.json()["response"]["result"]["error"]
    assert "unpacks to 120 MB" in error and "raise the action's memory limit" in error, error
