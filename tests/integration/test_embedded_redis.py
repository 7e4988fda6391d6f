"""The standalone's embedded Redis: its services reach it over a UNIX socket in the data dir."""

from pathlib import Path

import redis

from standalone.embedded import UNIX_PATH_MAX, embedded_redis


def test_the_embedded_redis_is_reached_over_a_unix_socket_in_the_data_dir(tmp_path: Path) -> None:
    with embedded_redis(tmp_path) as url:
        assert url == f"unix://{(tmp_path / 'redis.sock').resolve()}?db=0"
        client = redis.Redis.from_url(url)
        client.set("written", "over the socket")
        assert client.connection_pool.connection_kwargs["path"].endswith("redis.sock")
        assert client.get("written") == b"over the socket"
        client.close()


def test_a_data_dir_too_deep_for_a_unix_socket_gets_the_tcp_url(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * (UNIX_PATH_MAX - len(str(tmp_path.resolve()))))
    deep.mkdir()
    with embedded_redis(deep) as url:
        assert url.startswith("redis://127.0.0.1:")
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.close()
