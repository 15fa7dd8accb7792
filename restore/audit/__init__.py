"""The audit trail: a hash-chained, append-only log of who changed what, and backups.

Other code calls only these: `record` inside its own write transaction, `verify`,
`entries` and `to_csv` to read the log, and `backup` / `restore` for the whole database.
"""

from restore.audit.backup import BackupError, backup, restore
from restore.audit.log import (
    AuditChainBroken,
    VerifyResult,
    actor_name,
    entries,
    record,
    to_csv,
    verify,
)

__all__ = [
    "AuditChainBroken",
    "BackupError",
    "VerifyResult",
    "actor_name",
    "backup",
    "entries",
    "record",
    "restore",
    "to_csv",
    "verify",
]
