-- 001_init: the tables of vodhook's whole upload-to-processing lifecycle.
--
-- uploads       one row per upload job (HTTP API or CLI), with its lease
-- upload_parts  checkpoints of a multipart transfer, one row per part done
-- media         one row per provider + file id: the media's lifecycle
-- vod_events    every event notification received, raw, deduplicated

CREATE TABLE uploads (
    id                  uuid PRIMARY KEY,
    provider            text NOT NULL CHECK (provider IN ('tencent', 'alibaba')),
    state               text NOT NULL DEFAULT 'queued' CHECK (state IN (
                            'queued', 'uploading', 'committing', 'uploaded',
                            'confirmed', 'processing', 'ready', 'failed',
                            'canceled')),
    source_kind         text NOT NULL CHECK (source_kind IN ('file', 'url')),
    source              text NOT NULL,          -- confined path or URL
    media_name          text,
    media_type          text,                   -- file extension: mp4, jpg, ...
    media_kind          text NOT NULL DEFAULT 'video'
                            CHECK (media_kind IN ('video', 'image')),
    procedure           text,                   -- Tencent Procedure / Alibaba TemplateGroupId
    source_context      text,                   -- the user's own context, returned as given
    options             jsonb NOT NULL DEFAULT '{}'::jsonb, -- other request fields
    bytes_total         bigint CHECK (bytes_total >= 0),
    bytes_done          bigint NOT NULL DEFAULT 0 CHECK (bytes_done >= 0),
    part_size           bigint CHECK (part_size > 0),
    -- The platform's upload session (ApplyUpload / CreateUploadVideo answer:
    -- bucket, key, temporary credential); credential_expires_at tells when a
    -- resumed job must start over with a new session.
    session             jsonb,
    credential_expires_at timestamptz,
    multipart_upload_id text,
    file_id             text,                   -- Tencent FileId / Alibaba VideoId
    media_url           text,
    attempts            integer NOT NULL DEFAULT 0,
    error_code          text,
    error_message       text,
    cancel_requested    boolean NOT NULL DEFAULT false,
    lease_owner         text,
    lease_expires_at    timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,            -- first claimed by a worker
    uploaded_at         timestamptz,            -- bytes committed to the platform
    finished_at         timestamptz             -- ready, failed or canceled
);

-- Workers look for claimable jobs by state and age.
CREATE INDEX uploads_claim_idx ON uploads (created_at)
    WHERE state IN ('queued', 'uploading', 'committing');
CREATE INDEX uploads_state_idx ON uploads (state, created_at);
-- Unique, and several NULL file ids (not yet known) are allowed.
CREATE UNIQUE INDEX uploads_file_idx ON uploads (provider, file_id);

CREATE TABLE upload_parts (
    upload_id   uuid NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    part_number integer NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
    size        bigint NOT NULL CHECK (size > 0),
    etag        text NOT NULL,
    done_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (upload_id, part_number)
);

-- Media states move forward only, in rank order:
--   uploaded (1) -> confirmed (2) -> processing (3) -> ready | failed (4).
-- Each milestone keeps the time it was first reached, even when a late event
-- reaches a milestone after the record has moved past it.
CREATE TABLE media (
    id                  bigserial PRIMARY KEY,
    provider            text NOT NULL CHECK (provider IN ('tencent', 'alibaba')),
    file_id             text NOT NULL,
    state               text NOT NULL CHECK (state IN (
                            'uploaded', 'confirmed', 'processing', 'ready', 'failed')),
    state_rank          smallint NOT NULL CHECK (state_rank BETWEEN 1 AND 4),
    upload_id           uuid REFERENCES uploads (id) ON DELETE SET NULL,
    media_url           text,
    size                bigint,
    procedure_task_id   text,
    source_context      text,                   -- as the platform sent it back
    error_code          text,
    error_message       text,
    uploaded_at         timestamptz,
    confirmed_at        timestamptz,
    processing_at       timestamptz,
    ready_at            timestamptz,
    failed_at           timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, file_id)
);

CREATE INDEX media_state_idx ON media (state, id);
CREATE INDEX media_upload_idx ON media (upload_id) WHERE upload_id IS NOT NULL;

CREATE TABLE vod_events (
    id              bigserial PRIMARY KEY,
    provider        text NOT NULL CHECK (provider IN ('tencent', 'alibaba')),
    event_type      text NOT NULL,
    dedup_key       text NOT NULL,              -- semantic, see callbacks/README.md
    file_id         text,
    task_id         text,
    status          text,
    error_code      text,
    error_message   text,
    upload_id       uuid,                       -- as found in the event's context
    received_via    text NOT NULL CHECK (received_via IN ('push', 'pull', 'spool', 'reconcile')),
    event_time      timestamptz,
    received_at     timestamptz NOT NULL DEFAULT now(),
    raw             text NOT NULL,              -- the body exactly as received
    UNIQUE (provider, dedup_key)
);

CREATE INDEX vod_events_file_idx ON vod_events (provider, file_id, id);
