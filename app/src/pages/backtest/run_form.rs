//! The run form's view: the datasets, strategies and job type to choose, the inputs of the
//! chosen type with their errors as you type, the upload, and Start (inside the `NewRun`
//! island). Its model is `form`, its field widgets `fields`.

use leptos::prelude::*;

use super::fields::{NumberField, ParamInputs};
use super::form::{default_inputs, FormInput, JobType, SavedChoice, StrategyChoice};
use super::upload::UploadCsv;
use crate::api::{get_strategy, list_datasets, list_strategies, submit_job, ApiError};
use crate::components::results::format::fmt_date;
use crate::model::research::{Limits, Metric, StrategyKind, WalkForwardMode};
use crate::model::strategies::{StrategyInfo, StrategySource};
use crate::model::{DatasetInfo, JobRequest, JobStatus};

/// The form's data: the datasets, the saved strategies and the strategy `wanted` names.
pub(super) async fn form_data(wanted: Option<String>) -> FormData {
    let strategies = list_strategies(Some(1), Some(100))
        .await
        .map(|l| l.strategies)
        .unwrap_or_default();
    let chosen = match wanted {
        Some(id) => get_strategy(id, None).await.ok(),
        None => None,
    };
    (list_datasets().await, strategies, chosen)
}

/// What the form is built from: the datasets, the saved strategies (newest 100; none when
/// they cannot be listed: the built-ins still run), and the strategy `?strategy=<id>` asks for
/// (the editor's "New run with it").
pub(super) type FormData = (
    Result<Vec<DatasetInfo>, ApiError>,
    Vec<StrategyInfo>,
    Option<StrategySource>,
);

/// The form: dataset, upload, strategy, job type and its inputs.
#[component]
pub(super) fn RunForm(data: FormData, on_queued: Callback<JobStatus>) -> impl IntoView {
    let data = RwSignal::new(data);
    // Outside the view of the fields, so what the user typed survives a new list of datasets.
    let form = RwSignal::new(FormInput::new());
    view! {
        {move || match data.get() {
            (Ok(list), strategies, chosen) => {
                view! { <RunFormFields list=list strategies=strategies chosen=chosen form=form on_queued=on_queued /> }.into_any()
            }
            (Err(e), _, _) => view! { <p class="alert alert--error">{e.to_string()}</p> }.into_any(),
        }}
        <UploadCsv on_imported=Callback::new(move |info: DatasetInfo| {
            form.update(|f| f.dataset_id = info.id.to_string());
            leptos::task::spawn_local(async move {
                let list = list_datasets().await;
                data.update(|d| d.0 = list);
            });
        }) />
    }
}

