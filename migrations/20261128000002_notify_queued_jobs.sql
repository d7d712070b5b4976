-- Wake idle workers (LISTEN runboard_jobs) whenever a job becomes QUEUED: on submit, on
-- rescue and on retry. Workers also poll as a fallback, so a lost notification only delays.
CREATE FUNCTION jobs_notify_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('runboard_jobs', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify_queued
    AFTER INSERT OR UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'QUEUED')
    EXECUTE FUNCTION jobs_notify_queued();
