"""A typed client for n8n's public API v1.

Retries follow keyturn's one policy (core/http.py): backoff with jitter on 429 and 5xx,
honouring `Retry-After`, for a bounded number of attempts; a POST is retried only when n8n
surely did not act on it (429, or no connection made), so a retry never creates twice.
Every refusal becomes a typed error whose message says what to do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from keyturn.core.config import N8nConnection
from keyturn.core.errors import (
    N8nApiError,
    N8nAuthError,
    N8nError,
    N8nNotFound,
    N8nScopeError,
    N8nUnreachable,
    N8nUnsupported,
)
from keyturn.core.http import (
    RETRYABLE_STATUSES,
    RetryPolicy,
    new_client,
    send_with_retries,
    tls_failure,
)
from keyturn.n8n.models import (
    Credential,
    CredentialTestResult,
    Execution,
    Workflow,
    n8n_message,
)
from keyturn.n8n.scopes import required_scope
from keyturn.n8n.session import CredentialData, N8nSession

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
PAGE_SIZE = 250  # the largest page n8n's public API serves
PROBE_ID = "keyturn-probe-0"  # an id no credential has: probes change nothing
LOGIN_HINT = (
    "Add a keyturn user (KEYTURN_N8N_EMAIL and KEYTURN_N8N_PASSWORD_FILE, or email and "
    "password_file in keyturn.toml): see docs/compatibility.md."
)

ProgressCallback = Callable[[int], None]


class N8nClient:
    """Talks to one n8n instance. Counts every HTTP request it sends in `request_count`.

    The public API is used wherever this n8n offers the operation; where it does not (n8n 1.x
    has no credential list, get, update or test; 2.3 to 2.7 no list), the keyturn user's
    session (`self.session`, when configured) does it. What neither can see is recorded in
    `blind_spots`, for the reports to say.
    """

    def __init__(
        self,
        connection: N8nConnection,
        *,
        transport: httpx.BaseTransport | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
    ) -> None:
        self.connection = connection
        self._public_requests = 0
        self._retry = RetryPolicy(connection.max_attempts, backoff_initial, backoff_max)
        self._http = new_client(
            base_url=connection.url + API_PREFIX,
            headers={
                "X-N8N-API-KEY": connection.api_key.get_secret_value(),
                "Accept": "application/json",
            },
            timeout=connection.timeout,
            verify=connection.tls_verify,
            transport=transport,
            carries="the n8n API key",
            ca_setting=connection.ca_bundle_setting,
        )
        self.session = (
            N8nSession(connection, connection.login, transport=transport, retry=self._retry)
            if connection.login
            else None
        )
        self.blind_spots: list[str] = []
        self._supported: dict[str, bool] = {}

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, to the public API and as the keyturn user."""
        return self._public_requests + (self.session.request_count if self.session else 0)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        self._http.close()

    def __enter__(self) -> N8nClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- credentials -----------------------------------------------------------------------

    def list_credentials(self, progress: ProgressCallback | None = None) -> list[Credential]:
        """Every credential: from the public API, else the keyturn user's session, else what
        workflows reference and n8n's audit reports (the gaps go to `blind_spots`)."""
        if self._supported.get("credential_list", True):
            try:
                items = list(self._paginate("/credentials", {}, progress))
            except N8nUnsupported:
                self._supported["credential_list"] = False
            else:
                self._supported["credential_list"] = True
                return [Credential.model_validate(item) for item in items]
        if self.session is not None:
            credentials = self.session.list_credentials()
            if not self.session.sees_everything:
                self._note(
                    f"The keyturn user {self.session.login_settings.email} is not an owner or "
                    f"admin (n8n says {self.session.role or 'no role'}): the list holds only "
                    "the credentials shared with it. Give it the admin role to see them all."
                )
            if progress:
                progress(len(credentials))
            return credentials
        return self._credentials_without_list(progress)

    def _credentials_without_list(self, progress: ProgressCallback | None) -> list[Credential]:
        found: dict[str, Credential] = {}
        for workflow in self.iter_workflows():
            for node in workflow.nodes:
                for cred_type, ref in node.credentials.items():
                    if ref.id and ref.id not in found:
                        found[ref.id] = Credential(id=ref.id, name=ref.name or "", type=cred_type)
        unused = self.audit_unused_credentials()
        for credential in unused or []:
            found.setdefault(credential.id, credential)
        self._note(
            "This n8n's public API cannot list credentials: keyturn lists those that workflows "
            "use"
            + (" and those n8n's audit reports unused" if unused is not None else "")
            + "; their ages and, for unused ones, their types are unknown; names are those the "
            "nodes recorded, and a reference to a deleted credential cannot be told from a "
            f"live one. {LOGIN_HINT}"
        )
        if progress:
            progress(len(found))
        return list(found.values())

    def _note(self, text: str) -> None:
        if text not in self.blind_spots:
            self.blind_spots.append(text)

    def audit_unused_credentials(self) -> list[Credential] | None:
        """Credentials n8n's audit (`POST /audit`) reports unused; None when it cannot run."""
        body = {"additionalOptions": {"categories": ["credentials"]}}
        try:
            report = self._request("POST", "/audit", json=body)
        except (N8nUnsupported, N8nScopeError, N8nApiError) as exc:
            log.info("n8n's audit is not available: %s", exc.message)
            return None
        found = []
        for risk in report.values() if isinstance(report, dict) else []:
            for section in risk.get("sections", []) if isinstance(risk, dict) else []:
                if "not used" not in str(section.get("title", "")).lower():
                    continue
                for place in section.get("location", []):
                    if isinstance(place, dict) and place.get("kind") == "credential":
                        found.append(
                            Credential(
                                id=str(place["id"]), name=str(place.get("name", "")), type=""
                            )
                        )
        return found

    def get_credential(self, credential_id: str) -> Credential:
        return Credential.model_validate(self._request("GET", f"/credentials/{credential_id}"))

    def create_credential(self, name: str, cred_type: str, data: dict[str, Any]) -> Credential:
        body = {"name": name, "type": cred_type, "data": data}
        return Credential.model_validate(self._request("POST", "/credentials", json=body))

    def update_credential(
        self, credential_id: str, data: dict[str, Any], *, partial: bool = True
    ) -> Credential:
        """Update a credential's data. `partial` merges the given fields into the stored ones."""
        body: dict[str, Any] = {"data": data, "isPartialData": partial}
        return Credential.model_validate(
            self._request("PATCH", f"/credentials/{credential_id}", json=body)
        )

    def delete_credential(self, credential_id: str) -> None:
        self._request("DELETE", f"/credentials/{credential_id}")

    def test_credential(self, credential_id: str) -> CredentialTestResult:
        """n8n's own credential test: the public API's, else the keyturn user's."""
        if self._supported.get("credential_test", True):
            path = f"/credentials/{credential_id}/test"
            response = self._send_with_retries("POST", path, None, None)
            if not _route_missing(response):  # n8n 1.x to about 2.19 answer a bare 404
                return CredentialTestResult.model_validate(self._handle("POST", path, response))
            self._supported["credential_test"] = False
        if self.session is None:
            raise N8nUnsupported("This n8n's public API cannot test a credential.", LOGIN_HINT)
        return self.session.test_credential(self.session.read_credential(credential_id))

    def read_credential(self, credential_id: str) -> CredentialData | None:
        """A credential's data with its non-secret fields in clear, through the keyturn user's
        session; None without one (the public API never returns credential data)."""
        return self.session.read_credential(credential_id) if self.session else None

    def credential_schema(self, cred_type: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/credentials/schema/{cred_type}")
        return result

    # -- workflows -------------------------------------------------------------------------

    def iter_workflows(self, progress: ProgressCallback | None = None) -> Iterator[Workflow]:
        params = {"excludePinnedData": "true"}
        for item in self._paginate("/workflows", params, progress):
            yield Workflow.model_validate(item)

    def iter_workflow_documents(self) -> Iterator[dict[str, Any]]:
        """Workflows exactly as n8n returns them, pinned data included (for the scanner)."""
        for item in self._paginate("/workflows", {"excludePinnedData": "false"}, None):
            if isinstance(item, dict):
                yield item

    def list_workflows(self, progress: ProgressCallback | None = None) -> list[Workflow]:
        return list(self.iter_workflows(progress))

    def get_workflow_raw(self, workflow_id: str) -> dict[str, Any]:
        """The workflow exactly as n8n returns it (to change and send back with `update`)."""
        result: dict[str, Any] = self._request("GET", f"/workflows/{workflow_id}")
        return result

    def get_workflow(self, workflow_id: str) -> Workflow:
        return Workflow.model_validate(self.get_workflow_raw(workflow_id))

    def create_workflow(self, body: dict[str, Any]) -> Workflow:
        return Workflow.model_validate(self._request("POST", "/workflows", json=body))

    def update_workflow(self, workflow_id: str, body: dict[str, Any]) -> Workflow:
        """Replace a workflow: `body` carries name, nodes, connections and settings."""
        allowed = {"name", "nodes", "connections", "settings", "staticData"}
        payload = {key: value for key, value in body.items() if key in allowed}
        payload.setdefault("settings", {})
        return Workflow.model_validate(
            self._request("PUT", f"/workflows/{workflow_id}", json=payload)
        )

    def delete_workflow(self, workflow_id: str) -> None:
        self._request("DELETE", f"/workflows/{workflow_id}")

    def activate_workflow(self, workflow_id: str) -> Workflow:
        return Workflow.model_validate(self._request("POST", f"/workflows/{workflow_id}/activate"))

    def deactivate_workflow(self, workflow_id: str) -> Workflow:
        return Workflow.model_validate(
            self._request("POST", f"/workflows/{workflow_id}/deactivate")
        )

    # -- executions ------------------------------------------------------------------------

    def iter_executions(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        include_data: bool = False,
        page_size: int = 100,
    ) -> Iterator[Execution]:
        """Executions, newest first, filtered by status ('error', 'success', ...) and workflow."""
        params: dict[str, str] = {"includeData": "true" if include_data else "false"}
        if status:
            params["status"] = status
        if workflow_id:
            params["workflowId"] = workflow_id
        for item in self._paginate("/executions", params, None, page_size=page_size):
            yield Execution.model_validate(item)

    def get_execution(self, execution_id: str, *, include_data: bool = True) -> Execution:
        params = {"includeData": "true" if include_data else "false"}
        return Execution.model_validate(
            self._request("GET", f"/executions/{execution_id}", params=params)
        )

    def retry_execution(self, execution_id: str, *, load_workflow: bool = True) -> Execution:
        """Re-run a failed execution; with `load_workflow`, on the workflow as saved now."""
        body = {"loadWorkflow": load_workflow}
        return Execution.model_validate(
            self._request("POST", f"/executions/{execution_id}/retry", json=body)
        )

    # -- feature detection -----------------------------------------------------------------

    def supports_credential_update(self) -> bool:
        """Whether the public API can update a credential in place (PATCH, n8n 2.3 on)."""
        return self._supports("credential_update", "PATCH", {"data": {}, "isPartialData": True})

    def supports_credential_test(self) -> bool:
        """Whether n8n can run a credential's test: its public API (about 2.20 on) or the
        keyturn user's session (any version)."""
        return self.session is not None or self._supports("credential_test", "POST", None)

    def _supports(self, capability: str, method: str, body: Any) -> bool:
        """Probe an operation on a credential id that cannot exist, once per client: n8n
        answers 404 "... not found" naming the credential when the operation exists, and 405 or
        a bare route 404 when it does not. Nothing is changed either way."""
        if capability in self._supported:
            return self._supported[capability]
        suffix = "/test" if capability == "credential_test" else ""
        path = f"/credentials/{PROBE_ID}{suffix}"
        response = self._send_with_retries(method, path, None, body)
        if response.status_code in (401, 403) or response.status_code in RETRYABLE_STATUSES:
            raise self._error_for(method, path, response)  # never read a failure as "absent"
        if _route_missing(response):
            supported = False
        else:  # a 404 naming the credential, or the route checked the body
            supported = response.status_code in (404, 400, 409, 422) or response.status_code < 400
        self._supported[capability] = supported
        return supported

    # -- transport -------------------------------------------------------------------------

    def _paginate(
        self,
        path: str,
        params: dict[str, str],
        progress: ProgressCallback | None,
        *,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        fetched = 0
        while True:
            page_params = {**params, "limit": str(page_size)}
            if cursor:
                page_params["cursor"] = cursor
            page = self._request("GET", path, params=page_params)
            items = page.get("data", []) if isinstance(page, dict) else []
            fetched += len(items)
            if progress:
                progress(fetched)
            yield from items
            cursor = page.get("nextCursor") if isinstance(page, dict) else None
            if not cursor or not items:
                return

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        response = self._send_with_retries(method, path, params, json)
        return self._handle(method, path, response)

    def _send_with_retries(
        self, method: str, path: str, params: dict[str, str] | None, json: Any
    ) -> httpx.Response:
        def send() -> httpx.Response:
            self._public_requests += 1
            log.debug("n8n %s %s", method, path)
            return self._http.request(method, path, params=params, json=json)

        outcome = send_with_retries(
            send, self._retry, idempotent=method != "POST", what=f"n8n {method} {path}"
        )
        if isinstance(outcome, httpx.TransportError):
            raise self._unreachable(outcome)
        return outcome

    def _handle(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status < 400:
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise N8nApiError(
                    f"{self.connection.url} answered {method} {API_PREFIX}{path} with something "
                    "that is not n8n's API (not JSON).",
                    "Check the n8n URL: it should be the base address, without /api/v1.",
                    status,
                ) from None
        raise self._error_for(method, path, response)

    def _error_for(self, method: str, path: str, response: httpx.Response) -> N8nError:
        status = response.status_code
        detail = n8n_message(response)
        where = f"{method} {API_PREFIX}{path}"
        if status == 401:
            return N8nAuthError(
                f"n8n at {self.connection.url} refused the API key (401 Unauthorized).",
                f"Check {self.connection.key_source}: the key may be wrong, expired or deleted; "
                "create one in n8n under Settings > n8n API.",
            )
        if status == 403:
            # n8n 2.41 names the scope itself when it saved a workflow as a draft only.
            named = re.search(r"\bthe ([a-z]+:[A-Za-z]+) scope\b", detail)
            scope = named.group(1) if named else required_scope(method, path)
            needed = f"the scope {scope!r}" if scope else "a scope"
            return N8nScopeError(
                f"The n8n API key lacks {needed} needed for {where} (403 Forbidden: {detail}).",
                f"Edit the key in n8n (Settings > n8n API) to grant {scope or 'that scope'}; "
                "docs/n8n-api-key.md lists the scopes keyturn uses.",
                scope,
            )
        if status == 404 and _resource_of(path) is None:
            return N8nApiError(
                f"{self.connection.url} has no n8n public API ({where} answered 404).",
                f"Check {self.connection.url_setting} (the base address of n8n) and that the "
                "public API is not disabled (N8N_PUBLIC_API_DISABLED).",
                status,
            )
        if status == 404:
            return N8nNotFound(
                f"n8n has no {_resource_of(path)} ({where} answered 404: {detail}).",
                "Check the id (keyturn inventory lists credentials and workflows).",
            )
        if status == 405:
            return N8nUnsupported(
                f"This n8n does not support {where} (405 Method Not Allowed).",
                LOGIN_HINT,
            )
        if status in RETRYABLE_STATUSES:
            retried = method != "POST" or status == 429
            attempts = f" after {self.connection.max_attempts} attempts" if retried else ""
            hint = (
                "n8n failed on its side: its log says why."
                if status == 500
                else "n8n is overloaded or restarting; try again later."
            )
            return N8nApiError(
                f"n8n answered {status} to {where}{attempts}: {detail}.", hint, status
            )
        return N8nApiError(f"n8n refused {where} ({status}): {detail}.", None, status)

    def _unreachable(self, exc: httpx.TransportError) -> N8nUnreachable:
        url = self.connection.url
        text = str(exc) or type(exc).__name__
        if tls_failure(exc):
            return N8nUnreachable(
                f"TLS verification failed for n8n at {url}: {text}.",
                f"If n8n's certificate comes from a private CA, set "
                f"{self.connection.ca_bundle_setting} to that CA's certificate (a PEM file).",
            )
        if isinstance(exc, httpx.TimeoutException):
            return N8nUnreachable(
                f"n8n at {url} did not answer within {self.connection.timeout:g}s.",
                "Check that n8n is healthy, or raise the instance's timeout.",
            )
        return N8nUnreachable(
            f"Cannot connect to n8n at {url} ({text}).",
            f"Check that n8n is running and that {self.connection.url_setting} is right.",
        )


def _route_missing(response: httpx.Response) -> bool:
    """Whether n8n's public API lacks the route asked for: 405, or a 404 that names no
    credential (a missing credential on an existing route is named in the 404's message; the
    same rule as `_supports`)."""
    status = response.status_code
    return status == 405 or (status == 404 and "credential" not in n8n_message(response).lower())


def _resource_of(path: str) -> str | None:
    """'credential with id 'x'' for /credentials/x; None for a path that names no resource."""
    parts = [part for part in path.split("?")[0].split("/") if part]
    if len(parts) >= 2:
        return f"{parts[0].rstrip('s')} with id {parts[1]!r}"
    return None
