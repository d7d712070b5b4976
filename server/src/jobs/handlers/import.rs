//! The worker side of `import` jobs: there is nothing to run. An import runs inside its upload
//! request (`jobs/import.rs`), under that process's lease, with one attempt; a worker never
//! claims one, since such a job is never QUEUED. Should one reach a worker anyway (a row put
//! back by hand), it fails at once with a message that says to upload again.

use async_trait::async_trait;

use super::{Handled, Handler, HandlerDeps, HandlerError};
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;

/// Refuses `import` jobs: their upload is gone.
pub struct ImportHandler;

#[async_trait]
impl Handler for ImportHandler {
    async fn run(&self, _job: &ClaimedJob, _deps: &HandlerDeps, _reporter: Reporter) -> Handled {
        Err(HandlerError::Terminal(
            "an import runs inside its upload request, which has ended: upload the file again"
                .into(),
        ))
    }
}
