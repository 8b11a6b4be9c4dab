"""Connecting cloud projects, and replacing their IAM credentials: always proven against
the cloud before anything is saved, and audited."""

import logging
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from access.models import AuditEvent, CloudProject, Membership
from access.services import audit
from backups.cloud import (
    AuthenticationFailed,
    CloudError,
    CloudUnavailable,
    DjangoCacheCallBudget,
    DjangoCacheTokenStore,
    Forbidden,
    RetryPolicy,
    Throttled,
    client_for_project,
)
from backups.cloud import Instance as CloudInstance
from backups.cloud.answers import EndpointProblem
from backups.cloud.memory import MemoryTokenStore
from backups.cloud.stores import cache_key
from backups.services.sync import instances_sync
from webapp import outbound
from webapp.throttle import Throttle

log = logging.getLogger(__name__)

Role = Membership.Role


class CloudCheckFailed(Exception):
    """The credentials did not prove themselves; `str()` says why, for the person who typed them."""


@dataclass(frozen=True)
class CredentialsCheck:
    """What proving a set of credentials found: the project's Cassandra instances."""

    instances: list[CloudInstance]


def _checking_client(project: CloudProject):
    # A token store of its own (cloud/memory.py explains why), one attempt, and no waiting
    # for the call budget: someone is watching the page.
    return client_for_project(
        project,
        token_store=MemoryTokenStore(),
        call_budget=DjangoCacheCallBudget(settings.CLOUD_CALLS_PER_MINUTE, max_wait=0),
        retry=RetryPolicy(attempts=1),
        timeout=(min(5.0, settings.CLOUD_TIMEOUT_SECONDS), settings.CLOUD_TIMEOUT_SECONDS),
    )


def _check_failure(error: Exception, project: CloudProject) -> str:
    if isinstance(error, EndpointProblem):
        which, url = (
            ("IAM", project.iam_endpoint)
            if error.path == "/v3/auth/tokens"
            else ("GeminiDB", project.geminidb_endpoint)
        )
        return _(
            "The %(service)s endpoint %(url)s cannot be used: %(reason)s. Check the address. Nothing was saved."
        ) % {"service": which, "url": url, "reason": error.error_msg}
    if isinstance(error, AuthenticationFailed):
        return _(
            "IAM refused the sign-in (%(reason)s). Check the IAM domain, user name and password, and that the "
            "user may access project %(project)s. Nothing was saved."
        ) % {"reason": error.error_msg or _("no reason given"), "project": project.project_id}
    if isinstance(error, Throttled):
        return _("The cloud is limiting calls for this IAM user right now. Try again in a minute. Nothing was saved.")
    if isinstance(error, CloudUnavailable | requests.RequestException):
        iam = "/v3/auth/tokens" in str(error)
        which, url = ("IAM", project.iam_endpoint) if iam else ("GeminiDB", project.geminidb_endpoint)
        return _(
            "No usable answer from the %(service)s endpoint %(url)s. Check the address, and that this server can "
            "reach it. Nothing was saved."
        ) % {"service": which, "url": url}
    if isinstance(error, Forbidden):
        return _(
            "The IAM user signed in but may not list GeminiDB instances in project %(project)s (%(error)s). "
            "Grant it GeminiDB permissions in that project. Nothing was saved."
        ) % {"project": project.project_id, "error": error}
    return _(
        "The cloud refused to list the project's instances (%(error)s). Check the project ID and the GeminiDB "
        "endpoint. Nothing was saved."
    ) % {"error": error}


def _password_tries() -> Throttle:
    """Wrong IAM passwords the console may try per IAM user: fewer than make IAM lock the user."""
    return Throttle("iam-password", settings.IAM_PASSWORD_TRIES_LIMIT, settings.IAM_PASSWORD_TRIES_WINDOW_SECONDS)


