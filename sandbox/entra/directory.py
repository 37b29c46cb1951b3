"""What the emulator holds: the LDIF test directory and the tenant made from it, as one store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.directories.model import DirectoryModel, LdifError
from sandbox.entra.mapping import tenant_view
from sandbox.entra.tenant import Tenant


class EntraDirectory:
    """The store the control routes and the state file see (`sandbox.emulation.persistence.Snapshotted`)."""

    def __init__(self) -> None:
        self.model = DirectoryModel()
        self.tenant = Tenant()

    @property
    def revision(self) -> int:
        return self.tenant.revision

    def load_ldif(self, source: str | Path, name: str | None = None) -> dict[str, int]:
        """Replace the directory with LDIF content records; LdifError (nothing changed) when unusable."""
        model = DirectoryModel.from_ldif(source, name=name)
        counts = self.tenant.replace(tenant_view(model))
        self.model = model
        return counts

    def apply_ldif(self, text: str, name: str | None = None) -> dict[str, int]:
        """Apply LDIF change records (all or nothing) and log what they changed in the tenant."""
        self.model.apply_ldif(text, name=name)
        return self.tenant.replace(tenant_view(self.model))

    def clear(self) -> None:
        self.model = DirectoryModel()
        self.tenant = Tenant()

    def dump(self) -> dict[str, Any]:
        return {"ldif": self.model.to_ldif(), "tenant": self.tenant.dump()}

    def load(self, state: Any) -> None:
        if not isinstance(state, dict) or "ldif" not in state or "tenant" not in state:
            raise ValueError('an Entra emulator state is {"ldif": "...", "tenant": {...}}')
        try:
            model = DirectoryModel.from_ldif(str(state["ldif"]), name="state ldif")
        except LdifError as exc:
            raise ValueError(str(exc)) from None
        tenant = Tenant()
        tenant.load(state["tenant"])
        self.model, self.tenant = model, tenant
