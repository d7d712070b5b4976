//! The dataset store: OHLCV series in Postgres, the only code that reads or writes `datasets`.
//!
//! The statements live in `server/queries/datasets/*.sql`, one per file with a header (its
//! parameters, what it guards, the index it uses), compiled in with `include_str!`; rows decode
//! with `sqlx::FromRow`.

use app::model::DatasetInfo;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::engine::{sample_series, Series};
use crate::jobs::store::statement;

/// The built-in sample's fixed id, so every install and test names it the same way.
pub const SAMPLE_DATASET_ID: Uuid = Uuid::from_u128(0x5a3b_1e00_0000_4000_8000_0000_0000_0001);
/// The built-in sample's name.
pub const SAMPLE_DATASET_NAME: &str = "Sample: synthetic daily random walk (2,000 bars)";
/// Bars and seed of the built-in sample (deterministic).
pub const SAMPLE_BARS: usize = 2_000;
pub const SAMPLE_SEED: u64 = 42;

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("no such dataset: {0}")]
    NotFound(Uuid),
    #[error("a dataset named {0:?} already exists")]
    NameTaken(String),
    #[error("a dataset needs at least 2 bars")]
    TooShort,
    /// Live (QUEUED or RUNNING) jobs use it.
    #[error("{jobs} queued or running job(s) use this dataset")]
    InUse { jobs: i64 },
    /// The task hashing the bars did not finish (it panicked or was cancelled).
    #[error("hashing the bars failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The store's statements, one per file in `server/queries/datasets/`; see each file's header.
mod sql {
    use super::statement;

    pub const INSERT: &str = statement(include_str!("../queries/datasets/insert.sql"));
    pub const LIST: &str = statement(include_str!("../queries/datasets/list.sql"));
    pub const INFO: &str = statement(include_str!("../queries/datasets/info.sql"));
    pub const LOAD: &str = statement(include_str!("../queries/datasets/load.sql"));
    pub const HASH: &str = statement(include_str!("../queries/datasets/hash.sql"));
    pub const SET_HASH: &str = statement(include_str!("../queries/datasets/set_hash.sql"));
    pub const NAME_TAKEN: &str = statement(include_str!("../queries/datasets/name_taken.sql"));
    pub const PAGE: &str = statement(include_str!("../queries/datasets/page.sql"));
    pub const COUNT: &str = statement(include_str!("../queries/datasets/count.sql"));
    pub const DELETE: &str = statement(include_str!("../queries/datasets/delete.sql"));
    pub const IN_USE: &str = statement(include_str!("../queries/datasets/in_use.sql"));
}

/// The tag that starts the hashed encoding; a new encoding would get a new tag.
const HASH_DOMAIN: &[u8] = b"runboard bars v1\0";

