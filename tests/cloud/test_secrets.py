"""No password or token ever reaches a log line, a repr or an error message."""

import logging
from dataclasses import replace

import pytest

from backups.cloud import AuthenticationFailed, CloudError, DjangoCacheTokenStore

pytestmark = pytest.mark.django_db


class RecordingTokenStore(DjangoCacheTokenStore):
    """The default store, remembering every token it was given."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def set(self, key, token):
        self.seen.append(token.value)
        super().set(key, token)


def test_a_full_session_never_logs_secrets(make_client, credentials, simulator, caplog):
    caplog.set_level(logging.DEBUG, logger="backups.cloud")
    store = RecordingTokenStore()
    client = make_client(token_store=store)
    instance = simulator.add_instance("cass-1")
    errors = []

    client.list_instances()
    created = client.create_backup(instance["id"], "backup-1", "x")
    client.get_job(created.job_id)
    client.list_jobs()
    client.get_backup(created.backup_id)
    client.find_backup_by_name(instance["id"], "backup-1")
    simulator.configure(expire_tokens=True)
    client.list_backups()
    simulator.configure(error_rate=1)
    with pytest.raises(CloudError) as raised:
        client.list_instances()
    errors.append(raised.value)
    simulator.configure(error_rate=0)
    # Another project: for this one the valid token is cached and would be used.
    wrong = make_client(
        credentials=replace(credentials, project_id=simulator.second_project_id, password="Wr0ng-Passw0rd!")
    )
    with pytest.raises(AuthenticationFailed) as raised:
        wrong.list_instances()
    errors.append(raised.value)

    assert len(store.seen) == 2, "a token before and after the forced expiry"
    secrets = [simulator.password, "Wr0ng-Passw0rd!", *store.seen]
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    texts = [logged, repr(client), str(client), repr(wrong), *(str(e) for e in errors), *(repr(e) for e in errors)]
    for secret in secrets:
        for text in texts:
            assert secret not in text
    # The log does say what was called and how it went.
    assert f"POST /v3/{simulator.project_id}/instances/{instance['id']}/backups" in caplog.text
    assert "-> 202" in caplog.text
    assert "request " in caplog.text


def test_client_repr_names_the_user_not_the_password(client, simulator):
    text = repr(client)

    assert simulator.username in text
    assert simulator.project_id in text
    assert simulator.password not in text
