"""The corpus schema as an ordered list of migrations; `PRAGMA user_version` holds the version.

Migration i (1-based) brings a database from version i-1 to i. Never edit a released
migration: append a new one.
"""

MIGRATIONS: list[str] = [
    # 1: the corpus, feedback, jobs, generations, checks, reviews and the audit log.
    """
    CREATE TABLE creators (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        creator_group TEXT
    );
    CREATE TABLE items (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'human' CHECK (source IN ('human', 'ai')),
        parent_id TEXT REFERENCES items(id),
        creator_id TEXT REFERENCES creators(id),
        licence TEXT NOT NULL DEFAULT 'unknown',
        consent_derivatives INTEGER NOT NULL DEFAULT 0 CHECK (consent_derivatives IN (0, 1)),
        category TEXT,
        age_rating TEXT,
        path TEXT NOT NULL,
        thumbnail_path TEXT,
        thumbnail_t_s REAL,          -- time of the thumbnail in the video, where it is a frame
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ok', 'failed')),
        error TEXT,
        width INTEGER,
        height INTEGER,
        duration_s REAL,
        fps REAL,
        frames INTEGER,
        codec TEXT,
        rotation INTEGER,
        has_audio INTEGER,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX items_status ON items(status);
    CREATE INDEX items_source ON items(source);

    -- Visually distinct segments of an item, with captions; `attributes` is JSON ground truth
    -- where known (the demo corpus), NULL for imported videos.
    CREATE TABLE segments (
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        caption TEXT NOT NULL DEFAULT '',
        attributes TEXT,
        PRIMARY KEY (item_id, idx)
    );

    -- Frames sampled by time for indexing, and their embeddings per model.
    CREATE TABLE frames (
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        t_s REAL NOT NULL,
        PRIMARY KEY (item_id, idx)
    );
    CREATE TABLE models (
        id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        sha256 TEXT,
        dim INTEGER NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE embeddings (
        model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('frame', 'thumbnail', 'title')),
        idx INTEGER NOT NULL DEFAULT 0,
        vector BLOB NOT NULL,
        PRIMARY KEY (model_id, item_id, kind, idx)
    );

    -- `attributes` is JSON (age, group, account age...); `truth` is the demo corpus's hidden
    -- ground-truth preferences, NULL for real users.
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        attributes TEXT NOT NULL DEFAULT '{}',
        truth TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );

    -- `timestamp` is Unix seconds; `split` is 'train' or 'test' (the latest part of each
    -- user's history by time is held out).
    CREATE TABLE interactions (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('click', 'like', 'dislike', 'dwell', 'rating')),
        value REAL NOT NULL DEFAULT 1.0,
        timestamp REAL NOT NULL,
        split TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'test')),
        UNIQUE (user_id, item_id, kind, timestamp)
    );
    CREATE INDEX interactions_user ON interactions(user_id, timestamp);
    CREATE INDEX interactions_item ON interactions(item_id);

    CREATE TABLE instructions (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        item_id TEXT REFERENCES items(id),
        text TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );

    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        error TEXT,
        result TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        started_at TEXT,
        finished_at TEXT
    );

    CREATE TABLE generations (
        id TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        user_id TEXT REFERENCES users(id),
        item_id TEXT REFERENCES items(id),
        job_id TEXT REFERENCES jobs(id),
        output_path TEXT,
        params TEXT NOT NULL DEFAULT '{}',
        scores TEXT NOT NULL DEFAULT '{}',
        provenance TEXT NOT NULL DEFAULT '{}',
        seed INTEGER,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'approved', 'rejected', 'exported')),
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX generations_user ON generations(user_id);

    CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        blocking INTEGER NOT NULL CHECK (blocking IN (0, 1)),
        status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail', 'error')),
        score REAL,
        evidence TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );

    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
        decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'skip')),
        reason TEXT NOT NULL DEFAULT '',
        override_reason TEXT,
        reviewer TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );

    -- Append-only: the triggers refuse updates and deletes.
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        ts TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        actor TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        target TEXT,
        details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    """,
    # 2: user embeddings from a trained recommender (User_Emb), per model.
    """
    CREATE TABLE user_embeddings (
        model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        vector BLOB NOT NULL,
        PRIMARY KEY (model_id, user_id)
    );
    ALTER TABLE models ADD COLUMN path TEXT;
    ALTER TABLE models ADD COLUMN metrics TEXT;
    """,
    # 3: the instructor's answer to each instruction (the conversation's other side).
    """
    ALTER TABLE instructions ADD COLUMN response TEXT;
    """,
    # 4: the audit log as a hash chain: each entry's hash covers its content and the previous
    # entry's hash, so an edited or deleted entry breaks every hash after it.
    """
    ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit_log ADD COLUMN hash TEXT;
    """,
    # 5: optional expiry of AI content (UTC, 'YYYY-MM-DDTHH:MM:SSZ'), set on export; expired
    # AI items are removed by `generec purge-expired`.
    """
    ALTER TABLE generations ADD COLUMN expires_at TEXT;
    ALTER TABLE items ADD COLUMN expires_at TEXT;
    CREATE INDEX items_expires ON items(expires_at) WHERE expires_at IS NOT NULL;
    """,
    # 6: approval binds bytes: each check run records the sha256 of the output it looked at and
    # of the rules file it judged by (a check is stale when either changed), each review the
    # output's sha256 it approved; jobs say who queued them (the GUI or the CLI).
    """
    ALTER TABLE checks ADD COLUMN output_sha256 TEXT;
    ALTER TABLE checks ADD COLUMN rules_sha256 TEXT;
    ALTER TABLE reviews ADD COLUMN output_sha256 TEXT;
    ALTER TABLE jobs ADD COLUMN origin TEXT NOT NULL DEFAULT 'gui';
    """,
    # 7: items without media (`no-media`: known from an interactions or titles file, with a
    # title and perhaps a cover image, but no video). SQLite cannot alter a CHECK constraint,
    # so the table is rebuilt by SQLite's documented procedure: `Store._migrate` turns foreign
    # keys off around migrations (dropping `items` with them on would cascade into frames,
    # embeddings, interactions...) and runs `PRAGMA foreign_key_check` before committing.
    # Same columns in the same order; the indexes are made again.
    """
    CREATE TABLE items_new (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'human' CHECK (source IN ('human', 'ai')),
        parent_id TEXT REFERENCES items(id),
        creator_id TEXT REFERENCES creators(id),
        licence TEXT NOT NULL DEFAULT 'unknown',
        consent_derivatives INTEGER NOT NULL DEFAULT 0 CHECK (consent_derivatives IN (0, 1)),
        category TEXT,
        age_rating TEXT,
        path TEXT NOT NULL,              -- '' for a no-media item
        thumbnail_path TEXT,             -- a no-media item's cover, where one was given
        thumbnail_t_s REAL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'ok', 'failed', 'no-media')),
        error TEXT,
        width INTEGER,
        height INTEGER,
        duration_s REAL,
        fps REAL,
        frames INTEGER,
        codec TEXT,
        rotation INTEGER,
        has_audio INTEGER,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        expires_at TEXT
    );
    INSERT INTO items_new (id, title, source, parent_id, creator_id, licence,
        consent_derivatives, category, age_rating, path, thumbnail_path, thumbnail_t_s, status,
        error, width, height, duration_s, fps, frames, codec, rotation, has_audio, created_at,
        expires_at)
    SELECT id, title, source, parent_id, creator_id, licence, consent_derivatives, category,
        age_rating, path, thumbnail_path, thumbnail_t_s, status, error, width, height,
        duration_s, fps, frames, codec, rotation, has_audio, created_at, expires_at FROM items;
    DROP TABLE items;
    ALTER TABLE items_new RENAME TO items;
    CREATE INDEX items_status ON items(status);
    CREATE INDEX items_source ON items(source);
    CREATE INDEX items_expires ON items(expires_at) WHERE expires_at IS NOT NULL;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
