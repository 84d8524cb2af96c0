"""CloudWatch Logs: saved queries (query definitions).

moto 5.2 has no ``PutQueryDefinition``, ``DescribeQueryDefinitions`` or
``DeleteQueryDefinition`` (the saved Logs Insights queries of
``modules/monitoring/alarms.py``). They are answered here as AWS does: a
definition is stored per account and region with its name, query, log groups
and time of change; a put with an id replaces that definition (an unknown id
is ``ResourceNotFoundException``), one without creates a new id; the listing
filters on the name prefix, in pages of ``maxResults`` (at most 1000). No
query runs: moto does not run Logs Insights queries either.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.logs.models import LogsBackend
from moto.logs.responses import LogsResponse

# Kept on moto's logs backend of each account and region, so a reset clears them.
_QUERY_DEFINITIONS_ATTRIBUTE = "_student_mgmt_query_definitions"
#: DescribeQueryDefinitions' largest page (and its default), as in AWS.
MAX_QUERY_DEFINITIONS = 1000


def query_definitions(backend: LogsBackend) -> dict[str, dict[str, Any]]:
    """The backend's query definitions by id, created empty on first use."""
    definitions: dict[str, dict[str, Any]] | None = getattr(backend, _QUERY_DEFINITIONS_ATTRIBUTE, None)
    if definitions is None:
        definitions = {}
        setattr(backend, _QUERY_DEFINITIONS_ATTRIBUTE, definitions)
    return definitions


def put_query_definition(self: LogsResponse) -> str:
    definitions = query_definitions(self.logs_backend)
    definition_id = self._get_param("queryDefinitionId")
    if definition_id and definition_id not in definitions:
        raise ResourceNotFoundException(f"Query definition {definition_id} does not exist.")
    name, query = self._get_param("name"), self._get_param("queryString")
    if not name or not query:
        raise InvalidParameterException("name and queryString are required.")
    definition_id = definition_id or str(uuid.uuid4())
    definition: dict[str, Any] = {
        "queryDefinitionId": definition_id,
        "name": name,
        "queryString": query,
        "lastModified": int(time.time() * 1000),
        "logGroupNames": list(self._get_param("logGroupNames") or []),
    }
    if self._get_param("queryLanguage"):
        definition["queryLanguage"] = self._get_param("queryLanguage")
    definitions[definition_id] = definition
    return json.dumps({"queryDefinitionId": definition_id})


def describe_query_definitions(self: LogsResponse) -> str:
    prefix = self._get_param("queryDefinitionNamePrefix") or ""
    page_size = int(self._get_param("maxResults") or MAX_QUERY_DEFINITIONS)
    if not 1 <= page_size <= MAX_QUERY_DEFINITIONS:
        raise InvalidParameterException(f"maxResults must be from 1 to {MAX_QUERY_DEFINITIONS}.")
    matching = sorted(
        (d for d in query_definitions(self.logs_backend).values() if d["name"].startswith(prefix)),
        key=lambda d: (d["name"], d["queryDefinitionId"]),
    )
    start = int(self._get_param("nextToken") or 0)
    answer: dict[str, Any] = {"queryDefinitions": matching[start : start + page_size]}
    if start + page_size < len(matching):
        answer["nextToken"] = str(start + page_size)
    return json.dumps(answer)


def delete_query_definition(self: LogsResponse) -> str:
    definition_id = self._get_param("queryDefinitionId")
    if query_definitions(self.logs_backend).pop(definition_id, None) is None:
        raise ResourceNotFoundException(f"Query definition {definition_id} does not exist.")
    return json.dumps({"success": True})


def install() -> None:
    """Patch moto (once: ``moto_server.py`` installs every correction as it starts)."""
    # moto's response handler dispatches an action to the method of its snake_case name.
    LogsResponse.put_query_definition = put_query_definition  # type: ignore[attr-defined]
    LogsResponse.describe_query_definitions = describe_query_definitions  # type: ignore[attr-defined]
    LogsResponse.delete_query_definition = delete_query_definition  # type: ignore[attr-defined]
