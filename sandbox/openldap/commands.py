"""Runs the OpenLDAP command-line tools and turns their failures into SandboxError."""

import os
import subprocess
from collections.abc import Sequence

from sandbox.openldap.errors import SandboxError

# ldap.conf and ~/.ldaprc could point the client tools at other servers or CAs.
_CLIENT_ENV = {**os.environ, "LDAPNOINIT": "1"}


def run_tool(args: Sequence[str], *, what: str, input_text: str | None = None) -> str:
    """Run one tool to completion and return its stdout; raise with its stderr when it fails."""
    result = subprocess.run(
        list(args), input=input_text, capture_output=True, text=True, env=_CLIENT_ENV, check=False
    )
    if result.returncode != 0:
        output = (result.stderr + result.stdout).strip()
        raise SandboxError(f"{what} failed (exit {result.returncode}): {' '.join(args[:1])}\n{output}")
    return result.stdout
