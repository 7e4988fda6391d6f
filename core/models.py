"""Entities and activation records, shaped as OpenWhisk's REST API shows them."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from core import limits as L
from core.ids import ActivationId

Status = Literal["success", "application error", "action developer error", "whisk internal error"]
STATUS_CODES: dict[Status, int] = {
    "success": 0,
    "application error": 1,
    "action developer error": 2,
    "whisk internal error": 3,
}


class KeyValue(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True)  # as sent: `"init": 0` is not a boolean

    key: str
    value: Any = None
    init: bool | None = None  # an init parameter goes to /init's env, not to /run


class Exec(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    code: str | None = None  # None only for a blackbox action whose image holds its code
    binary: bool = False
    main: str | None = None
    image: str | None = None  # the image of a blackbox action (OpenWhisk's custom-image `docker` kind)
    components: list[str] | None = None  # a sequence's actions, fully qualified: "/ns/[pkg/]name"

    @property
    def entry_point(self) -> str:
        return self.main or "main"


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True)

    timeout: int = L.TIMEOUT.default  # ms
    memory: int = L.MEMORY.default  # MB
    logs: int = L.LOGS.default  # MB
    concurrency: int = L.CONCURRENCY.default


def annotation_value(annotations: list[KeyValue], key: str, default: Any = None) -> Any:
    """The value of the first annotation named `key`, or `default`."""
    return next((a.value for a in annotations if a.key == key), default)


class Entity(BaseModel):
    """What every entity starts with, in this order (its JSON keys come first, as OpenWhisk's do)."""

    model_config = ConfigDict(frozen=True)

    namespace: str  # "ns", or "ns/package" for an action in a package
    name: str
    version: str = "0.0.1"
    publish: bool = False

    @property
    def fqn(self) -> str:
        return f"{self.namespace}/{self.name}"


SECRET_ANNOTATIONS = frozenset({"require-whisk-auth"})  # a string or number value is a secret


class Action(Entity):
    """A function: its code (`exec`), default parameters, limits and annotations."""

    exec: Exec
    parameters: list[KeyValue] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    annotations: list[KeyValue] = Field(default_factory=list)
    updated: int = 0  # epoch ms of the last write

    @property
    def revision(self) -> str:
        """Changes on every write: containers are never reused across revisions."""
        return f"{self.version}@{self.updated}"

    def annotation(self, key: str, default: Any = None) -> Any:
        return annotation_value(self.annotations, key, default)

    def without_code(self) -> "Action":
        if self.exec.code is None:
            return self
        return self.model_copy(update={"exec": self.exec.model_copy(update={"code": None})})

    def for_dispatch(self) -> "Action":
        """What travels in messages (and so sits in Redis and its AOF): no code, and no web secret — the
        `require-whisk-auth` value is the gateway's business alone."""
        notes = [a for a in self.annotations if not (a.key in SECRET_ANNOTATIONS and not isinstance(a.value, bool))]
        return self.without_code().model_copy(update={"annotations": notes})

    def summary(self) -> dict[str, Any]:
        """The row of an action list: no code, no kind except through the `exec` annotation."""
        return {  # written out, as Activation.summary: OpenWhisk's key order, which is not the fields' order
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "annotations": [a.model_dump(exclude_none=True) for a in self.annotations],
            "limits": self.limits.model_dump(),
            "exec": {"binary": self.exec.binary},
            "updated": self.updated,
        }

    def to_api(self, *, code: bool = True) -> dict[str, Any]:
        body = self.model_dump(exclude_none=True)
        if not code:
            body["exec"].pop("code", None)
        return body


class EntityRef(BaseModel):
    """A reference to a namespaced entity: `{"namespace": "guest", "name": "utils"}`."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    name: str


class Package(Entity):
    """A group of actions with shared parameters, or (with `binding`) a reference to another package with
    parameters of its own."""

    binding: EntityRef | None = None
    parameters: list[KeyValue] = Field(default_factory=list)
    annotations: list[KeyValue] = Field(default_factory=list)
    updated: int = 0

    def to_api(self) -> dict[str, Any]:
        body = self.model_dump(exclude_none=True)
        body["binding"] = self.binding.model_dump() if self.binding else {}
        body["parameters"] = [p.model_dump(exclude_none=True) for p in self.parameters]
        body["annotations"] = [a.model_dump(exclude_none=True) for a in self.annotations]
        return body

    def summary(self) -> dict[str, Any]:
        """The row of a package list: `binding` is false for a real package."""
        body = self.to_api()
        body.pop("parameters")
        body["binding"] = body["binding"] or False
        return body


class Trigger(Entity):
    """A named event source; rules connect it to actions."""

    parameters: list[KeyValue] = Field(default_factory=list)
    annotations: list[KeyValue] = Field(default_factory=list)
    updated: int = 0

    def annotation(self, key: str, default: Any = None) -> Any:
        return annotation_value(self.annotations, key, default)

    def to_api(self) -> dict[str, Any]:
        body = self.model_dump()
        body["parameters"] = [p.model_dump(exclude_none=True) for p in self.parameters]
        body["annotations"] = [a.model_dump(exclude_none=True) for a in self.annotations]
        body["limits"] = {}
        return body


def path_and_name(fqn: str) -> dict[str, str]:
    """A reference as OpenWhisk shows it: "ns/pkg/a" -> {"path": "ns/pkg", "name": "a"}."""
    path, _, name = fqn.rpartition("/")
    return {"path": path, "name": name}


class Rule(Entity):
    """Fires `action` whenever `trigger` fires, while active. Both are fully qualified: "ns/t", "ns/[pkg/]a"."""

    trigger: str
    action: str
    status: Literal["active", "inactive"] = "active"
    annotations: list[KeyValue] = Field(default_factory=list)
    updated: int = 0

    def to_api(self) -> dict[str, Any]:
        body = self.model_dump()
        body["annotations"] = [a.model_dump(exclude_none=True) for a in self.annotations]
        body["trigger"] = path_and_name(self.trigger)
        body["action"] = path_and_name(self.action)
        return body


class ActivationResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Status
    result: Any = None
    size: int | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        return self.status == "success"

    @computed_field(alias="statusCode")  # type: ignore[prop-decorator]
    @property
    def status_code(self) -> int:
        return STATUS_CODES[self.status]


class Activation(BaseModel):
    """One activation record; every accepted activation ends with exactly one."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    activation_id: ActivationId = Field(alias="activationId")
    namespace: str  # the invoking namespace
    name: str
    version: str
    subject: str
    start: int  # epoch ms; for cold starts the start of /init
    end: int
    duration: int  # ms
    response: ActivationResponse
    logs: list[str] = Field(default_factory=list)
    annotations: list[KeyValue] = Field(default_factory=list)
    publish: bool = False
    cause: str | None = None  # the activation that caused this one: its enclosing sequence

    def annotation(self, key: str, default: Any = None) -> Any:
        return annotation_value(self.annotations, key, default)

    def to_api(self) -> dict[str, Any]:
        """The record as the REST API shows it: `response.statusCode` is a storage detail."""
        body = self.model_dump(by_alias=True, exclude_none=True)
        body["response"].pop("statusCode", None)
        body["annotations"] = [a.model_dump(exclude_none=True) for a in self.annotations]
        return body

    def summary(self) -> dict[str, Any]:
        """The row of an activation list (top-level statusCode, no result or logs)."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": self.publish,
            "subject": self.subject,
            "annotations": [a.model_dump(exclude_none=True) for a in self.annotations],
            "activationId": self.activation_id,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "statusCode": self.response.status_code,
        }


class NamespaceLimits(BaseModel):
    """A namespace's own throttles; None: the platform's default (gateway settings)."""

    model_config = ConfigDict(frozen=True)

    concurrent_invocations: int | None = None
    invocations_per_minute: int | None = None


class Namespace(BaseModel):
    """A tenant and its key. The secret is never stored, only its hash."""

    model_config = ConfigDict(frozen=True)

    name: str
    uuid: str
    key_hash: str
    subject: str
    limits: NamespaceLimits = NamespaceLimits()


WEB_METHODS = ("OPTIONS", "GET", "DELETE", "POST", "PUT", "HEAD", "PATCH")


class Cors(BaseModel):
    """What browsers on other origins may do with a web action or an API route."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    origins: list[str] = Field(default_factory=lambda: ["*"])  # "*" or exact origins
    methods: list[str] = Field(default_factory=lambda: list(WEB_METHODS))
    headers: list[str] | None = None  # None: allow what the preflight asks for
    max_age: int | None = Field(default=None, alias="maxAge", ge=0)  # seconds a preflight may be cached
    credentials: bool = False


class Route(BaseModel):
    """An API route: `{verb} /api/{namespace}{base_path}{rel_path}` runs the web action `action`."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    namespace: str
    base_path: str = Field(alias="basePath")  # "/shop"
    rel_path: str = Field(alias="relPath")  # "/items/{id}": `{name}` segments become string parameters
    verb: str  # upper case, one of WEB_METHODS
    action: str  # an action of the namespace, annotated web-export: true
    response_type: Literal["json", "html", "http", "text", "svg"] = Field(default="json", alias="responseType")
    cors: Cors | None = None  # None: no CORS headers, and OPTIONS only reaches an OPTIONS route
    updated: int = 0  # epoch ms of the last write

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)
