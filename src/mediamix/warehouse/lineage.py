"""Lineage of the warehouse's marts: the dbt graph of each build and the loads behind it.

After every successful dbt build, :func:`export_dbt_graph` writes
``$home/dbt/lineage.json``: from dbt's own ``manifest.json`` (its lineage graph),
every model, seed and source with its version, checksum (of the SQL or seed file),
its file and the nodes it depends on. :func:`mart_lineage` then says what a mart
was built from: the nodes upstream of it in that graph and every batch load in
``load_log`` (source, account, period, content SHA-256 and the raw landing file).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediamix.io.atomic import atomic_write_text

if TYPE_CHECKING:
    from mediamix.warehouse.store import Warehouse

__all__ = ["GRAPH_NAME", "export_dbt_graph", "mart_lineage", "read_dbt_graph"]

log = logging.getLogger(__name__)

GRAPH_NAME = "lineage.json"
_KINDS = {"model", "seed", "source", "snapshot"}


def export_dbt_graph(home: Path, manifest: Path) -> Path | None:
    """Write the build's lineage graph beside it (``home/dbt/lineage.json``).

    Returns the file written, or ``None`` when dbt left no manifest.
    """
    if not manifest.is_file():
        log.warning("dbt left no manifest at %s: no lineage graph for this build", manifest)
        return None
    document = json.loads(manifest.read_text())
    nodes: dict[str, dict[str, Any]] = {}
    for group in ("nodes", "sources"):
        for unique_id, node in (document.get(group) or {}).items():
            if node.get("resource_type") not in _KINDS:
                continue
            checksum = node.get("checksum") or {}
            nodes[unique_id] = {
                "kind": node.get("resource_type"),
                "name": node.get("name"),
                "version": node.get("version"),
                "file": node.get("original_file_path"),
                "checksum": checksum.get("checksum"),
                "depends_on": sorted((node.get("depends_on") or {}).get("nodes") or []),
            }
    metadata = document.get("metadata") or {}
    graph = {
        "schema_version": 1,
        "dbt_version": metadata.get("dbt_version"),
        "built_at": metadata.get("generated_at")
        or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "invocation_id": metadata.get("invocation_id"),
        "project": metadata.get("project_name"),
        "nodes": dict(sorted(nodes.items())),
    }
    path = home / "dbt" / GRAPH_NAME
    atomic_write_text(path, json.dumps(graph, indent=2, sort_keys=False) + "\n")
    return path


def read_dbt_graph(home: Path) -> dict[str, Any] | None:
    """The lineage graph of the last successful build, or ``None`` before the first."""
    path = Path(home) / "dbt" / GRAPH_NAME
    if not path.is_file():
        return None
    document = json.loads(path.read_text())
    return document if isinstance(document, dict) else None


def _upstream(nodes: dict[str, dict[str, Any]], name: str) -> list[str]:
    roots = [uid for uid, node in nodes.items() if node.get("name") == name]
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        uid = stack.pop()
        if uid in seen:
            continue
        seen.add(uid)
        stack.extend((nodes.get(uid) or {}).get("depends_on") or [])
    return sorted(seen)


def mart_lineage(wh: Warehouse, mart: str) -> dict[str, Any]:
    """What ``mart`` was built from: its dbt models and the loads of raw data.

    Returns
    -------
    dict
        ``{"mart", "dbt": {"dbt_version", "project", "models": [...]},
        "loads": [{"source", "account", "period_start", "period_end", "sha256",
        "raw_path", "loaded_at", "media_rows"}]}``; ``dbt`` is ``None`` when no build
        left a graph.
    """
    graph = read_dbt_graph(wh.home)
    dbt: dict[str, Any] | None = None
    if graph is not None:
        nodes = graph.get("nodes") or {}
        # the build's time and invocation id stay in the graph file: the same models
        # over the same loads give the same lineage, so a re-run changes nothing
        dbt = {
            "dbt_version": graph.get("dbt_version"),
            "project": graph.get("project"),
            "models": [
                {"unique_id": uid, **{k: nodes[uid][k] for k in ("kind", "version", "checksum")}}
                for uid in _upstream(nodes, mart)
            ],
        }
    rows = wh.query(
        "select source, source_account, period_start, period_end, sha256, raw_path, "
        "loaded_at, media_rows from load_log order by loaded_at, source, source_account"
    )
    loads = [
        {
            "source": str(r.source),
            "account": str(r.source_account),
            "period_start": str(r.period_start)[:10],
            "period_end": str(r.period_end)[:10],
            "sha256": str(r.sha256),
            "raw_path": str(r.raw_path),
            "loaded_at": str(r.loaded_at),
            "media_rows": int(str(r.media_rows)),
        }
        for r in rows.itertuples(index=False)
    ]
    return {"mart": mart, "dbt": dbt, "loads": loads}
