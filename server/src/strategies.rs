//! Users' rule-language strategies (issue 13): the store (`strategies` table, SQL in
//! `server/queries/strategies/*.sql`), the checks behind `/api/check_strategy` and
//! `/api/save_strategy`, and (in `jobs`) what jobs that run a rule program need:
//!
//! * at submit, [`prepare_request`] checks the program and the request's `params`/`grid`
//!   against its declared parameters and the dataset's length (a `400` naming the field before
//!   any job row exists), then records the strategy's id, version, content hash and name in the
//!   request (`rules`), which becomes the job's arguments ([`rule_args`] drops the built-in
//!   `strategy` placeholder from them);
//! * at run time, [`load_program`] loads the recorded program (inline source, or id + version
//!   from the store), checks its hash against the recorded one and checks it again.
//!
//! A strategy is named by its program's `strategy "…"` line (case-insensitively): one name, one
//! id. Saving a source that differs from the newest version's adds a version; saving the newest
//! version's source again returns that version (`created: false`). Versions never change, so a
//! job's (id, version, hash) always names what it ran.

use app::api::backend::BackendError;
use app::model::strategies::{
    DeletedStrategy, RuleIssue, SavedStrategy, StrategyCheck, StrategyInfo, StrategyParam,
    StrategySource,
};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::engine::rules::{check, ParamDecl, ParamKind, RuleError, MAX_SOURCE_BYTES};
use crate::jobs::backend::internal;
use crate::jobs::store::statement;

mod jobs;

pub use jobs::{load_program, prepare_request, rule_args, rules_of};

/// The store's statements, one per file in `server/queries/strategies/`; see each header.
mod sql {
    use super::statement;

    pub const SAVE_LOCK: &str = statement(include_str!("../queries/strategies/save_lock.sql"));
    pub const NEWEST_BY_NAME: &str =
        statement(include_str!("../queries/strategies/newest_by_name.sql"));
    pub const INSERT: &str = statement(include_str!("../queries/strategies/insert.sql"));
    pub const GET: &str = statement(include_str!("../queries/strategies/get.sql"));
    pub const LIST: &str = statement(include_str!("../queries/strategies/list.sql"));
    pub const COUNT: &str = statement(include_str!("../queries/strategies/count.sql"));
    pub const DELETE: &str = statement(include_str!("../queries/strategies/delete.sql"));
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    #[error("no such strategy: {0}")]
    NotFound(Uuid),
    /// QUEUED or RUNNING jobs run the strategy; nothing was deleted.
    #[error("strategy {id} is used by {jobs} queued or running job(s)")]
    InUse { id: Uuid, jobs: i64 },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// SHA-256 of the source's UTF-8 bytes, 64 lower-case hex digits.
pub fn content_hash(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

/// A version as `newest_by_name.sql`, `insert.sql` and `list.sql` return it.
#[derive(sqlx::FromRow)]
struct InfoRow {
    id: Uuid,
    version: i32,
    name: String,
    content_hash: String,
    created_at: DateTime<Utc>,
}

impl From<InfoRow> for StrategyInfo {
    fn from(r: InfoRow) -> StrategyInfo {
        StrategyInfo {
            id: r.id,
            version: r.version,
            name: r.name,
            content_hash: r.content_hash,
            created_at: r.created_at,
        }
    }
}

fn saved(r: InfoRow, created: bool) -> SavedStrategy {
    SavedStrategy {
        id: r.id,
        version: r.version,
        name: r.name,
        content_hash: r.content_hash,
        created_at: r.created_at,
        created,
    }
}

/// A version with its source, as `get.sql` returns it.
#[derive(sqlx::FromRow)]
struct SourceRow {
    id: Uuid,
    version: i32,
    name: String,
    content_hash: String,
    created_at: DateTime<Utc>,
    source: String,
}

/// The answer of `delete.sql`.
#[derive(sqlx::FromRow)]
struct DeleteRow {
    active_jobs: i64,
    deleted: i64,
}

/// The `strategies` table.
#[derive(Clone)]
pub struct StrategyStore {
    pool: PgPool,
}

impl StrategyStore {
    pub fn new(pool: PgPool) -> StrategyStore {
        StrategyStore { pool }
    }

    /// Saves `source` (already checked) under `name`: the newest version when its source is the
    /// same (`created: false`), else a new version (1 for a new name). One transaction, under a
    /// per-name lock.
    pub async fn save(&self, name: &str, source: &str) -> Result<SavedStrategy, StrategyError> {
        let hash = content_hash(source);
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql::SAVE_LOCK)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let newest: Option<InfoRow> = sqlx::query_as(sql::NEWEST_BY_NAME)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let (id, version) = match newest {
            Some(row) if row.content_hash == hash => {
                tx.commit().await?;
                return Ok(saved(row, false));
            }
            Some(row) => (row.id, row.version + 1),
            None => (Uuid::new_v4(), 1),
        };
        let row: InfoRow = sqlx::query_as(sql::INSERT)
            .bind(id)
            .bind(version)
            .bind(name)
            .bind(source)
            .bind(&hash)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(saved(row, true))
    }

    /// One version with its source (`None`: the newest); `Ok(None)` when there is none.
    pub async fn get(
        &self,
        id: Uuid,
        version: Option<i32>,
    ) -> Result<Option<StrategySource>, StrategyError> {
        let row: Option<SourceRow> = sqlx::query_as(sql::GET)
            .bind(id)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| StrategySource {
            id: r.id,
            version: r.version,
            name: r.name,
            content_hash: r.content_hash,
            created_at: r.created_at,
            source: r.source,
            params: Vec::new(),
        }))
    }

    /// The newest version of each strategy, most recently saved first, and how many there are.
    pub async fn list(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StrategyInfo>, i64), StrategyError> {
        let rows: Vec<InfoRow> = sqlx::query_as(sql::LIST)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(sql::COUNT).fetch_one(&self.pool).await?;
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }

    /// Deletes every version, unless a QUEUED or RUNNING job runs the strategy.
    pub async fn delete(&self, id: Uuid) -> Result<DeletedStrategy, StrategyError> {
        let row: DeleteRow = sqlx::query_as(sql::DELETE)
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        if row.active_jobs > 0 {
            return Err(StrategyError::InUse {
                id,
                jobs: row.active_jobs,
            });
        }
        if row.deleted == 0 {
            return Err(StrategyError::NotFound(id));
        }
        Ok(DeletedStrategy {
            id,
            versions: row.deleted,
        })
    }
}