def _credentials_check(project: CloudProject) -> CredentialsCheck:
    tries = _password_tries()
    iam_user = cache_key("iam-user", project.iam_endpoint, project.iam_domain, project.iam_user)
    if tries.exceeded(iam_user):
        minutes = -(-tries.seconds_left() // 60)
        raise CloudCheckFailed(
            _(
                "IAM refused %(limit)s passwords for %(domain)s/%(user)s a short while ago. So that IAM does not "
                "lock this user out, the console tries again in %(minutes)s min. Nothing was saved."
            )
            % {"limit": tries.limit, "domain": project.iam_domain, "user": project.iam_user, "minutes": minutes}
        )
    client = _checking_client(project)
    try:
        return CredentialsCheck(client.list_instances(datastore_type="cassandra"))
    except (CloudError, requests.RequestException) as error:
        log.info("Credentials for project %s did not prove themselves: %s", project.project_id, type(error).__name__)
        if isinstance(error, AuthenticationFailed):
            tries.hit(iam_user)
        raise CloudCheckFailed(_check_failure(error, project)) from error
    finally:
        client.close()


def _endpoints(iam_endpoint: str, geminidb_endpoint: str) -> tuple[str, str]:
    """Both endpoints as the form's field leaves them (scheme and host only, https unless the host
    is allowed), or a ValidationError per field. Where they resolve to is checked at each call."""
    endpoints, errors = {}, {}
    for field, value in (("iam_endpoint", iam_endpoint), ("geminidb_endpoint", geminidb_endpoint)):
        try:
            endpoints[field] = outbound.normalize_base_url(value)
        except ValidationError as error:
            errors[field] = error
    if errors:
        raise ValidationError(errors)
    return endpoints["iam_endpoint"], endpoints["geminidb_endpoint"]


@sensitive_variables("password")
def project_credentials_check(
    *, iam_endpoint: str, geminidb_endpoint: str, project_id: str, iam_domain: str, iam_user: str, password: str
) -> CredentialsCheck:
    """Prove credentials before anything is saved: get a token and list the Cassandra instances.

    Raises CloudCheckFailed with a message that says what to fix, or ValidationError for an
    endpoint that is not a scheme and host.
    """
    iam_endpoint, geminidb_endpoint = _endpoints(iam_endpoint, geminidb_endpoint)
    unsaved = CloudProject(
        iam_endpoint=iam_endpoint,
        geminidb_endpoint=geminidb_endpoint,
        project_id=project_id,
        iam_domain=iam_domain,
        iam_user=iam_user,
        iam_password=password,
    )
    return _credentials_check(unsaved)


@sensitive_variables("password")
def project_connect(
    *,
    by,
    name: str,
    region: str,
    iam_endpoint: str,
    geminidb_endpoint: str,
    project_id: str,
    iam_domain: str,
    iam_user: str,
    password: str,
    admin,
) -> CloudProject:
    """Connect a cloud project: prove the credentials, save the project with its first admin,
    then list its instances.

    Raises CloudCheckFailed (nothing saved) or ValidationError (already connected, admin
    deactivated, an endpoint that is not a scheme and host).
    """
    iam_endpoint, geminidb_endpoint = _endpoints(iam_endpoint, geminidb_endpoint)
    if not admin.is_active:
        raise ValidationError(
            {"admin": _("The account %(user)s is deactivated.") % {"user": admin.get_username()}}, code="inactive"
        )
    project = CloudProject(
        name=name,
        region=region,
        project_id=project_id,
        iam_endpoint=iam_endpoint,
        geminidb_endpoint=geminidb_endpoint,
        iam_domain=iam_domain,
        iam_user=iam_user,
        iam_password=password,
    )
    found = _credentials_check(project)
    try:
        with transaction.atomic():
            project.save()
            Membership.objects.create(user=admin, project=project, role=Role.ADMIN)
            audit.record(
                AuditEvent.Action.PROJECT_CONNECTED,
                actor=by,
                project=project,
                target=name,
                details={
                    "region": region,
                    "project_id": project_id,
                    "iam_endpoint": iam_endpoint,
                    "geminidb_endpoint": geminidb_endpoint,
                    "iam_domain": iam_domain,
                    "iam_user": iam_user,
                    "instances_found": len(found.instances),
                },
            )
            audit.record(
                AuditEvent.Action.MEMBER_ADDED,
                actor=by,
                project=project,
                target=admin.get_username(),
                target_user=admin,
                details={"role": Role.ADMIN},
            )
    except IntegrityError:
        raise ValidationError(
            {"project_id": _("Project %(project)s is already connected.") % {"project": project_id}}, code="taken"
        ) from None
    # After the commit, never inside it (no network I/O in a transaction). A failure here
    # only delays the list: the periodic sync fills it in.
    try:
        instances_sync(project=project)
    except CloudError:
        log.warning("Project %s connected; its first instance sync failed", project.project_id, exc_info=True)
    return project


def _token_cache_key(project: CloudProject) -> str:
    # The client's key for a project's cached token (GeminiDBClient.__init__): endpoint, domain,
    # user and project, but not the password.
    return cache_key("token", project.iam_endpoint, project.iam_domain, project.iam_user, project.project_id)


@sensitive_variables("password")
def project_credentials_rotate(
    *, project: CloudProject, by, iam_domain: str, iam_user: str, password: str
) -> CredentialsCheck:
    """Replace the project's IAM credentials after proving the new ones; forget cached tokens.

    The password is always required: the stored one is never sent anywhere it was not sent
    before. Raises CloudCheckFailed and saves nothing when the new credentials do not work.
    """
    candidate = CloudProject(
        pk=project.pk,
        name=project.name,
        iam_endpoint=project.iam_endpoint,
        geminidb_endpoint=project.geminidb_endpoint,
        project_id=project.project_id,
        iam_domain=iam_domain,
        iam_user=iam_user,
        iam_password=password,
    )
    found = _credentials_check(candidate)
    previous = {"iam_domain": project.iam_domain, "iam_user": project.iam_user}
    stale_keys = {_token_cache_key(project), _token_cache_key(candidate)}
    with transaction.atomic():
        project.iam_domain, project.iam_user, project.iam_password = iam_domain, iam_user, password
        project.save(update_fields=["iam_domain", "iam_user", "iam_password", "updated_at"])
        audit.record(
            AuditEvent.Action.CREDENTIALS_CHANGED,
            actor=by,
            project=project,
            target=project.name,
            details={"iam_domain": iam_domain, "iam_user": iam_user, "previous": previous},
        )
    # A token got with the old password stays valid for up to a day (FIELD-NOTES); workers
    # must not go on using it as if the new credentials had been proven with it.
    store = DjangoCacheTokenStore()
    store.cache.delete_many(list(stale_keys))
    return found
