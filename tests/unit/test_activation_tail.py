"""`stratus activation poll`: which records it shows, given what the list API returns."""

from typing import Any

from stratus.cli.activations import Tail


class Listing:
    """The activation list as the API returns it: newest first, filtered by start time."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def finish(self, activation_id: str, start: int) -> None:
        self.records.insert(0, {"activationId": activation_id, "start": start})

    def list_activations(self, *, name: str | None, since: int, limit: int, docs: bool) -> list[dict[str, Any]]:
        return [r for r in self.records if r["start"] >= since][:limit]


def test_old_records_are_skipped_and_late_finishers_shown_once() -> None:
    listing = Listing()
    listing.finish("old", start=1_000_000)
    tail = Tail(None, shown_from_ms=1_000_000 + 10_000)
    assert tail.fresh(listing) == []  # type: ignore[arg-type]
    listing.finish("started-before-finished-after", start=1_000_000 + 5_000)
    listing.finish("new", start=1_000_000 + 20_000)
    shown = [r["activationId"] for r in tail.fresh(listing)]  # type: ignore[arg-type]
    assert shown == ["started-before-finished-after", "new"]
    assert tail.fresh(listing) == [] and tail.shown == 2  # type: ignore[arg-type]
