"""One running emulated Atlassian organization directory: its store, its SCIM service and the knobs."""

from __future__ import annotations

from sandbox.atlassian_cloud.config import CloudConfig
from sandbox.atlassian_cloud.service import AtlassianService, atlassian_provider
from sandbox.atlassian_cloud.store import DirectoryStore
from sandbox.emulation.controls import Controls
from sandbox.emulation.persistence import StateFile


class CloudEmulator(Controls):
    """Everything the HTTP layer serves; tests reach it as `CloudEmulatorServer.emulator`."""

    def __init__(self, config: CloudConfig | None = None) -> None:
        super().__init__()
        self.config = config or CloudConfig()
        provider = atlassian_provider(self.config.page_cap)
        self.service = AtlassianService(provider, self.config.verified_domains)
        types = {str(rt.name): rt for rt in provider.resource_types}
        self.directory = DirectoryStore(
            {name: self.service.get_model(rt) for name, rt in types.items()}, types
        )
        self.state_file = StateFile(self.config.state_file) if self.config.state_file else None
        if self.state_file is not None:
            self.state_file.load_into(self.directory)
        self._apply_config()

    def _apply_config(self) -> None:
        self.set_faults(self.config.faults, self.config.seed)
        self.set_rate_limit(self.config.rate_limit)

    @property
    def store(self) -> DirectoryStore:
        return self.directory

    def reset(self) -> None:
        self.directory.clear()
        self.counters.clear()
        self._apply_config()
