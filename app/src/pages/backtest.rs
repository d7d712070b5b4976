//! `/`: the backtest page. Choose a dataset (or upload a CSV), a strategy and a job type, with
//! the inputs validated as you type; Start queues the job and the Active Job panel appears
//! (its id is kept in the URL, `/?job=<id>`, so a reload brings the panel back).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{import_dataset, list_datasets, submit_job, ApiError};
use crate::model::research::{
    BacktestRequest, Limits, Metric, OptimizeRequest, ParamRange, StrategyKind, TrainRequest,
    WalkForwardMode, WalkForwardRequest,
};
use crate::model::{DatasetInfo, FieldError, JobRequest};
use crate::pages::job::JobView;

/// The job types the form offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobType {
    Backtest,
    Optimize,
    WalkForward,
    Train,
}

impl JobType {
    const ALL: [JobType; 4] = [
        JobType::Backtest,
        JobType::Optimize,
        JobType::WalkForward,
        JobType::Train,
    ];

    fn value(self) -> &'static str {
        match self {
            JobType::Backtest => "backtest",
            JobType::Optimize => "optimize",
            JobType::WalkForward => "walk_forward",
            JobType::Train => "train",
        }
    }

    fn label(self) -> &'static str {
        match self {
            JobType::Backtest => "Backtest",
            JobType::Optimize => "Optimize (grid search)",
            JobType::WalkForward => "Walk-forward",
            JobType::Train => "Train a model",
        }
    }

    fn parse(s: &str) -> JobType {
        JobType::ALL
            .into_iter()
            .find(|t| t.value() == s)
            .unwrap_or(JobType::Optimize)
    }
}

/// What the user typed for one strategy parameter (kept as text so nothing typed is lost).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInput {
    pub value: String,
    pub start: String,
    pub stop: String,
    pub step: String,
}

/// Sensible starting inputs for a strategy: its defaults, and a range around each.
pub fn default_inputs(strategy: StrategyKind) -> BTreeMap<String, ParamInput> {
    strategy
        .params()
        .iter()
        .map(|p| {
            let (start, stop, step) = match (strategy, p.name) {
                (StrategyKind::SmaCross, "n1") => (5.0, 50.0, 5.0),
                (StrategyKind::SmaCross, "n2") => (20.0, 200.0, 10.0),
                _ => {
                    let start = (p.default / 2.0).max(p.min).round();
                    let stop = (p.default * 2.0).min(p.max).round();
                    let step = ((stop - start) / 8.0).round().max(1.0);
                    (start, stop, step)
                }
            };
            (
                p.name.to_string(),
                ParamInput {
                    value: fmt_num(p.default),
                    start: fmt_num(start),
                    stop: fmt_num(stop),
                    step: fmt_num(step),
                },
            )
        })
        .collect()
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// Everything on the form, as typed.
#[derive(Clone, Debug, PartialEq)]
pub struct FormInput {
    pub job_type: JobType,
    pub dataset_id: String,
    pub strategy: StrategyKind,
    pub params: BTreeMap<String, ParamInput>,
    pub metric: Metric,
    pub folds: String,
    pub mode: WalkForwardMode,
    pub in_sample_fraction: String,
    pub cash: String,
    pub commission: String,
    pub long_only: bool,
    pub epochs: String,
    pub lags: String,
    pub learning_rate: String,
}

impl FormInput {
    fn new() -> FormInput {
        FormInput {
            job_type: JobType::Optimize,
            dataset_id: String::new(),
            strategy: StrategyKind::SmaCross,
            params: default_inputs(StrategyKind::SmaCross),
            metric: Metric::Sharpe,
            folds: "5".into(),
            mode: WalkForwardMode::Rolling,
            in_sample_fraction: "0.7".into(),
            cash: "10000".into(),
            commission: "0.002".into(),
            long_only: false,
            epochs: "200".into(),
            lags: "5".into(),
            learning_rate: "0.1".into(),
        }
    }

    /// Builds and validates the request, naming the first field that is wrong.
    pub fn to_request(&self, limits: &Limits) -> Result<JobRequest, FieldError> {
        let num = |field: &str, text: &str| -> Result<f64, FieldError> {
            let t = text.trim();
            if t.is_empty() {
                return Err(FieldError::new(field, "required"));
            }
            t.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| FieldError::new(field, format!("{t:?} is not a number")))
        };
        let whole = |field: &str, text: &str| -> Result<usize, FieldError> {
            let x = num(field, text)?;
            if x < 0.0 || x.fract() != 0.0 {
                return Err(FieldError::new(field, "must be a whole number, 0 or more"));
            }
            Ok(x as usize)
        };
        if self.dataset_id.is_empty() {
            return Err(FieldError::new("dataset_id", "choose a dataset"));
        }
        let dataset_id = self.dataset_id.clone();
        let cash = num("cash", &self.cash)?;
        let commission = num("commission", &self.commission)?;
        let values = || -> Result<BTreeMap<String, f64>, FieldError> {
            self.params
                .iter()
                .map(|(k, p)| Ok((k.clone(), num(&format!("params.{k}"), &p.value)?)))
                .collect()
        };
        let grid = || -> Result<BTreeMap<String, ParamRange>, FieldError> {
            self.params
                .iter()
                .map(|(k, p)| {
                    Ok((
                        k.clone(),
                        ParamRange::Range {
                            start: num(&format!("grid.{k}.start"), &p.start)?,
                            stop: num(&format!("grid.{k}.stop"), &p.stop)?,
                            step: num(&format!("grid.{k}.step"), &p.step)?,
                        },
                    ))
                })
                .collect()
        };
        let request = match self.job_type {
            JobType::Backtest => JobRequest::Backtest(BacktestRequest {
                dataset_id,
                strategy: self.strategy,
                params: values()?,
                cash,
                commission,
                long_only: self.long_only,
            }),
            JobType::Optimize => JobRequest::Optimize(OptimizeRequest {
                dataset_id,
                strategy: self.strategy,
                grid: grid()?,
                constraint: None,
                metric: self.metric,
                top_n: 10,
                cash,
                commission,
                long_only: self.long_only,
            }),
            JobType::WalkForward => JobRequest::WalkForward(WalkForwardRequest {
                dataset_id,
                strategy: self.strategy,
                grid: grid()?,
                constraint: None,
                metric: self.metric,
                folds: whole("folds", &self.folds)?,
                mode: self.mode,
                in_sample_fraction: num("in_sample_fraction", &self.in_sample_fraction)?,
                in_sample_bars: None,
                out_of_sample_bars: None,
                cash,
                commission,
                long_only: self.long_only,
            }),
            JobType::Train => JobRequest::Train(TrainRequest {
                dataset_id,
                lags: whole("lags", &self.lags)?,
                epochs: whole("epochs", &self.epochs)?,
                learning_rate: num("learning_rate", &self.learning_rate)?,
                l2: 0.0,
                validation_fraction: 0.3,
                cash,
                commission,
                long_only: self.long_only,
            }),
        };
        request.validate(limits)?;
        Ok(request)
    }
}