fn issue(e: RuleError) -> RuleIssue {
    RuleIssue {
        line: e.line,
        column: e.column,
        message: e.message,
    }
}

/// A declared parameter as the API shows it.
pub fn param_info(p: &ParamDecl) -> StrategyParam {
    StrategyParam {
        name: p.name.clone(),
        kind: match p.kind {
            ParamKind::Int => "int",
            ParamKind::Float => "float",
        }
        .into(),
        min: p.min,
        max: p.max,
        default: p.default,
    }
}

/// Checks a program: its name, parameters and warm-up at the defaults, or every error.
pub fn check_report(source: &str) -> StrategyCheck {
    match check(source) {
        Ok(program) => StrategyCheck {
            ok: true,
            lookback: Some(program.lookback(&program.defaults())),
            params: program.params.iter().map(param_info).collect(),
            name: Some(program.name),
            errors: Vec::new(),
        },
        Err(errors) => StrategyCheck {
            ok: false,
            name: None,
            params: Vec::new(),
            lookback: None,
            errors: errors.into_iter().map(issue).collect(),
        },
    }
}

/// The first errors of a program that does not check, on one line each.
fn error_text(errors: &[RuleError]) -> String {
    const SHOWN: usize = 10;
    let mut text = errors
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    if errors.len() > SHOWN {
        text.push_str(&format!("\n… and {} more", errors.len() - SHOWN));
    }
    text
}

/// A source the API accepts: at most 64 KiB (`400` naming `source` otherwise).
pub fn check_source_size(source: &str) -> Result<(), BackendError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(BackendError::invalid(
            "source",
            format!(
                "the program has {} bytes; the limit is {MAX_SOURCE_BYTES} (64 KiB)",
                source.len()
            ),
        ));
    }
    Ok(())
}

/// `/api/check_strategy`: errors are in the answer; only an oversized source is refused.
pub async fn check_api(source: String) -> Result<StrategyCheck, BackendError> {
    check_source_size(&source)?;
    tokio::task::spawn_blocking(move || check_report(&source))
        .await
        .map_err(|e| internal(&e))
}

/// `/api/save_strategy`: a program that does not check is refused (`400`, field `source`,
/// every error on its own line), nothing stored.
pub async fn save_api(
    store: &StrategyStore,
    source: String,
) -> Result<SavedStrategy, BackendError> {
    check_source_size(&source)?;
    let (source, checked) = tokio::task::spawn_blocking(move || {
        let checked = check(&source).map(|p| p.name);
        (source, checked)
    })
    .await
    .map_err(|e| internal(&e))?;
    let name = checked.map_err(|errors| BackendError::invalid("source", error_text(&errors)))?;
    store.save(&name, &source).await.map_err(|e| internal(&e))
}

/// `/api/delete_strategy`: `409` while a job runs it, `400` naming `id` when there is none.
pub async fn delete_api(store: &StrategyStore, id: Uuid) -> Result<DeletedStrategy, BackendError> {
    store.delete(id).await.map_err(|e| match e {
        StrategyError::NotFound(id) => {
            BackendError::invalid("id", format!("no such strategy: {id}"))
        }
        StrategyError::InUse { id, jobs } => BackendError::Conflict(format!(
            "strategy {id} is used by {jobs} queued or running job(s); \
             cancel them or wait for them to finish, then delete it"
        )),
        other => internal(&other),
    })
}

/// `/api/get_strategy`: `400` naming `id` (or `version`) when there is none.
pub async fn get_api(
    store: &StrategyStore,
    id: Uuid,
    version: Option<i32>,
) -> Result<StrategySource, BackendError> {
    match store.get(id, version).await.map_err(|e| internal(&e))? {
        // The declared parameters, from the program (so forms can build their inputs).
        Some(s) => tokio::task::spawn_blocking(move || StrategySource {
            params: check_report(&s.source).params,
            ..s
        })
        .await
        .map_err(|e| internal(&e)),
        None => match version {
            Some(v)
                if store
                    .get(id, None)
                    .await
                    .map_err(|e| internal(&e))?
                    .is_some() =>
            {
                Err(BackendError::invalid(
                    "version",
                    format!("strategy {id} has no version {v}"),
                ))
            }
            _ => Err(BackendError::invalid(
                "id",
                format!("no such strategy: {id}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests;
