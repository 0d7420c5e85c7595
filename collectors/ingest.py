"""Store collected items: exact de-duplication by platform id, near-duplicates grouped in clusters.

Everything here is batch-shaped because webhooks and collectors deliver bursts: one INSERT … ON
CONFLICT DO NOTHING RETURNING for the batch (a webhook retried by Facebook, or a collector that
re-reads an overlapping page, stores nothing twice — the unique key is ``(source, external_id)``),
one query for the candidate clusters of all new texts, and one insert for the new clusters' bands.

Near-duplicates: each text's MinHash is split into LSH band keys (``collectors.dedupe``); a cluster
keeps the MinHash of its first text and its band keys, so a later copy finds it by equality on any
key and joins it when the estimated Jaccard similarity passes the threshold. Two workers storing
two copies of a brand-new rumour at the same instant may start two clusters; both stay correct
items, and the spread count of each is still a lower bound. Texts too short to fingerprint join no
cluster ("cảm ơn ạ" is not a rumour).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from collectors import dedupe
from collectors.base import CollectedItem, hash_author
from db.base import utcnow
from db.models import Cluster, ClusterBand, Item
from db.session import insert_skipping_conflicts

# Core tables: batches go through executemany, without ORM bookkeeping per row.
_CLUSTERS, _BANDS, _ITEMS = Cluster.__table__, ClusterBand.__table__, Item.__table__
# Bounds that keep near-duplicate lookups flat as clusters accumulate (see _assign_clusters).
MAX_CLUSTERS_PER_BAND = 8
MAX_CANDIDATES = 8


@dataclass(frozen=True)
class Origin:
    """Which organisation (and channel or feed) a batch of items belongs to."""

    org_id: int
    channel_id: int | None = None
    feed_id: int | None = None


@dataclass
class IngestResult:
    """What one call stored: ids of new items, and how many were already there."""

    new_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    clustered: int = 0
    edited: int = 0


def author_hash(salt: str, source: str, raw: str | None) -> str | None:
    """The author's pseudonymous key (the raw platform id is never stored)."""
    return hash_author(salt, _PLATFORM_OF[source], raw) if raw else None


_PLATFORM_OF = {"facebook_comment": "facebook", "facebook_post": "facebook", "zalo_message": "zalo",
                "news_article": "feed"}


def _insert_ignoring_duplicates(session: Session, rows: list[dict]) -> list[int]:
    """Insert rows, skipping (source, external_id) already stored; return the ids inserted."""
    if not rows:
        return []
    stmt = insert_skipping_conflicts(session, _ITEMS, ["source", "external_id"]).returning(_ITEMS.c.id)
    return list(session.connection().execute(stmt, rows).scalars())


def store(session: Session, items: Iterable[CollectedItem], origin: Origin, *, salt: str,
          now: datetime | None = None) -> IngestResult:
    """Store a batch from one origin; the caller commits.

    Items already stored are looked up first (an edit updates them); the new ones get their cluster
    decided in memory and are inserted with it, so each new item costs one row write.
    """
    now = now or utcnow()
    unique: dict[tuple[str, str], CollectedItem] = {}
    for it in items:
        unique.setdefault((it.source, it.external_id), it)
    result = IngestResult()
    if not unique:
        return result
    stored = _stored(session, unique)
    result.edited = _apply_edits(session, unique, {k: v for k, v in stored.items() if v[3] == origin.org_id})
    fresh = {key: it for key, it in unique.items() if key not in stored}
    clusters = _assign_clusters(session, fresh, now)
    rows = [{
        "source": it.source, "external_id": it.external_id, "org_id": origin.org_id,
        "channel_id": origin.channel_id, "feed_id": origin.feed_id,
        "parent_external_id": it.parent_external_id, "reply_to_external_id": it.reply_to_external_id,
        "author_hash": author_hash(salt, it.source, it.author_ref), "title": it.title, "text": it.text,
        "url": it.url, "created_at": it.created_at, "collected_at": now, "cluster_id": clusters.get(key),
        "review_status": "new", "risk_score": 0.0, "flagged": False,
    } for key, it in fresh.items()]
    result.new_ids = _insert_ignoring_duplicates(session, rows)
    # A row another worker stored between our lookup and insert counts as a duplicate too.
    result.duplicates = len(unique) - len(result.new_ids) - result.edited
    result.clustered = sum(1 for key in fresh if key in clusters)
    return result


def _stored(session: Session, unique: dict[tuple[str, str], CollectedItem]) -> dict[tuple[str, str], tuple]:
    """(source, external_id) -> (id, text, title, org_id) of the batch's items that are already stored."""
    by_source: dict[str, list[str]] = {}
    for src, ext in unique:
        by_source.setdefault(src, []).append(ext)
    found: dict[tuple[str, str], tuple] = {}
    for src, exts in by_source.items():
        for row in session.connection().execute(
                select(_ITEMS.c.id, _ITEMS.c.external_id, _ITEMS.c.text, _ITEMS.c.title, _ITEMS.c.org_id)
                .where(_ITEMS.c.source == src, _ITEMS.c.external_id.in_(exts))):
            found[(src, row.external_id)] = (row.id, row.text, row.title, row.org_id)
    return found


