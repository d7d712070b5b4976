//! `<UploadCsv/>`: upload a CSV file as a new dataset and list the server's line-level errors.

use leptos::prelude::*;

use super::day;
use crate::api::{import_dataset, ApiError};
use crate::model::DatasetInfo;

/// Upload a CSV as a new dataset; the server's line-level errors are listed.
#[component]
pub(super) fn UploadCsv(on_imported: Callback<DatasetInfo>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let upload = Action::new(move |(name, csv): &(String, String)| {
        let (name, csv) = (name.clone(), csv.clone());
        async move { import_dataset(name, csv).await }
    });
    let read_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(info)) = upload.value().get() {
            on_imported.run(info);
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        read_error.set(None);
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
            leptos::task::spawn_local(async move {
                match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    Ok(text) => {
                        let csv = text.as_string().unwrap_or_default();
                        upload.dispatch((name.get_untracked(), csv));
                    }
                    Err(_) => read_error.set(Some("could not read the file".into())),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <section class="panel" data-testid="upload">
            <h2>"Upload a CSV"</h2>
            <p class="muted">
                "Columns: date (or datetime), open, high, low, close, volume (optional). "
                "Dates like 2024-01-31, 2024-01-31 15:30, 2024-01-31T15:30:00Z, 2024/01/31 or unix seconds."
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
            {move || read_error.get().map(|e| view! { <p class="alert alert--error">{e}</p> })}
            {move || match upload.value().get() {
                Some(Ok(info)) => view! {
                    <p class="notice" data-testid="upload-ok">
                        {format!("Imported {:?}: {} bars, {} → {}", info.name, info.bars, day(info.start), day(info.end))}
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
            {move || upload.pending().get().then(|| view! { <p class="muted">"Uploading…"</p> })}
        </section>
    }
}
