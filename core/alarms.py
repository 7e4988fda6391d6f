"""The built-in alarms feed: schedules that fire triggers (OpenWhisk's /whisk.system/alarms package).

Three feeds, created as OpenWhisk's are, by invoking the feed with `lifecycleEvent: CREATE` (the gateway
answers `POST /api/v1/namespaces/whisk.system/actions/alarms/{feed}` itself):
- `alarm`: `cron` (5 fields, or 6 with seconds first as in OpenWhisk: `*/5 * * * * *` every 5 s), optional
  `timezone`, `fireOnce`;
- `interval`: every `minutes`;
- `once`: at `date`, optional `deleteAfterFire` (then the trigger goes too).
All take `trigger_payload`, `startDate`, `stopDate` (ISO 8601 or epoch ms). Pure here; the controllers fire
them (controller.alarms): each tick at most once across every controller, through a Redis lease per tick.
"""

import datetime as dt
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field

from core.errors import BadRequest

FEEDS = ("alarm", "interval", "once")
CATCH_UP_MS = 60_000  # a tick missed for longer (every controller down) is skipped, not fired late
Feed = Literal["alarm", "interval", "once"]


class Alarm(BaseModel):
    """One trigger's schedule; keyed by the trigger (namespace, name)."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    name: str  # the trigger's
    feed: Feed
    cron: str | None = None
    timezone: str | None = None
    minutes: int | None = None
    date: int | None = None  # epoch ms (once)
    start_date: int | None = None
    stop_date: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    fire_once: bool = False  # stop after the first firing (once: always)
    delete_after_fire: bool = False  # once: delete the trigger after firing
    created: int = 0  # epoch ms; no tick before it fires
    updated: int = 0

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def epoch_ms(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return int(parsed.timestamp() * 1000)
    raise BadRequest(f"{what} must be an ISO 8601 date or epoch milliseconds.")


def _cron(expression: Any) -> str:
    if not isinstance(expression, str) or not croniter.is_valid(expression, second_at_beginning=True):
        raise BadRequest(f"cron '{expression}' is not a valid cron expression (5 fields, or 6 with seconds first).")
    return expression


def from_params(feed: str, namespace: str, name: str, params: dict[str, Any], now_ms: int) -> Alarm:
    """The Alarm a CREATE (or UPDATE) of `feed` describes; 400 for what does not make a schedule."""
    if feed not in FEEDS:
        raise BadRequest(f"Unknown alarms feed '{feed}'; feeds: {', '.join(FEEDS)}.")
    payload = params.get("trigger_payload", {})
    if not isinstance(payload, dict):
        raise BadRequest("trigger_payload must be a JSON object.")
    fields: dict[str, Any] = {
        "namespace": namespace,
        "name": name,
        "feed": feed,
        "payload": payload,
        "start_date": epoch_ms(params.get("startDate"), "startDate"),
        "stop_date": epoch_ms(params.get("stopDate"), "stopDate"),
        "created": now_ms,
        "updated": now_ms,
    }
    if feed == "alarm":
        fields["cron"] = _cron(params.get("cron"))
        fields["fire_once"] = params.get("fireOnce") is True
        timezone = params.get("timezone")
        if timezone is not None:
            try:
                ZoneInfo(str(timezone))
            except (ZoneInfoNotFoundError, ValueError):
                raise BadRequest(f"timezone '{timezone}' is not a known time zone.") from None
            fields["timezone"] = str(timezone)
    elif feed == "interval":
        minutes = params.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
            raise BadRequest("minutes must be a positive integer.")
        fields["minutes"] = minutes
    else:
        fields["date"] = epoch_ms(params.get("date"), "date")
        if fields["date"] is None:
            raise BadRequest("The once feed needs a date.")
        fields["fire_once"] = True
        fields["delete_after_fire"] = params.get("deleteAfterFire") is True
    return Alarm(**fields)


def latest_tick(alarm: Alarm, now_ms: int) -> int | None:
    """The latest scheduled time at or before `now_ms` (epoch ms), whatever the window."""
    if alarm.feed == "once":
        return alarm.date if alarm.date is not None and alarm.date <= now_ms else None
    if alarm.feed == "interval":
        period = (alarm.minutes or 1) * 60_000
        origin = alarm.start_date or alarm.created
        return origin + (now_ms - origin) // period * period if now_ms >= origin + period else None
    zone = ZoneInfo(alarm.timezone) if alarm.timezone else dt.UTC
    base = dt.datetime.fromtimestamp(now_ms / 1000, zone)
    return int(croniter(alarm.cron, base, second_at_beginning=True).get_prev(float) * 1000)


def due_tick(alarm: Alarm, now_ms: int) -> int | None:
    """The tick to fire now, if any: scheduled, after the alarm was made, inside start/stop, not missed long ago."""
    tick = latest_tick(alarm, now_ms)
    if tick is None or tick < alarm.created or now_ms - tick > CATCH_UP_MS:
        return None
    if alarm.start_date is not None and tick < alarm.start_date:
        return None
    if alarm.stop_date is not None and tick > alarm.stop_date:
        return None
    return tick
