-- 018_apps: the application of each upload and media, and attached media.
--
-- One account may hold several applications (Tencent sub-applications,
-- SubAppId; Alibaba applications, AppId). A media belongs to one, and every
-- later call about it (commit, reconcile, delete) must name that one: the
-- platform does not know its id in another. An upload request may name its
-- application (options sub_app_id or app_id, the settings' default filled
-- in when it names none); the upload keeps it in app_id, and so does the
-- media record it makes or links. NULL: the account's default application.
--
-- The columns are filled here, by triggers, so that every statement that
-- creates an upload or links a media to its upload keeps them, whichever
-- path (commit, callback first, reconciler) does it: uploads.app_id from
-- the request's options when the row is inserted; media.app_id from the
-- linked upload when the media is created or linked and has none yet. A
-- media that no upload of vodhook made keeps NULL.
--
-- media_kind 'attached': Alibaba auxiliary media (watermarks, subtitles,
-- materials; CreateUploadAttachedMedia).
ALTER TABLE uploads ADD COLUMN app_id text COLLATE "C";
ALTER TABLE media ADD COLUMN app_id text COLLATE "C";

CREATE FUNCTION uploads_app_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.app_id IS NULL THEN
        NEW.app_id := coalesce(NEW.options->>'sub_app_id',
                               NEW.options->>'app_id');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER uploads_app_id BEFORE INSERT ON uploads
    FOR EACH ROW EXECUTE FUNCTION uploads_app_id();

CREATE FUNCTION media_app_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.app_id IS NULL AND NEW.upload_id IS NOT NULL THEN
        SELECT u.app_id INTO NEW.app_id FROM uploads u
         WHERE u.id = NEW.upload_id;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER media_app_id BEFORE INSERT OR UPDATE OF upload_id ON media
    FOR EACH ROW EXECUTE FUNCTION media_app_id();

ALTER DOMAIN upload_media_kind DROP CONSTRAINT upload_media_kind_check;
ALTER DOMAIN upload_media_kind ADD CONSTRAINT upload_media_kind_check
    CHECK (VALUE IN ('video', 'image', 'attached'));