def _apply_edits(session: Session, unique: dict[tuple[str, str], CollectedItem],
                 stored: dict[tuple[str, str], tuple]) -> int:
    """Stored items whose text changed (an edited comment) get the new text and are classified again.

    A comment edited from harmless to hostile after it was labelled must not keep its old label, nor
    a monitor's relabel of the old text. The review state and cluster stay. Only rows of the batch's
    own organisation are edited: another organisation's row with the same id is never touched.
    """
    edits = [{"b_id": row_id, "b_text": unique[key].text, "b_title": unique[key].title}
             for key, (row_id, text, title, _org) in sorted(stored.items(), key=lambda kv: kv[1][0])
             if unique[key].text and (unique[key].text != text or (unique[key].title or None) != title)]
    if edits:
        session.connection().execute(
            update(_ITEMS).where(_ITEMS.c.id == bindparam("b_id"))
            .values(text=bindparam("b_text"), title=bindparam("b_title"), classified_at=None, human_labels=None),
            edits)
    return len(edits)


def _assign_clusters(session: Session, fresh: dict[tuple[str, str], CollectedItem],
                     now: datetime) -> dict[tuple[str, str], int]:
    """Cluster id for each new item that has a fingerprint (an existing cluster or a new one).

    Decided in memory first (a later copy in the same batch joins a cluster an earlier one opened,
    under a provisional negative id), then written with one statement per kind of change.
    """
    prints = [(key, dedupe.fingerprint(_cluster_text(it))) for key, it in fresh.items()]
    prints = [(key, fp) for key, fp in prints if fp.band_keys]
    if not prints:
        return {}
    conn = session.connection()
    all_keys = {k for _, fp in prints for k in fp.band_keys}
    candidates: dict[str, set[int]] = {}
    for key, cluster_id in conn.execute(select(_BANDS.c.band_key, _BANDS.c.cluster_id)
                                        .where(_BANDS.c.band_key.in_(all_keys))):
        candidates.setdefault(key, set()).add(cluster_id)
    hashes = {cid: dedupe.decode(mh) for cid, mh in conn.execute(
        select(_CLUSTERS.c.id, _CLUSTERS.c.minhash).where(
            _CLUSTERS.c.id.in_({c for ids in candidates.values() for c in ids})))}

    chosen: dict[tuple[str, str], int] = {}  # negative ids: clusters opened by this batch
    opened: list[tuple[int, dedupe.Fingerprint, list[str]]] = []
    for key, fp in prints:
        cluster_id = _best_match(fp, candidates, hashes)
        if cluster_id is None:
            cluster_id = -(len(opened) + 1)
            # A band already shared by many clusters says little ("cảm ơn công đoàn…"): it is not
            # indexed again, so lookups stay bounded as the table grows.
            bands = [b for b in fp.band_keys if len(candidates.get(b, ())) < MAX_CLUSTERS_PER_BAND]
            opened.append((cluster_id, fp, bands))
            hashes[cluster_id] = fp
            for band in bands:
                candidates.setdefault(band, set()).add(cluster_id)
        chosen[key] = cluster_id
    sizes: dict[int, int] = {}
    for cluster_id in chosen.values():
        sizes[cluster_id] = sizes.get(cluster_id, 0) + 1

    real: dict[int, int] = {}
    if opened:
        ids = conn.execute(insert(_CLUSTERS).returning(_CLUSTERS.c.id, sort_by_parameter_order=True), [
            {"minhash": dedupe.encode(fp), "size": sizes[tmp], "first_seen": now, "last_seen": now}
            for tmp, fp, _ in opened]).scalars().all()
        real = {tmp: cid for (tmp, _, _), cid in zip(opened, ids, strict=True)}
        bands = [{"band_key": band, "cluster_id": real[tmp]} for tmp, _, keys in opened for band in set(keys)]
        if bands:
            conn.execute(insert(_BANDS), bands)
    # Rows are locked in id order so concurrent batches never wait on each other in a cycle.
    grown = [{"b_id": cid, "b_n": n} for cid, n in sorted(sizes.items()) if cid > 0]
    if grown:
        conn.execute(update(_CLUSTERS).where(_CLUSTERS.c.id == bindparam("b_id"))
                     .values(size=_CLUSTERS.c.size + bindparam("b_n"), last_seen=now), grown)
    return {key: real.get(cid, cid) for key, cid in chosen.items()}


def _best_match(fp: dedupe.Fingerprint, candidates: dict[str, set[int]],
                hashes: dict[int, dedupe.Fingerprint]) -> int | None:
    """The most similar candidate cluster above the near-duplicate threshold, if any."""
    shared = Counter(c for k in fp.band_keys for c in candidates.get(k, ()))
    best, best_sim = None, dedupe.NEAR_DUP_THRESHOLD
    # Clusters sharing the most bands are the likeliest copies; comparing a few bounds the work.
    for cluster_id, _ in sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CANDIDATES]:
        sim = dedupe.similarity(fp, hashes[cluster_id])
        if sim >= best_sim:
            best, best_sim = cluster_id, sim
    return best


def _cluster_text(it: CollectedItem) -> str:
    """News is clustered by title plus body; everything else by its text."""
    return f"{it.title}\n{it.text}" if it.title and it.title not in it.text else it.text