#[component]
pub fn BacktestPage() -> impl IntoView {
    let query = use_query_map();
    let active = move || query.read().get("job").filter(|j| !j.is_empty());
    view! {
        <Title text="New run · Runboard" />
        <h1 class="visually-hidden">"New run"</h1>
        {move || active().map(|id| view! { <JobView id=id /> })}
        <RunForm />
    }
}

/// The form: dataset, upload, strategy, job type and its inputs.
#[component]
fn RunForm() -> impl IntoView {
    let datasets = Resource::new(|| (), |_| list_datasets());
    // Outside the Transition, so what the user typed survives a refetch of the datasets.
    let form = RwSignal::new(FormInput::new());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading datasets…"</p> }>
            {move || Suspend::new(async move {
                match datasets.await {
                    Ok(list) => view! { <RunFormFields list=list form=form /> }.into_any(),
                    Err(e) => view! { <p class="alert alert--error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <UploadCsv on_imported=Callback::new(move |info: DatasetInfo| {
            form.update(|f| f.dataset_id = info.id.to_string());
            datasets.refetch();
        }) />
    }
}

/// The form's fields, rendered once the datasets are known (identically on the server and
/// while hydrating, so everything that depends on the chosen dataset lives in here).
#[component]
fn RunFormFields(list: Vec<DatasetInfo>, form: RwSignal<FormInput>) -> impl IntoView {
    // Until the user picks one, run on the newest dataset.
    let current = form.with_untracked(|f| f.dataset_id.clone());
    if current.is_empty() || !list.iter().any(|d| d.id.to_string() == current) {
        let first = list.first().map(|d| d.id.to_string()).unwrap_or_default();
        form.update_untracked(|f| f.dataset_id = first);
    }
    // The browser checks against the default limits; the server re-checks with its own.
    let validation = Memo::new(move |_| form.with(|f| f.to_request(&Limits::default()).err()));
    let submit = Action::new(move |request: &JobRequest| {
        let request = request.clone();
        async move { submit_job(request).await }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(status)) = submit.value().get() {
            navigate(&format!("/?job={}", status.id), Default::default());
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
    let strategy = move || form.read().strategy;
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
                                        day(d.start),
                                        day(d.end),
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
                            on:change=set(|f, v| {
                                if let Some(s) = StrategyKind::from_name(&v) {
                                    f.strategy = s;
                                    f.params = default_inputs(s);
                                }
                            })
                        >
                            {StrategyKind::ALL
                                .into_iter()
                                .map(|s| {
                                    view! {
                                        <option value=s.name() selected=move || strategy() == s>
                                            {s.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
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

fn day(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// One labelled numeric input bound to a form field, with its validation message.
#[component]
fn NumberField(
    id: &'static str,
    label: &'static str,
    form: RwSignal<FormInput>,
    get: fn(&FormInput) -> String,
    put: fn(&mut FormInput, String),
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                inputmode="decimal"
                data-testid=id
                prop:value=move || form.with(get)
                aria-invalid=move || error.get().is_some().to_string()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    form.update(|f| put(f, v));
                }
            />
            {move || error.get().map(|e| view! { <p class="field__error">{e}</p> })}
        </div>
    }
}

/// The strategy's parameters: one value each for a backtest, a range each for a sweep.
#[component]
fn ParamInputs(form: RwSignal<FormInput>, job_type: Signal<JobType>) -> impl IntoView {
    let specs = move || form.read().strategy.params();
    let sweep = move || matches!(job_type.get(), JobType::Optimize | JobType::WalkForward);
    view! {
        <fieldset class="params" data-testid="params">
            <legend>{move || if sweep() { "Parameter ranges (start, stop, step)" } else { "Parameters" }}</legend>
            {move || {
                specs()
                    .iter()
                    .map(|spec| {
                        let name = spec.name;
                        let bind = move |part: fn(&mut ParamInput) -> &mut String| {
                            move |ev: leptos::ev::Event| {
                                let v = event_target_value(&ev);
                                form.update(|f| {
                                    if let Some(p) = f.params.get_mut(name) {
                                        *part(p) = v;
                                    }
                                });
                            }
                        };
                        let read = move |part: fn(&ParamInput) -> &String| {
                            move || form.with(|f| f.params.get(name).map(|p| part(p).clone()).unwrap_or_default())
                        };
                        view! {
                            <div class="field-row">
                                <span class="params__label">{spec.label}" ("{name}")"</span>
                                <Show
                                    when=sweep
                                    fallback=move || view! {
                                        <input aria-label=format!("{name} value") data-testid=format!("param-{name}") inputmode="decimal" prop:value=read(|p| &p.value) on:input=bind(|p| &mut p.value) />
                                    }
                                >
                                    <input aria-label=format!("{name} start") data-testid=format!("param-{name}-start") inputmode="decimal" prop:value=read(|p| &p.start) on:input=bind(|p| &mut p.start) />
                                    <input aria-label=format!("{name} stop") data-testid=format!("param-{name}-stop") inputmode="decimal" prop:value=read(|p| &p.stop) on:input=bind(|p| &mut p.stop) />
                                    <input aria-label=format!("{name} step") data-testid=format!("param-{name}-step") inputmode="decimal" prop:value=read(|p| &p.step) on:input=bind(|p| &mut p.step) />
                                </Show>
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </fieldset>
    }
}

/// Upload a CSV as a new dataset; the server's line-level errors are listed.
#[component]
fn UploadCsv(on_imported: Callback<DatasetInfo>) -> impl IntoView {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> FormInput {
        let mut f = FormInput::new();
        f.dataset_id = "5a3b1e00-0000-4000-8000-000000000001".into();
        f
    }

    #[test]
    fn the_default_form_is_a_valid_optimization() {
        let request = form().to_request(&Limits::default()).unwrap();
        assert!(matches!(request, JobRequest::Optimize(_)));
    }

    #[test]
    fn typing_mistakes_name_the_field() {
        let mut f = form();
        f.params.get_mut("n1").unwrap().step = "0".into();
        let e = f.to_request(&Limits::default()).unwrap_err();
        assert!(e.field.contains("n1") && e.field.contains("step"), "{e}");

        let mut f = form();
        f.cash = "lots".into();
        assert_eq!(f.to_request(&Limits::default()).unwrap_err().field, "cash");

        let mut f = form();
        f.job_type = JobType::Backtest;
        f.params.get_mut("n1").unwrap().value = "30".into();
        let e = f.to_request(&Limits::default()).unwrap_err();
        assert!(e.to_string().contains("n1"), "{e}");

        let mut f = form();
        f.dataset_id.clear();
        assert_eq!(
            f.to_request(&Limits::default()).unwrap_err().field,
            "dataset_id"
        );
    }
}