/// The form's fields, rendered once the datasets are known (identically on the server and
/// while hydrating, so everything that depends on the chosen dataset lives in here).
#[component]
fn RunFormFields(
    list: Vec<DatasetInfo>,
    mut strategies: Vec<StrategyInfo>,
    chosen: Option<StrategySource>,
    form: RwSignal<FormInput>,
    on_queued: Callback<JobStatus>,
) -> impl IntoView {
    // Until the user picks one, run on the newest dataset.
    let current = form.with_untracked(|f| f.dataset_id.clone());
    if current.is_empty() || !list.iter().any(|d| d.id.to_string() == current) {
        let first = list.first().map(|d| d.id.to_string()).unwrap_or_default();
        form.update_untracked(|f| f.dataset_id = first);
    }
    // The strategy the URL asks for, until the user picks another.
    if let Some(source) = chosen {
        if form.with_untracked(|f| f.strategy == FormInput::new().strategy) {
            let choice = saved_choice(&source);
            form.update_untracked(|f| {
                f.params = choice.default_inputs();
                f.strategy = choice;
            });
        }
        if !strategies.iter().any(|s| s.id == source.id) {
            strategies.push(StrategyInfo {
                id: source.id,
                version: source.version,
                name: source.name,
                content_hash: source.content_hash,
                created_at: source.created_at,
            });
        }
    }
    let strategies = StoredValue::new(strategies);
    // A saved strategy's declared parameters are fetched when it is chosen.
    let load_strategy = Action::new(move |id: &String| {
        let id = id.clone();
        async move {
            let source = get_strategy(id, None).await?;
            let choice = saved_choice(&source);
            form.update(|f| {
                f.params = choice.default_inputs();
                f.strategy = choice;
            });
            Ok::<(), ApiError>(())
        }
    });
    let strategy_error = move || load_strategy.value().get().and_then(|r| r.err());
    // The browser checks against the default limits; the server re-checks with its own.
    let validation = Memo::new(move |_| form.with(|f| f.to_request(&Limits::default()).err()));
    let submit = Action::new(move |request: &JobRequest| {
        let request = request.clone();
        async move { submit_job(request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(status)) = submit.value().get() {
            on_queued.run(status);
        }
    });
    let submit_error = move || submit.value().get().and_then(|r| r.err());

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(request) = form.with_untracked(|f| f.to_request(&Limits::default())) {
            submit.dispatch(request);
        }
    };
    let job_type = move || form.read().job_type;
    let strategy = move || form.read().strategy.value();
    let set = move |f: fn(&mut FormInput, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            form.update(|form| f(form, v));
        }
    };
    let field_error = move |name: &'static str| {
        move || {
            validation
                .get()
                .filter(|e| e.field == name || e.field.starts_with(&format!("{name}.")))
                .map(|e| e.message)
        }
    };

    view! {
        <section class="panel">
            <h2>"New run"</h2>
            <form on:submit=on_submit novalidate data-testid="run-form">
                <div class="grid-2">
                    <div class="field">
                        <label for="dataset">"Dataset"</label>
                        <select
                            id="dataset"
                            name="dataset_id"
                            data-testid="dataset"
                            on:change=set(|f, v| f.dataset_id = v)
                        >
                            {list
                                .into_iter()
                                .map(|d| {
                                    let id = d.id.to_string();
                                    let value = id.clone();
                                    let label = format!(
                                        "{} — {} bars, {} → {}",
                                        d.name,
                                        d.bars,
                                        fmt_date(d.start),
                                        fmt_date(d.end),
                                    );
                                    view! {
                                        <option value=value selected=move || form.read().dataset_id == id>
                                            {label}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="job-type">"Job type"</label>
                        <select id="job-type" data-testid="job-type" on:change=set(|f, v| f.job_type = JobType::parse(&v))>
                            {JobType::ALL
                                .into_iter()
                                .map(|t| {
                                    view! {
                                        <option value=t.value() selected=move || job_type() == t>
                                            {t.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </div>
                </div>

                <Show when=move || job_type() != JobType::Train>
                    <div class="field">
                        <label for="strategy">"Strategy"</label>
                        <select
                            id="strategy"
                            data-testid="strategy"
                            on:change=move |ev| {
                                let v = event_target_value(&ev);
                                match v.strip_prefix("saved:") {
                                    Some(id) => {
                                        load_strategy.dispatch(id.to_string());
                                    }
                                    None => {
                                        if let Some(s) = StrategyKind::from_name(&v) {
                                            form.update(|f| {
                                                f.strategy = StrategyChoice::Builtin(s);
                                                f.params = default_inputs(s);
                                            });
                                        }
                                    }
                                }
                            }
                        >
                            <optgroup label="Built-in">
                                {StrategyKind::ALL
                                    .into_iter()
                                    .map(|s| {
                                        view! {
                                            <option value=s.name() selected=move || strategy() == s.name()>
                                                {s.label()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </optgroup>
                            {(!strategies.with_value(Vec::is_empty)).then(|| view! {
                                <optgroup label="Your strategies">
                                    {strategies
                                        .get_value()
                                        .into_iter()
                                        .map(|s| {
                                            let value = format!("saved:{}", s.id);
                                            let selected = value.clone();
                                            view! {
                                                <option value=value selected=move || strategy() == selected>
                                                    {format!("{} (v{})", s.name, s.version)}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </optgroup>
                            })}
                        </select>
                        <p class="field__hint">
                            <a href="/strategies/new" data-testid="write-strategy">"Write your own strategy"</a>
                        </p>
                        {move || load_strategy.pending().get().then(|| view! { <p class="muted">"Loading its parameters…"</p> })}
                        {move || strategy_error().map(|e| view! { <p class="alert alert--error">{e.to_string()}</p> })}
                    </div>
                    <ParamInputs form=form job_type=Signal::derive(job_type) />
                </Show>

                <Show when=move || matches!(job_type(), JobType::Optimize | JobType::WalkForward)>
                    <div class="field">
                        <label for="metric">"Metric to maximize"</label>
                        <select
                            id="metric"
                            data-testid="metric"
                            on:change=set(|f, v| {
                                if let Some(m) = Metric::ALL.into_iter().find(|m| metric_value(*m) == v) {
                                    f.metric = m;
                                }
                            })
                        >
                            {Metric::ALL
                                .into_iter()
                                .map(|m| {
                                    view! {
                                        <option value=metric_value(m) selected=move || form.read().metric == m>
                                            {m.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </div>
                </Show>

                <Show when=move || job_type() == JobType::WalkForward>
                    <div class="field-row">
                        <NumberField id="folds" label="Folds" form=form get=|f| f.folds.clone() put=|f, v| f.folds = v error=Signal::derive(field_error("folds")) />
                        <NumberField id="in_sample_fraction" label="In-sample fraction" form=form get=|f| f.in_sample_fraction.clone() put=|f, v| f.in_sample_fraction = v error=Signal::derive(field_error("in_sample_fraction")) />
                        <div class="field">
                            <label for="mode">"Windows"</label>
                            <select id="mode" on:change=set(|f, v| f.mode = if v == "anchored" { WalkForwardMode::Anchored } else { WalkForwardMode::Rolling })>
                                <option value="rolling">"Rolling"</option>
                                <option value="anchored">"Anchored"</option>
                            </select>
                        </div>
                    </div>
                </Show>

                <Show when=move || job_type() == JobType::Train>
                    <div class="field-row">
                        <NumberField id="epochs" label="Epochs" form=form get=|f| f.epochs.clone() put=|f, v| f.epochs = v error=Signal::derive(field_error("epochs")) />
                        <NumberField id="lags" label="Lagged returns" form=form get=|f| f.lags.clone() put=|f, v| f.lags = v error=Signal::derive(field_error("lags")) />
                        <NumberField id="learning_rate" label="Learning rate" form=form get=|f| f.learning_rate.clone() put=|f, v| f.learning_rate = v error=Signal::derive(field_error("learning_rate")) />
                    </div>
                </Show>

                <div class="field-row">
                    <NumberField id="cash" label="Starting cash" form=form get=|f| f.cash.clone() put=|f, v| f.cash = v error=Signal::derive(field_error("cash")) />
                    <NumberField id="commission" label="Commission (rate)" form=form get=|f| f.commission.clone() put=|f, v| f.commission = v error=Signal::derive(field_error("commission")) />
                    <div class="field field--check">
                        <label>
                            <input
                                type="checkbox"
                                prop:checked=move || form.read().long_only
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    form.update(|f| f.long_only = on);
                                }
                            />
                            " Long only"
                        </label>
                    </div>
                </div>

                {move || {
                    validation
                        .get()
                        .map(|e| view! { <p class="field__error" role="alert" data-testid="form-error">{e.to_string()}</p> })
                }}
                {move || submit_error().map(|e| view! { <p class="alert alert--error" data-testid="submit-error">{e.to_string()}</p> })}
                <p class="actions">
                    <button
                        type="submit"
                        class="button"
                        data-testid="start"
                        disabled=move || validation.get().is_some() || submit.pending().get()
                    >
                        "Start"
                    </button>
                </p>
            </form>
        </section>
    }
}

fn metric_value(m: Metric) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A saved strategy's version as the form runs it.
fn saved_choice(source: &StrategySource) -> StrategyChoice {
    StrategyChoice::Saved(SavedChoice {
        id: source.id.to_string(),
        version: source.version.max(1) as u32,
        name: source.name.clone(),
        params: source.params.clone(),
    })
}
