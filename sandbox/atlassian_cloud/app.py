"""The ASGI app: scim2-server's SCIM application under `/scim/directory/{directoryId}`, the control
routes under `/__emulator/`, and the outermost layer (auth, rate limit, faults, counters)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from scim2_models import PatchOp, Resource, ResourceType
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.conditions import Conditions
from scim2_server.handler import AsyncScimHandler
from scim2_server.memory import AsyncInMemoryStorage
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox.atlassian_cloud.emulator import CloudEmulator
from sandbox.atlassian_cloud.middleware import SCIM_JSON, CloudMiddleware, scim_error
from sandbox.atlassian_cloud.service import AtlassianService
from sandbox.atlassian_cloud.store import GROUPS, DirectoryStore
from sandbox.emulation.admin import control_router
from sandbox.emulation.middleware import Route
from sandbox.emulation.persistence import state_lifespan

DIRECTORY = "/scim/directory/{directoryId}"
# Route templates for the request counters, as the OpenAPI document names them.
TEMPLATES = [
    ("GET", "/Users"),
    ("POST", "/Users"),
    ("GET", "/Users/{userId}"),
    ("PUT", "/Users/{userId}"),
    ("PATCH", "/Users/{userId}"),
    ("DELETE", "/Users/{userId}"),
    ("GET", "/Groups"),
    ("POST", "/Groups"),
    ("GET", "/Groups/{id}"),
    ("PUT", "/Groups/{id}"),
    ("PATCH", "/Groups/{id}"),
    ("DELETE", "/Groups/{id}"),
    ("GET", "/ServiceProviderConfig"),
    ("GET", "/ResourceTypes"),
    ("GET", "/ResourceTypes/{name}"),
    ("GET", "/Schemas"),
    ("GET", "/Schemas/{id}"),
]


def _routes(prefix: str) -> list[Route]:
    routes: list[Route] = []
    for method, template in TEMPLATES:
        pattern = re.escape(prefix) + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        routes.append((re.compile(pattern), frozenset({method}), DIRECTORY + template))
    return routes


class AtlassianHandler(AsyncScimHandler):
    """scim2-server's request handling, with a group's membership PATCH applied by the store in place."""

    def __init__(self, service: AtlassianService, directory: DirectoryStore) -> None:
        super().__init__(service, AsyncInMemoryStorage(directory))
        self.atlassian, self.directory = service, directory

    async def patch_resource(
        self, resource_type: ResourceType, resource_id: str, patch_op: PatchOp[Any], conditions: Conditions
    ) -> Resource[Any]:
        steps = None
        if resource_type.name == GROUPS:
            steps = self.atlassian.member_steps(self.service.get_model(resource_type), patch_op)
        if steps is None:
            return await super().patch_resource(resource_type, resource_id, patch_op, conditions)
        group = self.directory.stored_group(resource_id)
        self.service.check_preconditions(group, "PATCH", conditions)
        return self.directory.change_members(group, steps)


class AtlassianASGIApplication(ASGIApplication):
    def __init__(self, emulator: CloudEmulator) -> None:
        super().__init__(
            AsyncInMemoryStorage(emulator.directory), emulator.service.provider, emulator.service
        )
        self.handler = AtlassianHandler(emulator.service, emulator.directory)

    @staticmethod
    def get_base_url(scope: dict[str, Any]) -> str:
        """Atlassian's locations have no `/v2` (scim2-server adds it)."""
        host = dict(scope["headers"]).get(b"host", b"").decode()
        return f"{scope['scheme']}://{host}{scope.get('root_path', '')}"


class ScimApp:
    """scim2-server's ASGI application with the directory prefix as its root path."""

    def __init__(self, emulator: CloudEmulator) -> None:
        self.prefix = emulator.config.api_prefix
        self.scim = AtlassianASGIApplication(emulator)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.scim({**scope, "root_path": self.prefix}, receive, send)


def create_app(emulator: CloudEmulator) -> CloudMiddleware:
    api = FastAPI(
        title="Atlassian Cloud user provisioning emulator",
        lifespan=_lifespan(emulator),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    api.state.emulator = emulator
    api.include_router(control_router())
    api.add_exception_handler(HTTPException, _http_error)
    api.mount(emulator.config.api_prefix, ScimApp(emulator))
    return CloudMiddleware(api, emulator, _routes(emulator.config.api_prefix))


def _lifespan(emulator: CloudEmulator) -> Any:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with state_lifespan(emulator.state_file, emulator.directory, emulator.config.save_interval):
            yield

    return lifespan


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return Response(
        scim_error(exc.status_code, str(exc.detail)), exc.status_code, media_type=SCIM_JSON.decode()
    )