/// The dataset's content hash: sha256, as 64 lower-case hex digits, of a canonical encoding of
/// its bars. The encoding is [`HASH_DOMAIN`], the number of bars as a little-endian `u64`, then
/// per bar in time order its time (`i64`) and open, high, low, close and volume (the `f64`
/// bits, so exactly the stored values; `-0.0` is written as `0.0`), all little-endian. Names,
/// descriptions and ids are not part of it: the same bars imported twice hash the same.
pub fn content_hash(s: &Series) -> String {
    let mut h = Sha256::new();
    h.update(HASH_DOMAIN);
    h.update((s.ts.len() as u64).to_le_bytes());
    let canonical = |v: f64| if v == 0.0 { 0.0f64 } else { v };
    for i in 0..s.ts.len() {
        h.update(s.ts[i].to_le_bytes());
        for column in [&s.open, &s.high, &s.low, &s.close, &s.volume] {
            let v = column.get(i).copied().unwrap_or(f64::NAN);
            h.update(canonical(v).to_bits().to_le_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// A dataset's description as `insert.sql`, `list.sql` and `info.sql` return it.
#[derive(sqlx::FromRow)]
struct InfoRow {
    id: Uuid,
    name: String,
    description: Option<String>,
    bars: i32,
    start_ts: i64,
    end_ts: i64,
    created_at: DateTime<Utc>,
}

impl From<InfoRow> for DatasetInfo {
    fn from(r: InfoRow) -> Self {
        DatasetInfo {
            id: r.id,
            name: r.name,
            description: r.description,
            bars: r.bars,
            start: r.start_ts,
            end: r.end_ts,
            created_at: r.created_at,
        }
    }
}

/// The bars as `load.sql` returns them: the count and the packed columns.
#[derive(sqlx::FromRow)]
struct BarsRow {
    bars: i32,
    packed: Vec<u8>,
}

/// Bytes a bar takes packed: six 8-byte values.
pub const PACKED_BAR_BYTES: usize = 48;

/// The bars packed for storage: the columns `ts, open, high, low, close, volume` one after the
/// other, each value 8 bytes big-endian (Postgres's `int8send`/`float8send` order, so SQL can
/// build the same bytes: `runboard_pack_bars()`).
pub fn pack_bars(s: &Series) -> Vec<u8> {
    let n = s.ts.len();
    let mut out = Vec::with_capacity(n * PACKED_BAR_BYTES);
    for t in &s.ts {
        out.extend_from_slice(&t.to_be_bytes());
    }
    for column in [&s.open, &s.high, &s.low, &s.close, &s.volume] {
        for i in 0..n {
            let v = column.get(i).copied().unwrap_or(f64::NAN);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out
}

/// [`pack_bars`] undone; `None` when `packed` is not `48·bars` bytes.
pub fn unpack_bars(bars: usize, packed: &[u8]) -> Option<Series> {
    if packed.len() != bars.checked_mul(PACKED_BAR_BYTES)? {
        return None;
    }
    let word = |k: usize| -> [u8; 8] { packed[k * 8..k * 8 + 8].try_into().unwrap_or([0; 8]) };
    let column = |c: usize| -> Vec<f64> {
        (0..bars)
            .map(|i| f64::from_be_bytes(word(c * bars + i)))
            .collect()
    };
    Some(Series {
        ts: (0..bars).map(|i| i64::from_be_bytes(word(i))).collect(),
        open: column(1),
        high: column(2),
        low: column(3),
        close: column(4),
        volume: column(5),
    })
}

#[derive(Clone, Debug)]
pub struct DatasetStore {
    pool: PgPool,
}

impl DatasetStore {
    pub fn new(pool: PgPool) -> DatasetStore {
        DatasetStore { pool }
    }

    /// Stores a parsed series under a new id. One INSERT: all or nothing.
    pub async fn insert(
        &self,
        name: &str,
        description: Option<&str>,
        series: &Series,
    ) -> Result<DatasetInfo, DatasetError> {
        self.insert_with_id(Uuid::new_v4(), name, description, series)
            .await
    }

    async fn insert_with_id(
        &self,
        id: Uuid,
        name: &str,
        description: Option<&str>,
        s: &Series,
    ) -> Result<DatasetInfo, DatasetError> {
        let (Some(&start), Some(&end)) = (s.ts.first(), s.ts.last()) else {
            return Err(DatasetError::TooShort);
        };
        if s.ts.len() < 2 {
            return Err(DatasetError::TooShort);
        }
        let row: Result<InfoRow, sqlx::Error> = sqlx::query_as(sql::INSERT)
            .bind(id)
            .bind(name)
            .bind(description)
            .bind(s.ts.len() as i32)
            .bind(start)
            .bind(end)
            .bind(pack_bars(s))
            .bind(content_hash(s))
            .fetch_one(&self.pool)
            .await;
        match row {
            Ok(row) => Ok(row.into()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(DatasetError::NameTaken(name.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every dataset, newest first.
    pub async fn list(&self) -> Result<Vec<DatasetInfo>, DatasetError> {
        let rows: Vec<InfoRow> = sqlx::query_as(sql::LIST).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// One page of the datasets, newest first, and how many there are in all.
    pub async fn page(
        &self,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<DatasetInfo>, i64), DatasetError> {
        let rows: Vec<InfoRow> = sqlx::query_as(sql::PAGE)
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(sql::COUNT).fetch_one(&self.pool).await?;
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }

    /// Deletes a dataset; refused ([`DatasetError::InUse`]) while a QUEUED or RUNNING job
    /// names it, [`DatasetError::NotFound`] when there is none.
    pub async fn delete(&self, id: Uuid) -> Result<(), DatasetError> {
        let deleted: Option<Uuid> = sqlx::query_scalar(sql::DELETE)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        if deleted.is_some() {
            return Ok(());
        }
        let jobs: i64 = sqlx::query_scalar(sql::IN_USE)
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        if jobs > 0 {
            Err(DatasetError::InUse { jobs })
        } else {
            Err(DatasetError::NotFound(id))
        }
    }

    /// Whether a dataset already has this name (ignoring case).
    pub async fn name_taken(&self, name: &str) -> Result<bool, DatasetError> {
        Ok(sqlx::query_scalar(sql::NAME_TAKEN)
            .bind(name)
            .fetch_one(&self.pool)
            .await?)
    }

    /// One dataset's description.
    pub async fn info(&self, id: Uuid) -> Result<DatasetInfo, DatasetError> {
        let row: Option<InfoRow> = sqlx::query_as(sql::INFO)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.ok_or(DatasetError::NotFound(id))?.into())
    }

    /// Loads the bars.
    pub async fn load(&self, id: Uuid) -> Result<Series, DatasetError> {
        let row: Option<BarsRow> = sqlx::query_as(sql::LOAD)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let row = row.ok_or(DatasetError::NotFound(id))?;
        let bars = usize::try_from(row.bars).unwrap_or(0);
        unpack_bars(bars, &row.packed).ok_or_else(|| {
            DatasetError::Db(sqlx::Error::Decode(
                format!(
                    "dataset {id}: {} packed bytes for {bars} bars",
                    row.packed.len()
                )
                .into(),
            ))
        })
    }

    /// The dataset's content hash ([`content_hash`]). A dataset imported before hashes were
    /// recorded gets its hash computed from its bars now, and stored.
    pub async fn content_hash(&self, id: Uuid) -> Result<String, DatasetError> {
        let stored: Option<Option<String>> = sqlx::query_scalar(sql::HASH)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(hash) = stored.ok_or(DatasetError::NotFound(id))? {
            return Ok(hash);
        }
        let series = self.load(id).await?;
        let hash = tokio::task::spawn_blocking(move || content_hash(&series))
            .await
            .map_err(|e| DatasetError::Hashing(e.to_string()))?;
        let stored: Option<String> = sqlx::query_scalar(sql::SET_HASH)
            .bind(id)
            .bind(&hash)
            .fetch_optional(&self.pool)
            .await?;
        stored.ok_or(DatasetError::NotFound(id))
    }

    /// Adds the built-in synthetic sample if it is missing, so a fresh install can run jobs.
    pub async fn ensure_sample(&self) -> Result<(), DatasetError> {
        if self.info(SAMPLE_DATASET_ID).await.is_ok() {
            return Ok(());
        }
        let series = sample_series(SAMPLE_BARS, SAMPLE_SEED);
        match self
            .insert_with_id(
                SAMPLE_DATASET_ID,
                SAMPLE_DATASET_NAME,
                Some("Synthetic: a deterministic geometric random walk of weekday bars generated by Runboard (seed 42); not market data."),
                &series,
            )
            .await
        {
            Ok(_) | Err(DatasetError::NameTaken(_)) => Ok(()),
            Err(DatasetError::Db(sqlx::Error::Database(e))) if e.is_unique_violation() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_pack_and_unpack_exactly() {
        let s = crate::engine::sample_series(500, 3);
        let packed = pack_bars(&s);
        assert_eq!(packed.len(), 500 * PACKED_BAR_BYTES);
        // Big-endian, columns one after another: the first 8 bytes are the first time.
        assert_eq!(&packed[..8], &s.ts[0].to_be_bytes());
        assert_eq!(&packed[500 * 8..500 * 8 + 8], &s.open[0].to_be_bytes());
        assert_eq!(unpack_bars(500, &packed), Some(s));
        assert_eq!(unpack_bars(499, &packed), None);
        assert_eq!(unpack_bars(usize::MAX, &packed), None);
    }

    /// The columns of [`InfoRow`].
    const INFO_COLUMNS: &str = "id, name, description, bars, start_ts, end_ts, created_at";

    #[test]
    fn info_queries_read_exactly_the_info_columns() {
        for (name, query, before) in [
            ("insert", sql::INSERT, "RETURNING "),
            ("list", sql::LIST, "SELECT "),
            ("info", sql::INFO, "SELECT "),
        ] {
            let flat = query.split_whitespace().collect::<Vec<_>>().join(" ");
            let selected = flat
                .split_once(before)
                .map(|(_, rest)| rest.split([';']).next().unwrap_or(rest))
                .map(|rest| rest.split(" FROM ").next().unwrap_or(rest));
            assert_eq!(selected, Some(INFO_COLUMNS), "{name}.sql");
        }
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn a_dataset_reads_back_as_stored(pool: PgPool) {
        let store = DatasetStore::new(pool);
        let series = sample_series(50, 7);
        let info = store.insert("fifty", Some("d"), &series).await.unwrap();
        assert_eq!((info.name.as_str(), info.bars), ("fifty", 50));
        assert_eq!(store.info(info.id).await.unwrap(), info);
        assert_eq!(store.list().await.unwrap(), vec![info.clone()]);
        assert_eq!(store.load(info.id).await.unwrap(), series);
        assert!(matches!(
            store.insert("FIFTY", None, &series).await,
            Err(DatasetError::NameTaken(_))
        ));
        assert!(matches!(
            store.load(Uuid::nil()).await,
            Err(DatasetError::NotFound(_))
        ));
    }
}
