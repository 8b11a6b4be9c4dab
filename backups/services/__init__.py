"""Everything in `backups` that changes state, a module per sub-domain:

- `submission`: request a backup and submit it to the cloud exactly once (the outbox);
- `tracking`: follow running backups to their end; flag overdue ones;
- `sync`: refresh instances from the cloud and import backups made elsewhere;
- `protection`: keep each instance's protection status current (rules: `backups/protection.py`);
- `policies`: read and change the automated backup policy, and the RPO.

A backup's status changes only through `backups.lifecycle.backup_transition`. Reads for
pages are in `backups.selectors`; people, roles, projects and the audit trail in `access`.
"""
