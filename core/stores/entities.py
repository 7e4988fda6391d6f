"""Entities (namespaces and their keys, actions) on SQLAlchemy Core: MySQL through aiomysql in
production and tests, SQLite through aiosqlite for the embedded default. The only SQL in Stratus.
"""

import logging
import time
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from core.alarms import Alarm
from core.errors import Conflict, NotFound, StoreUnavailable
from core.models import Action, Namespace, NamespaceLimits, Package, Route, Rule, Trigger

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

ROUTE_BASE_PATH_MAX = 190
ROUTE_REL_PATH_MAX = 300


class EntityStore(Protocol):
    async def start(self) -> None:
        """Create the schema if missing. Idempotent, also when several processes start at once."""

    async def close(self) -> None: ...

    async def create_namespace(self, namespace: Namespace) -> None:
        """Raises Conflict when the name or the key uuid exists."""

    async def get_namespace(self, name: str) -> Namespace | None: ...

    async def namespace_by_uuid(self, uuid: str) -> Namespace | None: ...

    async def list_namespaces(self) -> list[Namespace]: ...

    async def set_namespace_key(self, name: str, uuid: str, key_hash: str) -> bool:
        """Replace the namespace's key (its uuid and the hash of its secret); False when there is no such namespace."""

    async def set_namespace_limits(self, name: str, limits: NamespaceLimits) -> None:
        """Replace the namespace's own throttles (None fields: the platform default)."""

    async def create_action(self, action: Action) -> None:
        """Raises Conflict when an action of that name exists."""

    async def replace_action(self, action: Action, *, expected_updated: int) -> None:
        """Optimistic concurrency: raises Conflict when the stored `updated` is not `expected_updated`
        (someone wrote in between), NotFound when the action vanished."""

    async def get_action(self, namespace: str, name: str) -> Action | None: ...

    async def list_actions(self, namespace: str, *, limit: int, skip: int) -> list[Action]:
        """Newest first by `updated`; includes the actions of the namespace's packages (`ns/pkg`)."""

    async def count_actions(self, namespace: str) -> int: ...

    async def delete_action(self, namespace: str, name: str) -> Action | None:
        """Returns what was deleted, or None when there was nothing."""

    async def put_package(self, package: Package, *, expected_updated: int | None) -> None:
        """Create (`expected_updated` None: Conflict when it exists) or replace (optimistic, as actions)."""

    async def get_package(self, namespace: str, name: str) -> Package | None: ...

    async def list_packages(self, namespace: str, *, limit: int, skip: int) -> list[Package]: ...

    async def delete_package(self, namespace: str, name: str) -> Package | None: ...

    async def package_actions(self, namespace: str, package: str) -> list[Action]:
        """The actions of the package `namespace/package`, by name."""

    async def put_trigger(self, trigger: Trigger, *, expected_updated: int | None) -> None: ...

    async def get_trigger(self, namespace: str, name: str) -> Trigger | None: ...

    async def list_triggers(self, namespace: str, *, limit: int, skip: int) -> list[Trigger]: ...

    async def delete_trigger(self, namespace: str, name: str) -> Trigger | None: ...

    async def put_rule(self, rule: Rule, *, expected_updated: int | None) -> None: ...

    async def get_rule(self, namespace: str, name: str) -> Rule | None: ...

    async def list_rules(self, namespace: str, *, limit: int, skip: int) -> list[Rule]: ...

    async def delete_rule(self, namespace: str, name: str) -> Rule | None: ...

    async def put_alarm(self, alarm: Alarm) -> None:
        """Insert, or replace the alarm of the same trigger."""

    async def get_alarm(self, namespace: str, name: str) -> Alarm | None: ...

    async def delete_alarm(self, namespace: str, name: str) -> Alarm | None: ...

    async def all_alarms(self) -> list[Alarm]:
        """Every namespace's: what the controllers' alarm clocks fire."""

    async def put_route(self, route: Route) -> None:
        """Insert, or replace the route with the same namespace, base path, relative path and verb."""

    async def list_routes(self, namespace: str) -> list[Route]:
        """Ordered by base path, relative path, verb."""

    async def delete_routes(
        self, namespace: str, base_path: str, rel_path: str | None = None, verb: str | None = None
    ) -> list[Route]:
        """Deletes the base path's routes (only those of `rel_path` / `verb` when given); returns them."""


