"""Every floor by name, measured with the CPU time of the servers, for ``python -m bench.floors``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.floors.confluence import Site, read_floor, write_floor
from bench.floors.ldap import Bind, ldap3_floor, ldapsearch_floor, pipeline_searches
from bench.floors.plan_writes import plan_writes
from bench.measure import Meter
from bench.pipeline import ldap_options
from bench.spec import PipelineSpec
from confluence_provisioning.settings import load_settings
from confluence_provisioning.sources.ldap.connecting import open_connection
from confluence_provisioning.sources.ldap.flavours import resolve_profile

# Confluence floor -> the transport it goes over (see floors/confluence.py)
CONFLUENCE_READS = {"confluence_reads": "http.client", "confluence_reads_requests": "requests"}
WRITES = {"confluence_writes": "http.client", "confluence_writes_requests": "requests"}
READS = ("ldapsearch", "ldap3", *CONFLUENCE_READS)


def measure(spec: PipelineSpec, names: list[str], plan_file: Path | None) -> dict[str, Any]:
    settings = load_settings(spec.rules)
    confluence = settings.target
    site = Site(spec.confluence_url, spec.confluence_user, spec.confluence_password)
    profile = resolve_profile(settings.source)
    connection = open_connection(ldap_options(spec))
    try:
        searches = pipeline_searches(connection, profile)
    finally:
        connection.unbind()
    bind = Bind(spec.ldap_uri, spec.ldap_bind_dn, spec.ldap_password)
    writes = plan_writes(plan_file, settings) if plan_file is not None else []
    meter = Meter(spec.watched)
    for name in names:
        with meter.measure(name):
            if name == "ldapsearch":
                ldapsearch_floor(bind, searches, profile.page_size)
            elif name == "ldap3":
                ldap3_floor(bind, searches, profile.page_size)
            elif name in CONFLUENCE_READS:
                read_floor(site, confluence.max_in_flight, confluence.page_size, CONFLUENCE_READS[name])
            elif name in WRITES:
                write_floor(site, confluence.max_in_flight, writes, WRITES[name])
            else:
                raise ValueError(f"unknown floor {name!r}; the floors are {[*READS, *WRITES]}")
    return meter.report(tuple(names))
