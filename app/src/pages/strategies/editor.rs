//! The strategy editor (`/strategies/new`, `/strategies/:id`): a textarea over a highlighted
//! copy of the program, checked by the server as you type (`/api/check_strategy`, 300 ms after
//! the last keystroke; the parser stays out of the WASM bundle), with each error marked at its
//! line and listed with its line and column, the declared parameters and the warm-up, and Save
//! (a new version when the source changed) and "New run with it".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::highlight::highlight_line;
use crate::api::{get_strategy, save_strategy, ApiError};
use crate::components::results::format::fmt_thousands;
use crate::components::results::tables::head_cells;
use crate::model::strategies::{SavedStrategy, StrategyCheck};

/// Quiet time after the last keystroke before the program is checked.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const CHECK_DELAY_MS: u32 = 300;

/// What `/strategies/new` starts from: a complete program that checks.
pub const STARTER_PROGRAM: &str = r#"strategy "My SMA cross"
# Parameters: name: int|float min..max = default
param fast: int 2..500 = 10
param slow: int 2..1000 = 30
constraint fast < slow

long entry: crosses_above(sma(close, fast), sma(close, slow))
long exit:  crosses_below(sma(close, fast), sma(close, slow))
"#;

#[component]
pub fn StrategyEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let loaded = Resource::new(
        move || id.get(),
        |id| async move {
            if id.is_empty() {
                Ok((None, STARTER_PROGRAM.to_string()))
            } else {
                get_strategy(id, None)
                    .await
                    .map(|s| (Some((s.id.to_string(), s.version)), s.source))
            }
        },
    );
    view! {
        <Title text="Strategy editor · Runboard" />
        <p><a href="/strategies">"← Strategies"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading the strategy…"</p> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok((saved, source)) => view! { <Editor saved=saved source=source /> }.into_any(),
                    Err(e) => view! { <p class="alert alert--error" data-testid="strategy-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The editor over `source`; `saved` is the strategy's id and version when it has been saved
/// (an island: it checks as you type and saves).
#[island(lazy)]
fn Editor(saved: Option<(String, i32)>, source: String) -> impl IntoView {
    crate::ready::island("editor");
    let source = RwSignal::new(source);
    let checked = RwSignal::new(None::<Result<StrategyCheck, ApiError>>);
    let saved_as = RwSignal::new(saved);
    let generation = StoredValue::new(0u64);
    // Checks the program once typing pauses; an answer for an older text is dropped.
    let schedule_check = move || {
        generation.update_value(|g| *g += 1);
        #[cfg(feature = "hydrate")]
        {
            let mine = generation.get_value();
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(CHECK_DELAY_MS).await;
                if generation.try_get_value() != Some(mine) {
                    return;
                }
                let Some(text) = source.try_get_untracked() else {
                    return;
                };
                let answer = crate::api::check_strategy(text).await;
                if generation.try_get_value() == Some(mine) {
                    checked.try_set(Some(answer));
                }
            });
        }
    };
    // The first check, once the page is live.
    Effect::new(move |_| schedule_check());

    let save = Action::new(move |text: &String| {
        let text = text.clone();
        async move { save_strategy(text).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(s)) = save.value().get() {
            let first_save = saved_as.with_untracked(|v| v.is_none());
            saved_as.set(Some((s.id.to_string(), s.version)));
            // A new strategy's address becomes its own (a reload opens it), without a
            // navigation that would rebuild the editor and drop the save's message.
            #[cfg(feature = "hydrate")]
            if first_save {
                if let Ok(history) = window().history() {
                    let url = format!("/strategies/{}", s.id);
                    let _ = history.replace_state_with_url(
                        &wasm_bindgen::JsValue::NULL,
                        "",
                        Some(&url),
                    );
                }
            }
            let _ = first_save;
        }
    });

    let error_lines = move || -> Vec<usize> {
        checked.with(|c| match c {
            Some(Ok(c)) => c.errors.iter().map(|e| e.line).collect(),
            _ => Vec::new(),
        })
    };
    let ok = move || checked.with(|c| matches!(c, Some(Ok(c)) if c.ok));
    let lines = move || source.with(|s| s.split('\n').count());
    let highlighted = move || {
        let bad = error_lines();
        source.with(|s| {
            s.split('\n')
                .enumerate()
                .map(|(i, line)| {
                    let n = i + 1;
                    let tokens = highlight_line(line)
                        .into_iter()
                        .map(|(tok, text)| view! { <span class=tok.class()>{text}</span> })
                        .collect_view();
                    view! {
                        <span
                            class="rl-line"
                            class:rl-line--error=bad.contains(&n)
                            data-testid=format!("editor-line-{n}")
                        >
                            {tokens}
                            "\n"
                        </span>
                    }
                })
                .collect_view()
        })
    };
    let gutter = move || {
        let bad = error_lines();
        (1..=lines())
            .map(|n| {
                view! { <span class:rl-gutter--error=bad.contains(&n)>{n}"\n"</span> }
            })
            .collect_view()
    };

    view! {
        <h1>{move || match saved_as.get() {
            Some((_, v)) => format!("Strategy (version {v})"),
            None => "New strategy".to_string(),
        }}</h1>
        <p class="muted">
            "Write the program below; it is checked as you type. The "
            <a href="/docs/rules" target="_blank">"language reference"</a>
            " lists every statement and function, with complete examples."
        </p>
        <div class="rl-editor">
            <pre class="rl-gutter" aria-hidden="true">{gutter}</pre>
            <div class="rl-code">
                <pre class="rl-highlight" aria-hidden="true">{highlighted}</pre>
                <textarea
                    class="rl-input"
                    data-testid="strategy-source"
                    aria-label="Strategy program"
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    prop:value=move || source.get()
                    on:input=move |ev| {
                        source.set(event_target_value(&ev));
                        schedule_check();
                    }
                ></textarea>
            </div>
        </div>
        <div class="rl-status" aria-live="polite">
            {move || checked.with(|c| match c {
                None => view! { <p class="muted" data-testid="check-pending">"Checking…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert--error">{format!("The check failed: {e}")}</p> }.into_any(),
                Some(Ok(c)) if c.ok => check_summary(c).into_any(),
                Some(Ok(c)) => view! {
                    <ol class="rl-errors" data-testid="rule-errors">
                        {c.errors.iter().map(|e| view! {
                            <li><strong>{format!("Line {}, column {}", e.line, e.column)}</strong>": "{e.message.clone()}</li>
                        }).collect_view()}
                    </ol>
                }.into_any(),
            })}
        </div>
        <p class="actions">
            <button
                type="button"
                class="button"
                data-testid="save-strategy"
                disabled=move || !ok() || save.pending().get()
                on:click=move |_| {
                    save.dispatch(source.get_untracked());
                }
            >
                "Save"
            </button>
            {move || saved_as.get().map(|(id, _)| view! {
                " "
                <a class="button button--secondary" href=format!("/?strategy={id}") data-testid="run-strategy">"New run with it"</a>
            })}
        </p>
        {move || save.value().get().map(|r| match r {
            Ok(s) => view! { <p class="alert alert--ok" data-testid="save-result">{saved_text(&s)}</p> }.into_any(),
            Err(e) => view! { <p class="alert alert--error" data-testid="save-result">{e.to_string()}</p> }.into_any(),
        })}
    }
}

fn saved_text(s: &SavedStrategy) -> String {
    if s.created {
        format!("Saved “{}” as version {}.", s.name, s.version)
    } else {
        format!("No changes: “{}” is still version {}.", s.name, s.version)
    }
}

/// A program that checks: its name, warm-up and declared parameters.
fn check_summary(c: &StrategyCheck) -> impl IntoView {
    let name = c.name.clone().unwrap_or_default();
    let warmup = c
        .lookback
        .map(|l| {
            format!(
                "{} bars of warm-up at the defaults",
                fmt_thousands(l as f64, 0)
            )
        })
        .unwrap_or_default();
    let rows = c
        .params
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <td><code>{p.name.clone()}</code></td>
                    <td>{p.kind.clone()}</td>
                    <td class="num">{number(p.min)}</td>
                    <td class="num">{number(p.max)}</td>
                    <td class="num">{number(p.default)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="alert alert--ok" data-testid="check-ok">{format!("“{name}” checks: {warmup}.")}</p>
        <table class="jobs-table" data-testid="declared-params">
            <caption>"Declared parameters"</caption>
            <thead>
                <tr>{head_cells(&[("Name", false), ("Type", false), ("Min", true), ("Max", true), ("Default", true)])}</tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}