def _long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


# Every text in full Unicode, compared byte for byte (names are case-sensitive, as in OpenWhisk and on
# SQLite), whatever the server's defaults: a server on latin1 refused "中" in an action's code.
MYSQL_TEXT: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
metadata = sa.MetaData()
namespaces = sa.Table(
    "namespaces",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("uuid", sa.String(64), nullable=False, unique=True),
    sa.Column("key_hash", sa.String(128), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("created", sa.BigInteger, nullable=False),
    **MYSQL_TEXT,
)
actions = sa.Table(
    "actions",
    metadata,
    sa.Column("namespace", sa.String(256), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("root", sa.String(256), nullable=False),  # the namespace without a package: list by it
    sa.Column("updated", sa.BigInteger, nullable=False),
    sa.Column("doc", _long_text(), nullable=False),  # the Action as JSON
    sa.Index("ix_actions_root_updated", "root", "updated"),
    **MYSQL_TEXT,
)
routes = sa.Table(  # key lengths fit InnoDB's 3072-byte key limit in utf8mb4
    "routes",
    metadata,
    sa.Column("namespace", sa.String(256), primary_key=True),
    sa.Column("base_path", sa.String(ROUTE_BASE_PATH_MAX), primary_key=True),
    sa.Column("rel_path", sa.String(ROUTE_REL_PATH_MAX), primary_key=True),
    sa.Column("verb", sa.String(8), primary_key=True),
    sa.Column("doc", sa.Text, nullable=False),  # the Route as JSON
    **MYSQL_TEXT,
)


def _entity_table(name: str) -> sa.Table:
    """Packages, triggers and rules: a namespace, a name, and the entity as JSON."""
    return sa.Table(
        name,
        metadata,
        sa.Column("namespace", sa.String(256), primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("updated", sa.BigInteger, nullable=False),
        sa.Column("doc", _long_text(), nullable=False),
        **MYSQL_TEXT,
    )


packages = _entity_table("packages")
triggers = _entity_table("triggers")
rules = _entity_table("rules")
alarms = _entity_table("alarms")  # keyed by the trigger it fires
namespace_limits = sa.Table(  # its own table: databases created before it get it from create_all
    "namespace_limits",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("concurrent_invocations", sa.Integer, nullable=True),
    sa.Column("invocations_per_minute", sa.Integer, nullable=True),
    **MYSQL_TEXT,
)


def _namespaces_query() -> sa.Select[Any]:
    return sa.select(
        namespaces, namespace_limits.c.concurrent_invocations, namespace_limits.c.invocations_per_minute
    ).select_from(namespaces.outerjoin(namespace_limits, namespaces.c.name == namespace_limits.c.name))


def _namespace(row: sa.Row[Any]) -> Namespace:
    limits = NamespaceLimits(
        concurrent_invocations=row.concurrent_invocations, invocations_per_minute=row.invocations_per_minute
    )
    return Namespace(name=row.name, uuid=row.uuid, key_hash=row.key_hash, subject=row.subject, limits=limits)


def _action_row(action: Action) -> dict[str, Any]:
    return {
        "namespace": action.namespace,
        "name": action.name,
        "root": action.namespace.split("/", 1)[0],
        "updated": action.updated,
        "doc": action.model_dump_json(),
    }


async def _convert_to_utf8mb4(conn: AsyncConnection) -> None:
    """Tables made before MYSQL_TEXT (in the server's default charset) are converted once."""
    names = ", ".join(f"'{table}'" for table in metadata.tables)
    rows = await conn.exec_driver_sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
        f"AND table_name IN ({names}) AND table_collation <> 'utf8mb4_bin'"
    )
    for (table,) in rows.fetchall():
        log.warning("converting table %s to utf8mb4 (full Unicode, case-sensitive names)", table)
        await conn.exec_driver_sql(f"ALTER TABLE {table} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")


class SqlEntityStore:
    def __init__(self, url: str) -> None:
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("mysql"):
            options |= {"pool_recycle": 1800, "pool_size": 10, "max_overflow": 20}
        self._engine: AsyncEngine = create_async_engine(url, **options)
        self._sqlite = url.startswith("sqlite")

    async def start(self) -> None:
        try:
            async with self._engine.begin() as conn:
                if self._sqlite:
                    await conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                await conn.run_sync(metadata.create_all, checkfirst=True)
                if not self._sqlite:
                    await _convert_to_utf8mb4(conn)
        except OperationalError as exc:
            if "already exists" not in str(exc):  # another process created it in between
                raise StoreUnavailable(f"could not create the entity schema: {exc}") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"could not reach the entity store: {exc}") from exc

    async def close(self) -> None:
        await self._engine.dispose()

    async def _rows(self, statement: sa.Executable) -> list[sa.Row[Any]]:
        try:
            async with self._engine.connect() as conn:
                return list((await conn.execute(statement)).fetchall())
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"entity store read failed: {exc}") from exc

    async def _write(self, statement: sa.Executable) -> int:
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(statement)
                return int(getattr(result, "rowcount", 0) or 0)
        except IntegrityError as exc:
            raise Conflict("The resource already exists.") from exc
        except (OperationalError, DBAPIError, OSError) as exc:
            raise StoreUnavailable(f"entity store write failed: {exc}") from exc

    async def create_namespace(self, namespace: Namespace) -> None:
        values = namespace.model_dump(exclude={"limits"}) | {"created": int(time.time() * 1000)}
        await self._write(namespaces.insert().values(**values))

    async def get_namespace(self, name: str) -> Namespace | None:
        rows = await self._rows(_namespaces_query().where(namespaces.c.name == name))
        return _namespace(rows[0]) if rows else None

    async def namespace_by_uuid(self, uuid: str) -> Namespace | None:
        rows = await self._rows(_namespaces_query().where(namespaces.c.uuid == uuid))
        return _namespace(rows[0]) if rows else None

    async def list_namespaces(self) -> list[Namespace]:
        return [_namespace(r) for r in await self._rows(_namespaces_query().order_by(namespaces.c.name))]

    async def set_namespace_key(self, name: str, uuid: str, key_hash: str) -> bool:
        changed = await self._write(
            namespaces.update().where(namespaces.c.name == name).values(uuid=uuid, key_hash=key_hash)
        )
        return changed > 0

    async def set_namespace_limits(self, name: str, limits: NamespaceLimits) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(namespace_limits.delete().where(namespace_limits.c.name == name))
                await conn.execute(namespace_limits.insert().values(name=name, **limits.model_dump()))
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"entity store write failed: {exc}") from exc

    async def create_action(self, action: Action) -> None:
        try:
            await self._write(actions.insert().values(**_action_row(action)))
        except Conflict as exc:
            raise Conflict("The resource already exists; use overwrite=true to update it.") from exc

    async def replace_action(self, action: Action, *, expected_updated: int) -> None:
        key = (actions.c.namespace == action.namespace) & (actions.c.name == action.name)
        changed = await self._write(
            actions.update().where(key & (actions.c.updated == expected_updated)).values(**_action_row(action))
        )
        if changed == 0:
            if await self.get_action(action.namespace, action.name) is None:
                raise NotFound("action", action.fqn)
            raise Conflict("A concurrent modification of the resource was detected; retry the update.")

    async def get_action(self, namespace: str, name: str) -> Action | None:
        query = sa.select(actions.c.doc).where((actions.c.namespace == namespace) & (actions.c.name == name))
        rows = await self._rows(query)
        return Action.model_validate_json(rows[0].doc) if rows else None

    async def list_actions(self, namespace: str, *, limit: int, skip: int) -> list[Action]:
        query = (
            sa.select(actions.c.doc)
            .where(actions.c.root == namespace)
            .order_by(actions.c.updated.desc(), actions.c.name)
            .limit(limit)
            .offset(skip)
        )
        return [Action.model_validate_json(r.doc) for r in await self._rows(query)]

    async def count_actions(self, namespace: str) -> int:
        rows = await self._rows(sa.select(sa.func.count()).select_from(actions).where(actions.c.root == namespace))
        return int(rows[0][0])

    async def delete_action(self, namespace: str, name: str) -> Action | None:
        found = await self.get_action(namespace, name)
        if found is None:
            return None
        key = (actions.c.namespace == namespace) & (actions.c.name == name)
        if await self._write(actions.delete().where(key)) == 0:
            return None  # deleted by someone else in between
        return found

    async def _put_doc(self, table: sa.Table, entity: Any, expected_updated: int | None) -> None:
        row = {"namespace": entity.namespace, "name": entity.name, "updated": entity.updated}
        row["doc"] = entity.model_dump_json()
        if expected_updated is None:
            try:
                await self._write(table.insert().values(**row))
            except Conflict as exc:
                raise Conflict("The resource already exists; use overwrite=true to update it.") from exc
            return
        key = (table.c.namespace == entity.namespace) & (table.c.name == entity.name)
        if await self._write(table.update().where(key & (table.c.updated == expected_updated)).values(**row)) == 0:
            if not await self._rows(sa.select(table.c.name).where(key)):
                raise NotFound(table.name[:-1], f"{entity.namespace}/{entity.name}")
            raise Conflict("A concurrent modification of the resource was detected; retry the update.")

    async def _get_doc(self, table: sa.Table, model: type[M], namespace: str, name: str) -> M | None:
        rows = await self._rows(sa.select(table.c.doc).where((table.c.namespace == namespace) & (table.c.name == name)))
        return model.model_validate_json(str(rows[0].doc)) if rows else None

    async def _list_docs(self, table: sa.Table, model: type[M], namespace: str, limit: int, skip: int) -> list[M]:
        query = (
            sa.select(table.c.doc)
            .where(table.c.namespace == namespace)
            .order_by(table.c.updated.desc(), table.c.name)
            .limit(limit)
            .offset(skip)
        )
        return [model.model_validate_json(str(r.doc)) for r in await self._rows(query)]

    async def _delete_doc(self, table: sa.Table, model: type[M], namespace: str, name: str) -> M | None:
        found = await self._get_doc(table, model, namespace, name)
        key = (table.c.namespace == namespace) & (table.c.name == name)
        if found is None or await self._write(table.delete().where(key)) == 0:
            return None
        return found

    # put, get, list and delete per entity, typed as the Protocol names them; the SQL is in the _doc helpers above.
    async def put_package(self, package: Package, *, expected_updated: int | None) -> None:
        await self._put_doc(packages, package, expected_updated)

    async def get_package(self, namespace: str, name: str) -> Package | None:
        return await self._get_doc(packages, Package, namespace, name)

    async def list_packages(self, namespace: str, *, limit: int, skip: int) -> list[Package]:
        return await self._list_docs(packages, Package, namespace, limit, skip)

    async def delete_package(self, namespace: str, name: str) -> Package | None:
        return await self._delete_doc(packages, Package, namespace, name)

    async def package_actions(self, namespace: str, package: str) -> list[Action]:
        query = sa.select(actions.c.doc).where(actions.c.namespace == f"{namespace}/{package}").order_by(actions.c.name)
        return [Action.model_validate_json(r.doc) for r in await self._rows(query)]

    async def put_trigger(self, trigger: Trigger, *, expected_updated: int | None) -> None:
        await self._put_doc(triggers, trigger, expected_updated)

    async def get_trigger(self, namespace: str, name: str) -> Trigger | None:
        return await self._get_doc(triggers, Trigger, namespace, name)

    async def list_triggers(self, namespace: str, *, limit: int, skip: int) -> list[Trigger]:
        return await self._list_docs(triggers, Trigger, namespace, limit, skip)

    async def delete_trigger(self, namespace: str, name: str) -> Trigger | None:
        return await self._delete_doc(triggers, Trigger, namespace, name)

    async def put_rule(self, rule: Rule, *, expected_updated: int | None) -> None:
        await self._put_doc(rules, rule, expected_updated)

    async def get_rule(self, namespace: str, name: str) -> Rule | None:
        return await self._get_doc(rules, Rule, namespace, name)

    async def list_rules(self, namespace: str, *, limit: int, skip: int) -> list[Rule]:
        return await self._list_docs(rules, Rule, namespace, limit, skip)

    async def delete_rule(self, namespace: str, name: str) -> Rule | None:
        return await self._delete_doc(rules, Rule, namespace, name)

    async def put_alarm(self, alarm: Alarm) -> None:
        key = (alarms.c.namespace == alarm.namespace) & (alarms.c.name == alarm.name)
        row = {"namespace": alarm.namespace, "name": alarm.name, "updated": alarm.updated}
        row["doc"] = alarm.model_dump_json()
        try:
            async with self._engine.begin() as conn:
                await conn.execute(alarms.delete().where(key))
                await conn.execute(alarms.insert().values(**row))
        except IntegrityError as exc:
            raise Conflict("A concurrent modification of the alarm was detected; retry.") from exc
        except (OperationalError, DBAPIError, OSError) as exc:
            raise StoreUnavailable(f"entity store write failed: {exc}") from exc

    async def get_alarm(self, namespace: str, name: str) -> Alarm | None:
        return await self._get_doc(alarms, Alarm, namespace, name)

    async def delete_alarm(self, namespace: str, name: str) -> Alarm | None:
        return await self._delete_doc(alarms, Alarm, namespace, name)

    async def all_alarms(self) -> list[Alarm]:
        rows = await self._rows(sa.select(alarms.c.doc).order_by(alarms.c.namespace, alarms.c.name))
        return [Alarm.model_validate_json(r.doc) for r in rows]

    async def put_route(self, route: Route) -> None:
        key = _route_key(route.namespace, route.base_path, route.rel_path, route.verb)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(routes.delete().where(key))
                await conn.execute(
                    routes.insert().values(
                        namespace=route.namespace,
                        base_path=route.base_path,
                        rel_path=route.rel_path,
                        verb=route.verb,
                        doc=route.model_dump_json(by_alias=True),
                    )
                )
        except IntegrityError as exc:
            raise Conflict("A concurrent modification of the route was detected; retry.") from exc
        except (OperationalError, DBAPIError, OSError) as exc:
            raise StoreUnavailable(f"entity store write failed: {exc}") from exc

    async def list_routes(self, namespace: str) -> list[Route]:
        query = (
            sa.select(routes.c.doc)
            .where(routes.c.namespace == namespace)
            .order_by(routes.c.base_path, routes.c.rel_path, routes.c.verb)
        )
        return [Route.model_validate_json(r.doc) for r in await self._rows(query)]

    async def delete_routes(
        self, namespace: str, base_path: str, rel_path: str | None = None, verb: str | None = None
    ) -> list[Route]:
        key = _route_key(namespace, base_path, rel_path, verb)
        found = [Route.model_validate_json(r.doc) for r in await self._rows(sa.select(routes.c.doc).where(key))]
        if found:
            await self._write(routes.delete().where(key))
        return found


def _route_key(namespace: str, base_path: str, rel_path: str | None, verb: str | None) -> sa.ColumnElement[bool]:
    key = (routes.c.namespace == namespace) & (routes.c.base_path == base_path)
    if rel_path is not None:
        key &= routes.c.rel_path == rel_path
    if verb is not None:
        key &= routes.c.verb == verb
    return key
