//! `POST /api/datasets?name=<name>`: a CSV file as the raw request body (`content-type:
//! text/csv`, optionally `content-encoding: gzip`), streamed into a new dataset by an `import`
//! job (`jobs/import.rs`). The body is never held whole: its chunks go through a bounded channel
//! to the parser on the blocking pool, counted against `RUNBOARD_MAX_UPLOAD_BYTES` (`413` past
//! it, also as soon as a `content-length` says so).
//!
//! The answer is the import job's final status (`200`, state SUCCEEDED, `result` the dataset's
//! info), or the usual JSON error: `400` with every problem's line and column, `409` for a name
//! already used, `413`, `415` for an unknown content-encoding.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use app::api::backend::{ImportUpload, SharedBackend};
use app::api::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http_body_util::BodyExt;
use serde::Deserialize;

use super::guard::Security;

/// The upload route.
pub const UPLOAD_PATH: &str = "/api/datasets";

/// Body chunks in flight between the network and the parser.
const CHANNEL_CHUNKS: usize = 16;

/// `?name=…&size=…`.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    name: Option<String>,
    /// The body's size when the client knows it but streams without a `content-length`.
    #[serde(default)]
    size: Option<u64>,
}

/// The error as JSON with its status.
fn refuse(error: ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(error)).into_response()
}

/// A synchronous reader over the body chunks the async side sends: what the parser reads.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(message)) => return Err(std::io::Error::other(message)),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// `POST /api/datasets`.
pub async fn upload_csv(
    Extension(backend): Extension<SharedBackend>,
    Extension(security): Extension<Arc<Security>>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = security.upload_limit();
    let gzip = match headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("identity") => false,
        Some("gzip") | Some("x-gzip") => true,
        Some(other) => {
            return refuse(ApiError::UnsupportedMediaType {
                message: format!(
                    "content-encoding {:?} is not supported: send the CSV as is or gzip it",
                    other.chars().take(40).collect::<String>()
                ),
            })
        }
    };
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = |what: String| {
        refuse(ApiError::PayloadTooLarge {
            message: format!(
                "{what}, more than the limit of {limit} bytes (RUNBOARD_MAX_UPLOAD_BYTES)"
            ),
            limit,
        })
    };
    if let Some(n) = length.filter(|n| *n > limit) {
        return too_large(format!("the upload is {n} bytes"));
    }
    let Some(name) = query.name else {
        return refuse(ApiError::invalid(
            "name",
            "give the dataset a name: POST /api/datasets?name=…",
        ));
    };
    let bytes = Arc::new(AtomicU64::new(0));
    let over = Arc::new(AtomicBool::new(false));
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_CHUNKS);
    // Feed the body to the parser, counting it against the limit.
    let feeder = {
        let (bytes, over) = (bytes.clone(), over.clone());
        tokio::spawn(async move {
            let mut body = body;
            loop {
                match body.frame().await {
                    None => return,
                    Some(Err(e)) => {
                        let read = bytes.load(Ordering::Relaxed);
                        let _ = tx
                            .send(Err(format!(
                                "the upload was cut off after {read} bytes ({e})"
                            )))
                            .await;
                        return;
                    }
                    Some(Ok(frame)) => {
                        let Ok(chunk) = frame.into_data() else {
                            continue;
                        };
                        let read = bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed)
                            + chunk.len() as u64;
                        if read > limit {
                            over.store(true, Ordering::Relaxed);
                            let _ = tx
                                .send(Err(format!(
                                    "the upload is larger than the limit of {limit} bytes"
                                )))
                                .await;
                            return;
                        }
                        if tx.send(Ok(chunk)).await.is_err() {
                            // The parser stopped (a bad row, a cancel): nothing more to read.
                            return;
                        }
                    }
                }
            }
        })
    };
    let upload = ImportUpload {
        name,
        gzip,
        size_hint: length.or(query.size),
        body: Box::new(ChannelReader {
            rx,
            current: Bytes::new(),
        }),
        bytes: bytes.clone(),
    };
    let outcome = backend.import_stream(upload).await;
    feeder.abort();
    if over.load(Ordering::Relaxed) {
        return too_large(format!(
            "the upload passed {} bytes",
            bytes.load(Ordering::Relaxed)
        ));
    }
    match outcome {
        Ok(status) => (StatusCode::OK, Json(status)).into_response(),
        Err(e) => refuse(ApiError::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_reader_joins_chunks_and_passes_errors_on() {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(Ok(Bytes::from_static(b"ab"))).unwrap();
        tx.try_send(Ok(Bytes::from_static(b"cde"))).unwrap();
        tx.try_send(Err("cut off".into())).unwrap();
        let mut r = ChannelReader {
            rx,
            current: Bytes::new(),
        };
        let mut out = [0u8; 4];
        assert_eq!(r.read(&mut out).unwrap(), 2);
        assert_eq!(r.read(&mut out).unwrap(), 3);
        assert_eq!(&out[..3], b"cde");
        assert_eq!(r.read(&mut out).unwrap_err().to_string(), "cut off");
    }
}
