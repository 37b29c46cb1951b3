"""Atlassian's restrictions on top of scim2-server's SCIM protocol: the thin layer the emulator adds.

Each method here overrides one step of `scim2_server.service.ScimService`; CONTRACT.md lists the rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel as PydanticModel
from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    InvalidFilterException,
    InvalidSyntaxException,
    InvalidValueException,
    MutabilityException,
    Patch,
    PatchOp,
    PatchOperation,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimProvider,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
)
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    ValuePath,
)
from scim2_server.conditions import Conditions
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.storage import SearchPage
from scim2_server.utils import load_default_resource_types, load_default_schemas

from sandbox.atlassian_cloud.store import GROUPS, USERS, MemberStep

# The one filter each listing takes: `attribute eq "value"` (the value a JSON-style quoted string).
_FILTER = re.compile(r'^\s*(?P<attribute>[A-Za-z]+)\s+eq\s+(?P<value>"(?:[^"\\]|\\.)*")\s*$', re.IGNORECASE)
FILTERABLE = {USERS: ("userName", "externalId"), GROUPS: ("displayName",)}
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
BEARER = AuthenticationScheme(
    type=AuthenticationScheme.Type.oauthbearertoken,
    name="OAuth Bearer Token",
    description="The directory's API key as a Bearer token",
)


def atlassian_provider(page_cap: int) -> ScimProvider:
    """RFC 7643's User (with the enterprise extension) and Group, configured as Atlassian's service."""
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=page_cap),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[BEARER],
    )
    return ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )


def email_domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


class AtlassianService(ScimService):
    def __init__(self, provider: ScimProvider, verified_domains: tuple[str, ...]) -> None:
        super().__init__(provider)
        self.verified_domains = frozenset(verified_domains)

    # -- listings: one `eq` filter, no sorting, at most `page_cap` a page --------------------------

    def read_search_query(
        self, resource_types: list[ResourceType], query: Mapping[str, str]
    ) -> tuple[SearchRequest[Any], Any]:
        raw = query.get("filter")
        if raw is not None:
            match = _FILTER.match(raw)
            allowed = [attribute for rt in resource_types for attribute in FILTERABLE.get(str(rt.name), ())]
            if match is None or match["attribute"].lower() not in {name.lower() for name in allowed}:
                names = " or ".join(allowed) or "nothing"
                raise InvalidFilterException(detail=f"Only one 'eq' filter on {names} is supported")
        return super().read_search_query(resource_types, query)

    # -- users: emails on verified domains; externalId only at creation --------------------------

    def read_creation(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> Resource[Any]:
        resource = super().read_creation(resource_type, body, content_type)
        if resource_type.name == USERS:
            self._check_domains(resource)
        return resource

    def read_patch(self, resource_type: ResourceType, body: bytes, content_type: str | None) -> PatchOp[Any]:
        return super().read_patch(resource_type, _spread_member_removals(body), content_type)

    def member_steps(
        self, group_model: type[Resource[Any]], patch_op: PatchOp[Any]
    ) -> list[MemberStep] | None:
        """A group PATCH as the members it adds and the member ids it removes, in order, when that is
        all it does (`add` on `members`, `remove` on `members[value eq ...]`, the form
        `_spread_member_removals` gives Atlassian's); None for anything else, which scim2-models
        applies. The store applies the steps in place (`DirectoryStore.change_members`): scim2-server's
        way copies the whole group about six times and compares every member with pydantic, seconds
        for a group of 100,000."""
        steps: list[MemberStep] = []
        for operation in patch_op.operations or []:
            node = operation.path.ast if operation.path is not None else None
            if (
                operation.op == PatchOperation.Op.add
                and _is_members(node)
                and isinstance(operation.value, list)
            ):
                members = [_member(group_model, value) for value in operation.value]
                if any(member.value is None for member in members):
                    return None
                steps.append(("add", members))
            elif (
                operation.op == PatchOperation.Op.remove
                and isinstance(node, ValuePath)
                and _is_members(node.attr_path)
                and node.sub_attr is None
                and (ids := _member_ids(node.val_filter)) is not None
            ):
                steps.append(("remove", ids))
            else:
                return None
        return steps

    def apply_patch(
        self, current: Resource[Any], patch_op: PatchOp[Any], conditions: Conditions
    ) -> Resource[Any] | None:
        before = current.model_copy()  # shallow: only the name and externalId are compared
        patched = super().apply_patch(current, patch_op, conditions)
        if patched is not None:
            self._check_change(before, patched)
        return patched

    def apply_replacement(
        self, current: Resource[Any], replacement: Resource[Any], conditions: Conditions
    ) -> Resource[Any] | None:
        before = current.model_copy()
        replaced = super().apply_replacement(current, replacement, conditions)
        if replaced is not None:
            self._check_change(before, replaced)
        return replaced

    def _check_change(self, before: Resource[Any], after: Resource[Any]) -> None:
        if getattr(before, "display_name", None) != getattr(after, "display_name", None) and _is(
            before, GROUPS
        ):
            raise MutabilityException(detail="Renaming a group is not supported")
        if _is(before, USERS):
            if before.external_id != after.external_id:
                raise MutabilityException(detail="externalId cannot be changed on an existing user")
            self._check_domains(after)

    def _check_domains(self, user: Resource[Any]) -> None:
        if not self.verified_domains:
            return
        addresses = [email.value for email in getattr(user, "emails", None) or [] if email.value]
        for address in addresses:
            if email_domain(address) not in self.verified_domains:
                raise InvalidValueException(
                    detail=f"The email {address} is not on a verified domain of the organization"
                )

    # -- responses -------------------------------------------------------------------------------

    def search_response(
        self,
        base_url: str,
        resource_types: list[ResourceType],
        page: SearchPage,
        search_request: SearchRequest[Any],
    ) -> ScimResponse:
        """A listing without `attributes`/`excludedAttributes`, rendered by `render` (the same JSON as
        scim2-server's, which takes 50 times longer: a 100,000-user walk would take minutes)."""
        if (
            search_request.attributes
            or search_request.excluded_attributes
            or search_request.cursor is not None
        ):
            return super().search_response(base_url, resource_types, page, search_request)
        resources = [self.render(base_url, resource) for resource in page.resources]
        body = {
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": page.total,
            "startIndex": search_request.start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
        return ScimResponse(HTTPStatus.OK, body)

    def render(self, base_url: str, resource: Resource[Any]) -> dict[str, Any]:
        """A stored resource as `GET` returns it: plain pydantic serialization, then what scim2-models'
        response context changes for the resources this emulator stores (schemas of the extensions
        present only, no write-only password, no version, absolute locations). A group's members are
        written out directly (`_member_json`)."""
        body = PydanticModel.model_dump(
            resource, mode="json", by_alias=True, exclude_none=True, exclude={"members"}
        )
        body.pop("password", None)
        main, *extensions = body.get("schemas", [])
        body["schemas"] = [main, *(urn for urn in extensions if urn in body)]
        for urn in body["schemas"][1:]:
            body[urn].pop("schemas", None)
        meta = body["meta"]
        meta.pop("version", None)
        meta["location"] = self.resource_location(
            base_url, self.get_resource_type_of(resource), str(resource.id)
        )
        members = getattr(resource, "members", None)
        if members is not None:
            body["members"] = [_member_json(member) for member in members]
            for member in body["members"]:
                if "$ref" in member:
                    member["$ref"] = self.reference_location(base_url, member["$ref"])
        return body

    def patch_response(
        self, base_url: str, resource: Resource[Any], response_parameters: ResponseParameters[Any]
    ) -> ScimResponse:
        """Atlassian answers a PATCH with 200 and the resource (scim2-server: 204 when nothing asked),
        rendered by `render` unless `attributes`/`excludedAttributes` ask for a projection."""
        if response_parameters.attributes or response_parameters.excluded_attributes:
            published = self.publish(base_url, resource)
            return self.resource_response(
                published, Context.RESOURCE_REPLACEMENT_RESPONSE, response_parameters, HTTPStatus.OK
            )
        body = self.render(base_url, resource)
        return ScimResponse(HTTPStatus.OK, body, {"Content-Location": body["meta"]["location"]})


def _is(resource: Resource[Any], name: str) -> bool:
    return resource.meta is not None and resource.meta.resource_type == name


def _is_members(node: Any) -> bool:
    return (
        isinstance(node, AttrPath)
        and node.attr.lower() == "members"
        and node.sub_attr is None
        and node.uri in (None, GROUP_SCHEMA)
    )


def _member_json(member: Any) -> dict[str, Any]:
    """A group member as pydantic's JSON dump gives it (its four attributes, none left out), ten times
    faster: scim2-models' serializer costs ~10 µs a member, a second for a group of 100,000."""
    attributes = {"value": member.value, "$ref": member.ref, "type": member.type, "display": member.display}
    return {name: str(value) for name, value in attributes.items() if value is not None}


def _member(group_model: type[Resource[Any]], value: Any) -> Any:
    """One member of an `add`, validated as scim2-models validates it when it applies the PATCH."""
    try:
        return group_model.Members.model_validate(value)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise InvalidValueException(detail=str(exc)) from None


def _member_ids(selector: FilterNode) -> frozenset[str] | None:
    """The ids `value eq "a" or value eq "b" ...` selects (`value` is case-exact), or None for
    another filter."""
    terms = (
        selector.terms
        if isinstance(selector, LogicalExpr) and selector.op == LogicalOperator.or_
        else (selector,)
    )
    ids = []
    for term in terms:
        if not (
            isinstance(term, Comparison)
            and term.op == CompareOperator.eq
            and term.attr_path.attr.lower() == "value"
            and term.attr_path.sub_attr is None
            and isinstance(term.value, str)
        ):
            return None
        ids.append(term.value)
    return frozenset(ids)


def _spread_member_removals(body: bytes) -> bytes:
    """`{"op": "remove", "path": "members", "value": [{"value": id}...]}` (the form Atlassian's clients
    send) as the RFC form scim2-server takes: `members[value eq "a" or value eq "b" ...]`."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InvalidSyntaxException(detail=str(exc)) from exc
    operations = payload.get("Operations") if isinstance(payload, dict) else None
    if not isinstance(operations, list):
        return body
    rewritten: list[Any] = []
    for operation in operations:
        if (
            isinstance(operation, dict)
            and str(operation.get("op", "")).lower() == "remove"
            and str(operation.get("path", "")).lower() == "members"
            and isinstance(operation.get("value"), list)
        ):
            values = [
                member.get("value") if isinstance(member, dict) else None for member in operation["value"]
            ]
            if not all(isinstance(value, str) for value in values):
                raise InvalidValueException(detail="each member to remove needs a 'value'")
            if values:
                selector = " or ".join(f"value eq {json.dumps(value)}" for value in values)
                rewritten.append({"op": "remove", "path": f"members[{selector}]"})
        else:
            rewritten.append(operation)
    return json.dumps({**payload, "Operations": rewritten}).encode()
