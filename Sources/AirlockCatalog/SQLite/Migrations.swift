import GRDB

/// The catalog schema, as named, append-only migrations. Never edit a shipped migration: add one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: projects, releases, distributions, snapshots") { db in
            try db.execute(
                sql: """
                    CREATE TABLE project (
                        id INTEGER PRIMARY KEY,
                        ecosystem TEXT NOT NULL,
                        name TEXT NOT NULL,
                        display_name TEXT NOT NULL,
                        author TEXT, author_email TEXT, maintainer TEXT, maintainer_email TEXT,
                        UNIQUE (ecosystem, name)
                    );
                    CREATE TABLE release (
                        id INTEGER PRIMARY KEY,
                        project_id INTEGER NOT NULL REFERENCES project(id),
                        version TEXT NOT NULL,
                        requires_dist TEXT,
                        first_seen TEXT NOT NULL,
                        UNIQUE (project_id, version)
                    );
                    CREATE TABLE distribution (
                        id INTEGER PRIMARY KEY,
                        release_id INTEGER NOT NULL REFERENCES release(id),
                        filename TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        upload_time TEXT,
                        requires_python TEXT,
                        yanked TEXT,
                        metadata_sha256 TEXT,
                        upstream_url TEXT NOT NULL,
                        UNIQUE (release_id, filename, sha256)
                    );
                    CREATE INDEX distribution_by_sha256 ON distribution(sha256);
                    CREATE TABLE snapshot (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        ecosystem TEXT NOT NULL,
                        published_at TEXT NOT NULL,
                        policy_digest TEXT NOT NULL,
                        distribution_count INTEGER NOT NULL
                    );
                    CREATE INDEX snapshot_by_time ON snapshot(ecosystem, published_at);
                    -- Membership as validity ranges: a row serves its distribution in snapshots
                    -- added_in <= id < removed_in (removed_in NULL: still served).
                    CREATE TABLE membership (
                        distribution_id INTEGER NOT NULL REFERENCES distribution(id),
                        added_in INTEGER NOT NULL REFERENCES snapshot(id),
                        removed_in INTEGER REFERENCES snapshot(id),
                        PRIMARY KEY (distribution_id, added_in)
                    );
                    CREATE INDEX membership_open ON membership(removed_in, distribution_id);
                    CREATE TABLE decision (
                        release_id INTEGER NOT NULL REFERENCES release(id),
                        policy_digest TEXT NOT NULL,
                        verdict TEXT NOT NULL,
                        score REAL NOT NULL,
                        factors TEXT NOT NULL,
                        decided_at TEXT NOT NULL,
                        PRIMARY KEY (release_id, policy_digest)
                    );
                    CREATE TABLE selection (
                        ecosystem TEXT NOT NULL,
                        requirement TEXT NOT NULL,
                        added_at TEXT NOT NULL,
                        PRIMARY KEY (ecosystem, requirement)
                    );
                    CREATE TABLE response_cache (
                        url TEXT PRIMARY KEY,
                        etag TEXT,
                        last_modified TEXT,
                        content_type TEXT,
                        final_url TEXT NOT NULL,
                        body BLOB NOT NULL
                    );
                    """)
        }
        m.registerMigration("v2: imported feeds") { db in
            try db.execute(
                sql: """
                    CREATE TABLE popularity (
                        ecosystem TEXT NOT NULL,
                        project TEXT NOT NULL,
                        downloads INTEGER NOT NULL,
                        PRIMARY KEY (ecosystem, project)
                    );
                    CREATE TABLE advisory (
                        ecosystem TEXT NOT NULL,
                        project TEXT NOT NULL,
                        id TEXT NOT NULL,
                        document TEXT NOT NULL,
                        PRIMARY KEY (ecosystem, project, id)
                    );
                    CREATE TABLE feed_import (
                        kind TEXT NOT NULL,
                        ecosystem TEXT NOT NULL,
                        source TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        entries INTEGER NOT NULL,
                        imported_at TEXT NOT NULL
                    );
                    """)
        }
        m.registerMigration("v3: decision facts and active policy") { db in
            try db.execute(
                sql: """
                    ALTER TABLE project ADD COLUMN first_upload TEXT;
                    ALTER TABLE project ADD COLUMN last_upload TEXT;
                    ALTER TABLE project ADD COLUMN release_count INTEGER;
                    ALTER TABLE release ADD COLUMN license_expression TEXT;
                    ALTER TABLE release ADD COLUMN license_declared TEXT;
                    ALTER TABLE release ADD COLUMN selected_by TEXT;
                    CREATE TABLE policy (
                        ecosystem TEXT NOT NULL,
                        digest TEXT NOT NULL,
                        path TEXT NOT NULL,
                        text TEXT NOT NULL,
                        activated_at TEXT NOT NULL
                    );
                    """)
        }
        m.registerMigration("v4: maintainer changes and dependents") { db in
            try db.execute(
                sql: """
                    ALTER TABLE release ADD COLUMN new_emails TEXT;
                    ALTER TABLE release ADD COLUMN dependents INTEGER;
                    """)
        }
        m.registerMigration("v5: yanked by policy, per snapshot") { db in
            try db.execute(sql: "ALTER TABLE membership ADD COLUMN yank_reason TEXT")
        }
        m.registerMigration("v6: maintainers' other projects") { db in
            try db.execute(sql: "ALTER TABLE release ADD COLUMN maintainer_projects TEXT")
        }
        m.registerMigration("v7: reviews: misses, overrides, revocations, tokens, audit log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE miss (
                        ecosystem TEXT NOT NULL, project TEXT NOT NULL, version TEXT NOT NULL DEFAULT '',
                        count INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, last_client TEXT,
                        PRIMARY KEY (ecosystem, project, version)
                    );
                    -- versions: '' for every version, else a range in the ecosystem's syntax.
                    CREATE TABLE override (
                        id INTEGER PRIMARY KEY, ecosystem TEXT NOT NULL, project TEXT NOT NULL, versions TEXT NOT NULL,
                        action TEXT NOT NULL CHECK (action IN ('approve', 'deny')), reason TEXT NOT NULL, actor TEXT NOT NULL,
                        created_at TEXT NOT NULL, expires_at TEXT
                    );
                    CREATE INDEX override_by_project ON override(ecosystem, project);
                    CREATE TABLE revocation (
                        id INTEGER PRIMARY KEY, ecosystem TEXT NOT NULL, project TEXT NOT NULL, version TEXT NOT NULL,
                        reason TEXT NOT NULL, actor TEXT NOT NULL, created_at TEXT NOT NULL,
                        UNIQUE (ecosystem, project, version)
                    );
                    CREATE TABLE token (
                        id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_sha256 TEXT NOT NULL UNIQUE,
                        created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT
                    );
                    -- Append-only and hash-chained: each event's hash covers the previous event's hash.
                    CREATE TABLE audit (
                        id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL,
                        details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
                    );
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """)
        }
        m.registerMigration("v8: publish state: candidates, active policy and targets, yank decisions") { db in
            try db.execute(
                sql: """
                    ALTER TABLE decision ADD COLUMN serve_yanked TEXT;
                    -- The releases the last sync of an ecosystem resolved: what the publish rule starts from.
                    CREATE TABLE candidate (
                        ecosystem TEXT NOT NULL,
                        release_id INTEGER NOT NULL REFERENCES release(id),
                        PRIMARY KEY (ecosystem, release_id)
                    );
                    CREATE TABLE ecosystem_state (
                        ecosystem TEXT PRIMARY KEY,
                        policy_digest TEXT NOT NULL,
                        targets TEXT NOT NULL,
                        extras TEXT NOT NULL DEFAULT '{}',
                        synced_at TEXT NOT NULL,
                        checked_at TEXT
                    );
                    -- What the last sync of an ecosystem could not bring in, with the check that failed.
                    CREATE TABLE set_aside (
                        ecosystem TEXT NOT NULL,
                        project TEXT NOT NULL,
                        version TEXT NOT NULL,
                        filename TEXT,
                        "check" TEXT NOT NULL,
                        error TEXT NOT NULL,
                        required_by TEXT NOT NULL,
                        at TEXT NOT NULL
                    );
                    -- Releases the last publication held back because they could not be installed, with why.
                    CREATE TABLE held (
                        ecosystem TEXT NOT NULL,
                        project TEXT NOT NULL,
                        version TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        blocked_by TEXT,
                        PRIMARY KEY (ecosystem, project, version)
                    );
                    -- Catalogs from before: the latest snapshot's releases are the candidates, its policy the active one,
                    -- and what it served yanked was a decision to serve yanked.
                    INSERT INTO ecosystem_state (ecosystem, policy_digest, targets, synced_at)
                        SELECT s.ecosystem, s.policy_digest, '[]', s.published_at FROM snapshot s
                        WHERE s.id = (SELECT max(id) FROM snapshot t WHERE t.ecosystem = s.ecosystem);
                    INSERT OR IGNORE INTO candidate (ecosystem, release_id)
                        SELECT p.ecosystem, r.id FROM membership m JOIN distribution d ON d.id = m.distribution_id
                        JOIN release r ON r.id = d.release_id JOIN project p ON p.id = r.project_id WHERE m.removed_in IS NULL;
                    UPDATE decision SET serve_yanked = (
                        SELECT m.yank_reason FROM membership m JOIN distribution d ON d.id = m.distribution_id
                        WHERE d.release_id = decision.release_id AND m.removed_in IS NULL AND m.yank_reason IS NOT NULL LIMIT 1);
                    """)
        }
        m.registerMigration("v9: retention: expired snapshots") { db in
            // An expired snapshot keeps its row (membership ranges are bounded by snapshot ids) but no
            // selector finds it and nothing is served through it.
            try db.execute(sql: "ALTER TABLE snapshot ADD COLUMN expired_at TEXT")
        }
        m.registerMigration("v10: air-gap transfer: bundles, imported snapshots, replica") { db in
            try db.execute(
                sql: """
                    -- Bundles written (export) or accepted (import): sequence numbers only grow, per direction.
                    CREATE TABLE bundle (
                        direction TEXT NOT NULL CHECK (direction IN ('export', 'import')),
                        sequence INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        signer TEXT NOT NULL,
                        snapshots TEXT NOT NULL,
                        at TEXT NOT NULL,
                        PRIMARY KEY (direction, sequence)
                    );
                    -- The digest of the manifest the connected side wrote for each imported snapshot: an
                    -- incremental bundle names its base by it.
                    CREATE TABLE imported_snapshot (
                        id INTEGER PRIMARY KEY REFERENCES snapshot(id),
                        manifest_sha256 TEXT NOT NULL
                    );
                    -- Present when the data directory was created by import: it has no upstream and takes no decisions.
                    CREATE TABLE replica (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        origin TEXT NOT NULL,
                        since TEXT NOT NULL
                    );
                    """)
        }
        m.registerMigration("v11: upload times the mirror observed") { db in
            // 1 when the upstream gave no upload time and upload_time is when this mirror first saw the file.
            try db.execute(sql: "ALTER TABLE distribution ADD COLUMN upload_time_observed INTEGER NOT NULL DEFAULT 0")
        }
        m.registerMigration("v12: upstream serials") { db in
            // PyPI's serial of the project a cached document describes: unchanged serial, unchanged document.
            try db.execute(sql: "ALTER TABLE response_cache ADD COLUMN serial INTEGER")
        }
        m.registerMigration("v13: content scans") { db in
            // What the content scanner (of version `scanner`) found in a file, by content digest: a JSON array.
            try db.execute(sql: "CREATE TABLE content_scan (sha256 TEXT PRIMARY KEY, scanner INTEGER NOT NULL, findings TEXT NOT NULL)")
        }
        m.registerMigration("v14: provenance") { db in
            try db.execute(
                sql: """
                    -- The verified PEP 740 provenance of a file (by content digest): the document's blob and its
                    -- publisher (JSON; `identity` on its own for lookups).
                    CREATE TABLE file_provenance (
                        sha256 TEXT PRIMARY KEY,
                        document TEXT NOT NULL,
                        identity TEXT NOT NULL,
                        publisher TEXT NOT NULL,
                        signed_at TEXT NOT NULL
                    );
                    -- The imported Sigstore trusted root (absent: the shipped public-good root).
                    CREATE TABLE trusted_root (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        document TEXT NOT NULL
                    );
                    """)
        }
        m.registerMigration("v15: upstream project pages") { db in
            try db.execute(
                sql: """
                    -- The upstream page a sync last read for a project (PEP 708 tracks) and the status it marked (PEP 792).
                    CREATE TABLE upstream_project (
                        ecosystem TEXT NOT NULL,
                        name TEXT NOT NULL,
                        page_url TEXT NOT NULL,
                        status TEXT NOT NULL,
                        reason TEXT,
                        observed_at TEXT NOT NULL,
                        PRIMARY KEY (ecosystem, name)
                    );
                    """)
        }
        m.registerMigration("v16: withdrawn overrides, downloads") { db in
            try db.execute(
                sql: """
                    -- A withdrawn override stays on record, no longer applying.
                    ALTER TABLE override ADD COLUMN withdrawn_at TEXT;
                    ALTER TABLE override ADD COLUMN withdrawn_by TEXT;
                    ALTER TABLE override ADD COLUMN withdrawn_reason TEXT;
                    -- Downloads the endpoint served, per file (content digest) and UTC day, written in batches.
                    CREATE TABLE download (
                        sha256 TEXT NOT NULL,
                        day TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (sha256, day)
                    );
                    CREATE INDEX download_by_day ON download(day);
                    """)
        }
        m.registerMigration("v17: R binaries") { db in
            try db.execute(sql: RBinaryTable.create)
        }
        return m
    }
}
