"""The container's memory limit and use, from its cgroup (v1 or v2): None where they cannot be read."""

MB = 1024 * 1024
LIMIT_FILES = ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max")
USAGE_FILES = ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "/sys/fs/cgroup/memory.current")
UNLIMITED = 2**60  # cgroup v1 reports "no limit" as a huge number (v2 as "max")


def _read(paths: tuple[str, ...]) -> int | None:
    for path in paths:
        try:
            with open(path) as file:
                text = file.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < UNLIMITED:
            return int(text)
    return None


def limit_bytes() -> int | None:
    return _read(LIMIT_FILES)


def used_bytes() -> int | None:
    return _read(USAGE_FILES)


def limit_mb() -> int | None:
    limit = limit_bytes()
    return None if limit is None else limit // MB
