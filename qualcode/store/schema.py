"""The project store's schema, as an ordered list of forward migrations.

``PRAGMA user_version`` holds the number of migrations applied. A store whose version is higher
than ``SCHEMA_VERSION`` was written by a newer qualcode and is refused rather than guessed at.
Add a migration by appending to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

INITIAL = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    version TEXT NOT NULL,
    parameters TEXT NOT NULL DEFAULT '{}',   -- JSON
    codebook_hash TEXT,
    coder TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed'))
);

CREATE TABLE participants (
    id INTEGER PRIMARY KEY,
    pseudonym TEXT NOT NULL UNIQUE,
    site TEXT,
    stakeholder_group TEXT,
    role TEXT,
    organisation TEXT,
    tier TEXT CHECK (tier IS NULL OR tier IN ('strategic', 'operational', 'frontline', 'user')),
    metadata TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    site TEXT,
    participant_id INTEGER REFERENCES participants(id) ON DELETE SET NULL,
    wave TEXT,
    interview_date TEXT,
    consent TEXT,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    run_id INTEGER REFERENCES runs(id),
    ingested_at TEXT NOT NULL
);
CREATE INDEX documents_site ON documents(site);
CREATE INDEX documents_source ON documents(source);

CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    participant_id INTEGER REFERENCES participants(id) ON DELETE SET NULL,
    speaker TEXT,
    speaker_role TEXT,
    turn_index INTEGER NOT NULL,
    part INTEGER NOT NULL DEFAULT 0,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    words INTEGER NOT NULL DEFAULT 0,
    is_interviewer INTEGER NOT NULL DEFAULT 0,
    start_time REAL,
    end_time REAL,
    CHECK (0 <= start AND start <= "end")
);
CREATE INDEX segments_document ON segments(document_id);

CREATE TABLE codebooks (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version TEXT,
    source TEXT,
    content TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);

CREATE TABLE codes (
    id INTEGER PRIMARY KEY,
    codebook_id INTEGER NOT NULL REFERENCES codebooks(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    parent TEXT,
    family TEXT NOT NULL,
    label TEXT NOT NULL,
    polarity TEXT NOT NULL CHECK (polarity IN ('barrier', 'prerequisite', 'neutral')),
    definition TEXT,
    UNIQUE (codebook_id, code)
);

CREATE TABLE coders (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('human', 'machine')),
    description TEXT
);

CREATE TABLE codings (
    id INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    code_id INTEGER NOT NULL REFERENCES codes(id),
    coder_id INTEGER NOT NULL REFERENCES coders(id),
    run_id INTEGER REFERENCES runs(id),
    confidence REAL NOT NULL DEFAULT 1.0 CHECK (confidence BETWEEN 0 AND 1),
    evidence TEXT NOT NULL DEFAULT '[]',   -- JSON list of {start, end, why}
    start INTEGER,                          -- optional span inside the document
    "end" INTEGER,
    created_at TEXT NOT NULL,
    UNIQUE (segment_id, code_id, coder_id, run_id)
);
CREATE INDEX codings_segment ON codings(segment_id);
CREATE INDEX codings_coder ON codings(coder_id, run_id);
"""

# 2: documents removed from a project (a participant withdrew) are remembered by content hash
# and key, never by text, so a later ingest of the same file is refused instead of silently
# bringing the withdrawn words back. Removals are also recorded as runs.
REMOVED_DOCUMENTS = """
CREATE TABLE removed_documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    reason TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id),
    removed_at TEXT NOT NULL
);
CREATE INDEX removed_documents_sha ON removed_documents(sha256);
CREATE INDEX removed_documents_path ON removed_documents(path);
"""

# 3: which segments a coder examined (so "looked and found nothing" differs from "never
# looked", for agreement and training), and the cross-validated scores of trained models.
CODED_SEGMENTS = """
CREATE TABLE coded_segments (
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    coder_id INTEGER NOT NULL REFERENCES coders(id),
    run_id INTEGER REFERENCES runs(id),
    PRIMARY KEY (segment_id, coder_id, run_id)
);
CREATE INDEX coded_segments_coder ON coded_segments(coder_id, run_id);

CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('code', 'family', 'overall')),
    n_units INTEGER NOT NULL,
    support INTEGER NOT NULL,
    precision REAL,
    recall REAL,
    f1 REAL,
    kappa REAL,
    threshold REAL,
    predicted INTEGER NOT NULL DEFAULT 1
);
"""

