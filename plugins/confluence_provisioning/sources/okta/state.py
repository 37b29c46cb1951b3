"""Where an Okta read leaves what the next incremental read starts from (an `OktaState`).

The state folder (`SourceContext.state_folder`, an ObjectStoragePath URI) holds one subfolder per
read, named by its cursor, with the three frames as Parquet, and `current.json`, written last,
naming the subfolder and holding the cursor and the settings fingerprint. A crash before
`current.json` is written leaves the previous state in force; older subfolders are then removed.
"""

from __future__ import annotations

import json
import re

import pandas as pd
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import frames, storage
from confluence_provisioning.sources.okta.reading import OKTA_GROUPS, OKTA_MEMBERSHIPS, OKTA_USERS, OktaState

POINTER = "current.json"
FRAMES = {"users": OKTA_USERS, "groups": OKTA_GROUPS, "memberships": OKTA_MEMBERSHIPS}


def load_state(folder: str) -> OktaState | None:
    """The last saved state, or None when there is none yet."""
    pointer = ObjectStoragePath(folder) / POINTER
    if not pointer.exists():
        return None
    saved = json.loads(pointer.read_text(encoding="utf-8"))
    read = {name: storage.read_frame(saved["frames"][name]) for name in FRAMES}
    return OktaState(
        users=read["users"].astype({**OKTA_USERS, **_attributes(read["users"])}),
        groups=read["groups"].astype(OKTA_GROUPS),
        memberships=read["memberships"].astype(OKTA_MEMBERSHIPS),
        cursor=saved["cursor"],
        fingerprint=saved["fingerprint"],
    )


def save_state(folder: str, state: OktaState) -> None:
    base = ObjectStoragePath(folder)
    read_folder = base / re.sub(r"[^0-9A-Za-z]", "", state.cursor)
    uris = {name: storage.write_frame(read_folder, name, getattr(state, name)) for name in FRAMES}
    pointer = {"cursor": state.cursor, "fingerprint": state.fingerprint, "frames": uris}
    storage.write_text(base, POINTER, json.dumps(pointer, indent=1))
    for old in base.iterdir():
        if old.is_dir() and old.name != read_folder.name:
            old.rmdir(recursive=True)


def _attributes(frame: pd.DataFrame) -> dict[str, str]:
    return {column: frames.STRING for column in frame.columns if column.startswith(frames.ATTRIBUTE_PREFIX)}
