-- Users' rule-language strategies (issue 13), one row per version. A strategy is identified by
-- its name (the program's `strategy "…"` line, compared case-insensitively), which maps to one
-- id; saving a changed source adds version n + 1 under the same id, saving the newest version's
-- source again adds nothing. Versions are never edited; deleting a strategy deletes every
-- version (refused while a QUEUED or RUNNING job names it in args->'rules'->>'id').
--
-- content_hash: sha256 of the source's UTF-8 bytes, 64 lower-case hex digits; jobs record it
--   beside the id and version so a run says exactly what it ran.
CREATE TABLE strategies (
    id           uuid NOT NULL,
    version      integer NOT NULL CHECK (version >= 1),
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    source       text NOT NULL CHECK (octet_length(source) BETWEEN 1 AND 65536),
    content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, version)
);

-- A name maps to one id: every strategy has exactly one version 1, and the store gives later
-- versions the id of their name's version 1 (under a per-name advisory lock, save_lock.sql).
-- Also the index of the lookup by name.
CREATE UNIQUE INDEX strategies_name_idx ON strategies (lower(name)) WHERE version = 1;
