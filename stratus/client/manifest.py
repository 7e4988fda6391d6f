"""Deploy manifests: a YAML file that describes actions; `plan` says what deploying it changes (pure).

```yaml
actions:
  hello:
    code: hello.py            # a .py file, a folder with __main__.py, or a .zip; relative to the manifest
    kind: python:3.11         # optional
    main: main                # optional entry function
    handler: app.handler      # optional: a Lambda-style handler, called with (event, context)
    params: {greeting: Hi}    # replace the action's parameters
    limits: {memory: 256, timeout: 3000, concurrency: 1, logs: 10}   # unlisted limits get their defaults
    web: true                 # web-export (and final) annotations
    annotations: {description: Says hello}
  utils/add: {code: add.py}   # an action of the package `utils`
  pipeline:
    sequence: [utils/add, hello]  # a sequence: no code
packages:                     # deployed first
  utils: {params: {step: 2}, shared: false}
  mine: {binding: /other/utils, params: {step: 5}}   # a binding
triggers:
  tick:
    params: {source: clock}
    feed: /whisk.system/alarms/alarm   # optional; feed_params go to the feed (CREATE)
    feed_params: {cron: "*/10 * * * * *"}
rules:                        # deployed after actions and triggers
  on-tick: {trigger: tick, action: pipeline}
routes:                       # API routes to web actions, deployed after the actions
  - {basePath: /greet, relPath: "/{name}", verb: GET, action: hello}   # responseType: json by default
```

Deploying is idempotent: an action whose code, kind, entry, parameters, limits and listed annotations already
match is left alone ("unchanged"). The keys of the annotations a manifest set are kept in the action's
`stratus-manifest-annotations` annotation, so an annotation later dropped from the manifest is removed.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stratus.client.action_body import action_body, from_key_values, key_values
from stratus.client.code import KIND, exec_from_path
from stratus.client.errors import ConfigError

Verdict = Literal["created", "updated", "unchanged"]
# The API's defaults for an action's limits and its kind aliases (GET / and /openapi.json say them), to compare a
# manifest with what the API stored; tests/unit/test_client_contract.py keeps them equal to the platform's
DEFAULT_LIMITS = {"timeout": 60_000, "memory": 256, "logs": 10, "concurrency": 1}
KIND_ALIASES = {"python:3": KIND, "python:default": KIND}
MANAGED = "stratus-manifest-annotations"


class ActionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str | None = None  # required unless `sequence`
    sequence: list[str] | None = None  # the actions a sequence runs, in order
    kind: str = KIND
    main: str | None = None
    handler: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    limits: dict[str, int] = Field(default_factory=dict)
    web: bool | None = None
    annotations: dict[str, Any] = Field(default_factory=dict)


class RouteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    basePath: str  # the API's field names, as the manifest's user writes them
    relPath: str
    verb: str
    action: str
    responseType: str = "json"

    @property
    def label(self) -> str:
        return f"{self.verb.upper()} {self.basePath}{self.relPath}"

    def key(self) -> tuple[str, str, str]:
        return (self.basePath, self.relPath, self.verb.upper())


class PackageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    params: dict[str, Any] = Field(default_factory=dict)
    shared: bool = False
    binding: str | None = None  # "/namespace/package" or "package": this is a binding of it

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"parameters": key_values(self.params), "publish": self.shared}
        if self.binding:
            namespace, _, name = self.binding.strip("/").rpartition("/")
            body["binding"] = {"namespace": namespace or "_", "name": name}
        return body


class TriggerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    params: dict[str, Any] = Field(default_factory=dict)
    feed: str | None = None
    feed_params: dict[str, Any] = Field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        notes = key_values({"feed": self.feed}) if self.feed else []
        return {"parameters": key_values(self.params), "annotations": notes}


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: str
    action: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    packages: dict[str, PackageSpec] = Field(default_factory=dict)
    actions: dict[str, ActionSpec] = Field(default_factory=dict)
    triggers: dict[str, TriggerSpec] = Field(default_factory=dict)
    rules: dict[str, RuleSpec] = Field(default_factory=dict)
    routes: list[RouteSpec] = Field(default_factory=list)

    def ordered_actions(self) -> list[str]:
        """Plain actions before sequences (a sequence's components must exist), sequences in manifest order."""
        return sorted(self.actions, key=lambda name: self.actions[name].sequence is not None)


@dataclass(frozen=True)
class Change:
    name: str
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    removed_annotations: tuple[str, ...] = ()  # what the manifest set before and no longer lists


def load_manifest(path: Path) -> Manifest:
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    try:
        return Manifest.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path} is not a valid manifest: {problems}") from exc


