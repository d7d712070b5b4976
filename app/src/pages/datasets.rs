//! `/datasets`: the stored datasets, newest first, a page at a time, each with a Delete button
//! (refused while a queued or running job uses it); `/datasets/:id`: one dataset's summary and
//! its close price, downsampled on the server to at most ~2,000 points with min/max buckets.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{dataset_page, delete_dataset, get_dataset_chart};
use crate::components::delete_button::{deletable_table, delete_button, TableFrame};
use crate::components::results::format::{fmt_date_time, fmt_thousands};
use crate::components::results::PriceChart;
use crate::model::{DatasetInfo, DatasetPage};
use crate::pages::paging::{page_count, parse_page};

/// Datasets per page.
pub const PER_PAGE: u32 = 20;

fn day(t: i64) -> String {
    fmt_date_time(t).chars().take(10).collect()
}

fn row(
    d: DatasetInfo,
    deleted: RwSignal<Vec<String>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = d.id.to_string();
    let href = format!("/datasets/{id}");
    let hidden = {
        let id = id.clone();
        move || deleted.with(|d| d.contains(&id))
    };
    view! {
        <tr class:hidden=hidden data-testid="dataset-row">
            <td><a href=href>{d.name.clone()}</a></td>
            <td class="num">{fmt_thousands(f64::from(d.bars), 0)}</td>
            <td class="nowrap">{day(d.start)}</td>
            <td class="nowrap">{day(d.end)}</td>
            <td>
                {delete_button(id.clone(), "delete-dataset", deleted, error, delete_dataset)}
            </td>
        </tr>
    }
}

/// The table with its Delete buttons (an island: the buttons call the server and hide rows).
#[island(lazy)]
fn DatasetTable(list: DatasetPage) -> impl IntoView {
    crate::ready::island("dataset_table");
    let frame = TableFrame {
        error_testid: "dataset-error",
        table_testid: "datasets-table",
        headings: &[
            ("Name", false),
            ("Bars", true),
            ("From", false),
            ("To", false),
        ],
        base: "/datasets",
        page: list.page,
        pages: page_count(list.total, PER_PAGE),
        total: list.total,
        noun: "datasets",
    };
    deletable_table(frame, list.datasets, row)
}

#[component]
pub fn DatasetsPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| parse_page(query.read().get("page").as_deref()));
    let list = Resource::new(
        move || page.get(),
        |p| dataset_page(Some(p), Some(PER_PAGE)),
    );
    view! {
        <Title text="Datasets · Runboard" />
        <h1>"Datasets"</h1>
        <p class="muted">"Upload a CSV on the New run page; any size streams in. A dataset that a queued or running job uses cannot be deleted."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading datasets…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(l) => view! { <DatasetTable list=l /> }.into_any(),
                    Err(e) => view! { <p class="alert alert--error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn DatasetPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let chart = Resource::new(move || id.get(), get_dataset_chart);
    view! {
        <Title text="Dataset · Runboard" />
        <p><a href="/datasets">"← Datasets"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading the dataset…"</p> }>
            {move || Suspend::new(async move {
                match chart.await {
                    Ok(c) => {
                        let info = c.info;
                        let span_days = (info.end - info.start) as f64 / 86_400.0;
                        view! {
                            <h1 data-testid="dataset-name">{info.name.clone()}</h1>
                            <dl class="result-summary">
                                <div class="result-summary__item">
                                    <dt>"Bars"</dt>
                                    <dd data-testid="dataset-bars">{fmt_thousands(f64::from(info.bars), 0)}</dd>
                                </div>
                                <div class="result-summary__item">
                                    <dt>"From"</dt>
                                    <dd>{fmt_date_time(info.start)}</dd>
                                </div>
                                <div class="result-summary__item">
                                    <dt>"To"</dt>
                                    <dd>{fmt_date_time(info.end)}</dd>
                                </div>
                                <div class="result-summary__item">
                                    <dt>"Span"</dt>
                                    <dd>{format!("{} days", fmt_thousands(span_days, 0))}</dd>
                                </div>
                            </dl>
                            <section class="panel">
                                <h2>"Close"</h2>
                                <PriceChart points=c.points />
                                <p class="muted">"At most ~2,000 points: each bucket keeps its lowest and highest bar, so every spike shows."</p>
                            </section>
                            <p class="muted">"Dataset id " <code>{info.id.to_string()}</code></p>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="alert alert--error" data-testid="dataset-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
