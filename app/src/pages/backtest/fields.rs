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