def desired_body(spec: ActionSpec, base_dir: Path) -> dict[str, Any]:
    """The full PUT body the manifest asks for: every limit, all parameters, the listed annotations."""
    unknown = sorted(set(spec.limits) - set(DEFAULT_LIMITS))
    if unknown:
        raise ConfigError(f"unknown limits {unknown}; known: {', '.join(DEFAULT_LIMITS)}")
    handler = {"handler": spec.handler} if spec.handler else {}
    if (spec.code is None) == (spec.sequence is None):
        raise ConfigError("an action needs either code or a sequence")
    if spec.sequence is not None:
        exec_: dict[str, Any] = {"kind": "sequence", "components": spec.sequence}
    else:
        exec_ = exec_from_path(base_dir / str(spec.code), kind=spec.kind, main=spec.main, handler=spec.handler)
    body = action_body(
        exec_=exec_,
        params=spec.params,
        limits=DEFAULT_LIMITS | spec.limits,
        annotations=spec.annotations | handler,
        web=spec.web,
    )
    managed = sorted(from_key_values(body.get("annotations")))
    body["annotations"] = [*body.get("annotations", []), {"key": MANAGED, "value": managed}]
    return body


def plan(name: str, desired: dict[str, Any], existing: dict[str, Any] | None) -> Change:
    """What putting `desired` does to `existing` (the action as GET with code returns it, or None)."""
    if existing is None:
        return Change(name, "created")
    reasons = [*_exec_changes(desired["exec"], existing.get("exec", {}))]
    if from_key_values(desired.get("parameters")) != from_key_values(existing.get("parameters")):
        reasons.append("parameters")
    old_limits = existing.get("limits", {})
    reasons += [f"limits.{k}" for k, v in desired.get("limits", {}).items() if old_limits.get(k) != v]
    old_notes = from_key_values(existing.get("annotations"))
    wanted = from_key_values(desired.get("annotations"))
    reasons += [f"annotations.{k}" for k, v in wanted.items() if k != MANAGED and old_notes.get(k) != v]
    removed = tuple(k for k in old_notes.get(MANAGED) or [] if k in old_notes and k not in wanted)
    reasons += [f"annotations.{k} (removed)" for k in removed]
    return Change(name, "updated" if reasons else "unchanged", tuple(reasons), removed)


def put_body(desired: dict[str, Any], change: Change) -> dict[str, Any]:
    """The PUT that carries out `change`: the desired action, minus the annotations the manifest dropped."""
    return desired | {"delAnnotations": list(change.removed_annotations)} if change.removed_annotations else desired


def plan_route(route: RouteSpec, existing: list[dict[str, Any]]) -> Change:
    """What putting `route` does, given the routes of its base path as the API lists them."""
    same = next((r for r in existing if (r["basePath"], r["relPath"], r["verb"]) == route.key()), None)
    if same is None:
        return Change(route.label, "created")
    reasons = tuple(f for f in ("action", "responseType") if same.get(f) != getattr(route, f))
    return Change(route.label, "updated" if reasons else "unchanged", reasons)


def plan_entity(name: str, desired: dict[str, Any], existing: dict[str, Any] | None) -> Change:
    """A package, trigger or rule: what putting `desired` (a PUT body) changes in `existing` (its GET)."""
    if existing is None:
        return Change(name, "created")
    reasons = []
    for field, value in desired.items():
        old = existing.get(field)
        if field in ("parameters", "annotations"):
            value, old = from_key_values(value), {k: v for k, v in from_key_values(old).items() if k != "binding"}
        elif field == "binding":
            old = old if isinstance(old, dict) else {}
            same_namespace = value["namespace"] in ("_", old.get("namespace"))
            value, old = value["name"], old.get("name") if same_namespace else None
        elif field in ("trigger", "action"):
            old = _short(f"/{old['path']}/{old['name']}") if isinstance(old, dict) else old
            value = _short(value)
        if value != old:
            reasons.append(field)
    return Change(name, "updated" if reasons else "unchanged", tuple(reasons))


def _short(reference: str) -> str:
    """A reference without its namespace: "/guest/pkg/a" and "pkg/a" are the same here."""
    return reference.split("/", 2)[2] if reference.startswith("/") else reference


def _exec_changes(desired: dict[str, Any], existing: dict[str, Any]) -> list[str]:
    changes = []
    if KIND_ALIASES.get(desired["kind"], desired["kind"]) != existing.get("kind"):
        changes.append("kind")
    if desired.get("code") != existing.get("code"):
        changes.append("code")
    wanted, old = desired.get("components"), existing.get("components")
    if wanted is not None and [_short(c) for c in wanted] != [_short(c) for c in old or []]:
        changes.append("components")
    if desired.get("main") != existing.get("main"):
        changes.append("main")
    return changes