# 4: a JSON copy of each codebook's parsed YAML, so commands need not parse the YAML again.
CODEBOOK_JSON = "ALTER TABLE codebooks ADD COLUMN parsed TEXT;"

# 5: topic models of `qualcode themes`: one row per model (the whole corpus, or one site, group
# or tier), its topics, and the segments in each. Quotes are kept as segment offsets, never as
# copied text, so removing a document removes its words from the themes too.
TOPICS = """
CREATE TABLE topic_models (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    grouping TEXT,
    group_value TEXT,
    n_segments INTEGER NOT NULL,
    n_topics INTEGER NOT NULL,
    outliers INTEGER NOT NULL DEFAULT 0,
    npmi REAL,
    diversity REAL,
    method TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX topic_models_run ON topic_models(run_id);

CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES topic_models(id) ON DELETE CASCADE,
    topic INTEGER NOT NULL,
    label TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '[]',
    size INTEGER NOT NULL,
    emergent INTEGER NOT NULL DEFAULT 0,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX topics_model ON topics(model_id);

CREATE TABLE topic_segments (
    topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    PRIMARY KEY (topic_id, segment_id)
);
CREATE INDEX topic_segments_segment ON topic_segments(segment_id);
"""

# 6: every span a human coder made, per document (a span may cross turns; one segment may hold
# several spans of one code). ``codings`` keeps one row per segment and code, made from the
# spans by the overlap rule of ``qualcode.coding.spans``; the character unit of the agreement
# audit reads the spans. Spans kept in ``codings.start/end`` by older stores move here.
CODING_SPANS = """
CREATE TABLE coding_spans (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    code_id INTEGER NOT NULL REFERENCES codes(id),
    coder_id INTEGER NOT NULL REFERENCES coders(id),
    run_id INTEGER REFERENCES runs(id),
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    CHECK (0 <= start AND start < "end")
);
CREATE INDEX coding_spans_coder ON coding_spans(coder_id, run_id);
CREATE INDEX coding_spans_document ON coding_spans(document_id);
INSERT INTO coding_spans (document_id, code_id, coder_id, run_id, start, "end")
    SELECT s.document_id, c.code_id, c.coder_id, c.run_id, c.start, c."end"
    FROM codings c JOIN segments s ON s.id = c.segment_id
    WHERE c.start IS NOT NULL AND c.start < c."end";
"""

# 7: the files qualcode wrote that hold transcript text (reports, audit pages, exports), so
# that removing a document (a participant withdrew) can delete them too, listing each.
OUTPUTS = """
CREATE TABLE outputs (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,            -- absolute
    what TEXT NOT NULL,
    written_at TEXT NOT NULL
);
CREATE INDEX outputs_path ON outputs(path);
"""

# 8: explicit project settings: which codebook (by hash) and which training source the project
# uses, set by commands and shown by ``status`` instead of being read from whatever was stored
# last. Older projects get the settings that their latest codebook and `train --from` implied.
SETTINGS = """
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (key, value)
    SELECT 'codebook', hash FROM codebooks ORDER BY id DESC LIMIT 1;
INSERT INTO settings (key, value)
    SELECT 'training', 'coder:' || json_extract(parameters, '$.from') FROM runs
    WHERE command = 'train' AND status = 'finished'
    AND json_extract(parameters, '$.from') IS NOT NULL
    ORDER BY id DESC LIMIT 1;
"""

MIGRATIONS: list[str] = [
    INITIAL,
    REMOVED_DOCUMENTS,
    CODED_SEGMENTS,
    CODEBOOK_JSON,
    TOPICS,
    CODING_SPANS,
    OUTPUTS,
    SETTINGS,
]
SCHEMA_VERSION = len(MIGRATIONS)
