//! `<UploadCsv/>`: upload a CSV file as a new dataset, streamed to `POST /api/datasets` (an
//! `import` job on the server) with a progress bar for the bytes sent; the server parses while
//! the bytes arrive, so the bar tracks the import too. The server's line-level errors are
//! listed.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::results::format::fmt_date;
use crate::model::DatasetInfo;

/// The upload's URL.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn upload_url(name: &str) -> String {
    format!("/api/datasets?name={}", crate::url::encode(name.trim()))
}

/// Upload a CSV as a new dataset; the server's line-level errors are listed.
#[component]
pub(super) fn UploadCsv(on_imported: Callback<DatasetInfo>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    // Bytes sent and the file's size, while uploading.
    let sent = RwSignal::new(None::<(f64, f64)>);
    let outcome = RwSignal::new(None::<Result<DatasetInfo, ApiError>>);
    Effect::new(move |_| {
        if let Some(Ok(info)) = outcome.get() {
            on_imported.run(info);
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        outcome.set(None);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input: Option<web_sys::HtmlInputElement> =
                ev.target().and_then(|t| t.dyn_into().ok());
            let Some(file) = input.and_then(|i| i.files()).and_then(|f| f.get(0)) else {
                return;
            };
            if name.get_untracked().trim().is_empty() {
                let stem = file.name();
                name.set(stem.trim_end_matches(".csv").to_string());
            }
            if let Err(e) = xhr::send(&upload_url(&name.get_untracked()), file, sent, outcome) {
                outcome.set(Some(Err(e)));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let progress = move || {
        sent.get().map(|(done, total)| {
            let pct = if total > 0.0 {
                (done / total * 100.0).clamp(0.0, 100.0)
            } else {
                0.0
            };
            view! {
                <div class="upload-progress" data-testid="upload-progress">
                    <progress max="100" value=format!("{pct:.0}")></progress>
                    <span class="muted">
                        {format!(
                            "{:.1} of {:.1} MB sent and imported{}",
                            done / 1e6,
                            total / 1e6,
                            if pct >= 100.0 { "; storing…" } else { "" },
                        )}
                    </span>
                </div>
            }
        })
    };
    view! {
        <section class="panel" data-testid="upload">
            <h2>"Upload a CSV"</h2>
            <p class="muted">
                "Columns: date (or datetime), open, high, low, close, volume (optional). "
                "Dates like 2024-01-31, 2024-01-31 15:30, 2024-01-31T15:30:00Z, 2024/01/31 or unix seconds. "
                "Files of any size are streamed in (up to the server's limit, 1 GiB by default)."
            </p>
            <div class="field-row">
                <div class="field">
                    <label for="dataset-name">"Name"</label>
                    <input id="dataset-name" data-testid="dataset-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="csv-file">"CSV file"</label>
                    <input id="csv-file" type="file" accept=".csv,text/csv" data-testid="csv-file" on:change=on_file />
                </div>
            </div>
            {progress}
            {move || match outcome.get() {
                Some(Ok(info)) => view! {
                    <p class="notice" data-testid="upload-ok">
                        {format!("Imported {:?}: {} bars, {} → {}", info.name, info.bars, fmt_date(info.start), fmt_date(info.end))}
                    </p>
                }
                .into_any(),
                Some(Err(ApiError::InvalidCsv { errors })) => view! {
                    <div class="alert alert--error" data-testid="upload-errors">
                        <p>"The file was not imported. Fix these and upload again:"</p>
                        <ul>
                            {errors.into_iter().map(|e| view! { <li>{e.to_string()}</li> }).collect_view()}
                        </ul>
                    </div>
                }
                .into_any(),
                Some(Err(e)) => view! { <p class="alert alert--error" data-testid="upload-errors">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}

/// The browser side: an `XMLHttpRequest` (fetch cannot report upload progress) that sends the
/// `File` itself, so the browser streams it from disk.
#[cfg(feature = "hydrate")]
mod xhr {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    use crate::api::ApiError;
    use crate::model::{DatasetInfo, ImportResult, JobStatus};

    fn failed(message: impl Into<String>) -> ApiError {
        ApiError::Unreachable {
            message: message.into(),
        }
    }

    /// Starts the upload; progress goes to `sent`, the end to `outcome`.
    pub fn send(
        url: &str,
        file: web_sys::File,
        sent: RwSignal<Option<(f64, f64)>>,
        outcome: RwSignal<Option<Result<DatasetInfo, ApiError>>>,
    ) -> Result<(), ApiError> {
        let js = |e: wasm_bindgen::JsValue| failed(format!("{e:?}"));
        let xhr = web_sys::XmlHttpRequest::new().map_err(js)?;
        xhr.open("POST", url).map_err(js)?;
        xhr.set_request_header("content-type", "text/csv")
            .map_err(js)?;
        xhr.set_request_header("accept", "application/json")
            .map_err(js)?;
        let size = file.size();
        sent.set(Some((0.0, size)));
        let on_progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                let total = if e.length_computable() {
                    e.total()
                } else {
                    size
                };
                sent.set(Some((e.loaded(), total)));
            });
        xhr.upload()
            .map_err(js)?
            .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        on_progress.forget();
        let done = xhr.clone();
        let on_end = Closure::<dyn FnMut()>::new(move || {
            sent.set(None);
            let status = done.status().unwrap_or(0);
            let text = done.response_text().ok().flatten().unwrap_or_default();
            if status == 0 {
                outcome.set(Some(Err(failed("the upload did not reach the server"))));
                return;
            }
            if !(200..300).contains(&status) {
                let error = serde_json::from_str::<ApiError>(&text)
                    .unwrap_or_else(|_| failed(format!("the server answered {status}")));
                outcome.set(Some(Err(error)));
                return;
            }
            let Ok(job) = serde_json::from_str::<JobStatus>(&text) else {
                outcome.set(Some(Err(failed("the server's answer could not be read"))));
                return;
            };
            leptos::task::spawn_local(async move {
                let info = crate::api::get_job_result(job.id.to_string())
                    .await
                    .and_then(|r| {
                        r.result
                            .and_then(|v| serde_json::from_value::<ImportResult>(v).ok())
                            .map(|r| r.dataset)
                            .ok_or_else(|| failed("the import finished without a dataset"))
                    });
                outcome.set(Some(info));
            });
        });
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        on_end.forget();
        xhr.send_with_opt_blob(Some(&file)).map_err(js)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_goes_into_the_query_encoded() {
        assert_eq!(
            upload_url(" ES 1m/2024 "),
            "/api/datasets?name=ES%201m%2F2024"
        );
    }
}
