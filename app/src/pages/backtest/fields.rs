//! The form's field widgets: `<NumberField/>` (one labelled numeric input with its validation
//! message) and `<ParamInputs/>` (the strategy's parameters, as values or as ranges).

use leptos::prelude::*;

use super::form::{FormInput, JobType, ParamInput};

/// One labelled numeric input bound to a form field, with its validation message.
#[component]
pub(super) fn NumberField(
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
pub(super) fn ParamInputs(form: RwSignal<FormInput>, job_type: Signal<JobType>) -> impl IntoView {
    let specs = move || form.read().strategy.params();
    let sweep = move || matches!(job_type.get(), JobType::Optimize | JobType::WalkForward);
    view! {
        <fieldset class="params" data-testid="params">
            <legend>{move || if sweep() { "Parameter ranges (start, stop, step)" } else { "Parameters" }}</legend>
            {move || {
                specs()
                    .into_iter()
                    .map(|spec| {
                        let name = StoredValue::new(spec.name.clone());
                        let bind = move |part: fn(&mut ParamInput) -> &mut String| {
                            move |ev: leptos::ev::Event| {
                                let v = event_target_value(&ev);
                                form.update(|f| {
                                    if let Some(p) = name.with_value(|n| f.params.get_mut(n)) {
                                        *part(p) = v;
                                    }
                                });
                            }
                        };
                        let read = move |part: fn(&ParamInput) -> &String| {
                            move || form.with(|f| name.with_value(|n| f.params.get(n).map(|p| part(p).clone())).unwrap_or_default())
                        };
                        let label = name.with_value(|n| {
                            if spec.label == *n {
                                n.clone()
                            } else {
                                format!("{} ({n})", spec.label)
                            }
                        });
                        // `aria-label` and `data-testid` of one input: `"n1 start"`, `"param-n1-start"`.
                        let attrs = move |part: &str| {
                            name.with_value(|n| {
                                let suffix = if part == "value" { String::new() } else { format!("-{part}") };
                                (format!("{n} {part}"), format!("param-{n}{suffix}"))
                            })
                        };
                        let input = move |part: &'static str, get: fn(&ParamInput) -> &String, put: fn(&mut ParamInput) -> &mut String| {
                            let (aria, testid) = attrs(part);
                            view! { <input aria-label=aria data-testid=testid inputmode="decimal" prop:value=read(get) on:input=bind(put) /> }
                        };
                        view! {
                            <div class="field-row">
                                <span class="params__label">{label}</span>
                                <Show
                                    when=sweep
                                    fallback=move || input("value", |p| &p.value, |p| &mut p.value)
                                >
                                    {input("start", |p| &p.start, |p| &mut p.start)}
                                    {input("stop", |p| &p.stop, |p| &mut p.stop)}
                                    {input("step", |p| &p.step, |p| &mut p.step)}
                                </Show>
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </fieldset>
    }
}
