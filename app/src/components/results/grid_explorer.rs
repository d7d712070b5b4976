//! `<GridExplorer/>`: an optimization's metric over the parameters the user chooses. Two axes
//! give a heatmap, one (or a grid with one varying parameter) a line; the other parameters are
//! folded away by their best value, mean or median, or held at fixed values (a slice).
//!
//! The view lives in the job page's URL, so it can be shared:
//! `/jobs/<id>?x=period&y=lower&fold=median`, `?x=period&y=none` (a line),
//! `?x=lower&y=upper&fold=slice&at_period=14`. Every key is optional (the default is the stored
//! heatmap's view: the first two varying parameters, max). The controls are a plain GET form,
//! so they work before (or without) the WASM; with it, changing a control swaps the explorer
//! for the server's render of the new view's URL ([`crate::swap`]). The explorer renders on the
//! server only and the folding happens there: the full grid never reaches the browser.
//!
//! Outside a job's page (the backtest page's active job) there is no `id` route parameter: the
//! stored heatmap is shown, with a link to the job's page.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};

use super::format::fmt_param;
use super::heatmap::HeatmapChart;
use super::line_chart::MetricLineChart;
#[cfg(not(feature = "ssr"))]
use crate::api::get_grid_view;
use crate::api::{ApiError, GridView};
use crate::model::research::grid_fold::{Fold, ViewRequest, NO_Y};
use crate::model::research::Heatmap;
use crate::url::encode;

mod view_url;
pub use view_url::{is_view_key, Choice, AT_PREFIX, FOLD_KEY, X_KEY, Y_KEY};

/// What the explorer fetched: the view asked for, or the error and (when the job has a grid)
/// its default view, so the controls stay usable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Loaded {
    view: Option<GridView>,
    error: Option<ApiError>,
}

/// The view from `/api/grid_view`; on the server (rendering the page) the same answer without
/// touching the page's status: a bad view in the URL is shown as an error inside the page.
async fn fetch(id: String, asked: ViewRequest) -> Result<GridView, ApiError> {
    #[cfg(feature = "ssr")]
    {
        crate::api::grid_view_in_page(id, asked).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        let ViewRequest { x, y, fold, at } = asked;
        get_grid_view(id, x, y, fold, at).await
    }
}

async fn load(id: String, query: Result<ViewRequest, ApiError>) -> Loaded {
    let asked = match query {
        Ok(q) if q == ViewRequest::default() => {
            return match fetch(id, ViewRequest::default()).await {
                Ok(view) => Loaded {
                    view: Some(view),
                    error: None,
                },
                Err(e) => Loaded {
                    view: None,
                    error: Some(e),
                },
            };
        }
        Ok(q) => fetch(id.clone(), q).await,
        Err(e) => Err(e),
    };
    match asked {
        Ok(view) => Loaded {
            view: Some(view),
            error: None,
        },
        Err(error) => {
            let fallback = match error {
                ApiError::InvalidRequest { .. } | ApiError::Conflict { .. } => {
                    fetch(id, ViewRequest::default()).await.ok()
                }
                _ => None,
            };
            Loaded {
                view: fallback,
                error: Some(error),
            }
        }
    }
}

/// A one-parameter view (with more than one value) as a line, anything else as a heatmap.
#[component]
fn GridChart(heatmap: Heatmap, #[prop(into)] metric_label: String) -> impl IntoView {
    if heatmap.y_param.is_none() && heatmap.x_values.len() > 1 {
        view! { <MetricLineChart heatmap metric_label /> }.into_any()
    } else {
        view! { <HeatmapChart heatmap metric_label /> }.into_any()
    }
}

/// The optimization's metric over the chosen parameters, with the controls to choose them.
/// `heatmap` is the stored default view, shown while the view loads and where no other can be.
#[component]
pub fn GridExplorer(heatmap: Heatmap, #[prop(into)] metric_label: String) -> impl IntoView {
    // Inside a matched route the router provides the route's parameters; outside one (a
    // rendering test) there is nothing to explore.
    let in_route = use_context::<ArcMemo<ParamsMap>>();
    let id = in_route
        .as_ref()
        .and_then(|p| p.with_untracked(|m| m.get("id")))
        .filter(|id| !id.is_empty());
    match id {
        Some(id) => view! { <Explorer id heatmap metric_label /> }.into_any(),
        None => {
            let job = in_route
                .is_some()
                .then(|| use_query_map().with_untracked(|q| q.get("job")))
                .flatten()
                .and_then(|j| uuid::Uuid::parse_str(j.trim()).ok());
            view! {
                <div class="grid-explorer" data-testid="grid-explorer">
                    <GridChart heatmap metric_label />
                    {job.map(|j| view! {
                        <p class="muted grid-explorer__more">
                            <a href=format!("/jobs/{j}") data-testid="grid-explore-link">
                                "Choose the axes and how other parameters are folded on the job's page"
                            </a>
                        </p>
                    })}
                </div>
            }
            .into_any()
        }
    }
}

/// The explorer on a job's page, rendered on the server only: the view the URL asks for (or
/// the error and the default view), inside the `grid-explorer` region. Every option of its
/// controls carries the URL of the view it asks for (`data-href`), so in the browser a changed
/// control swaps the region for that URL's render ([`crate::swap`]) and no explorer code ships.
#[component]
fn Explorer(id: String, heatmap: Heatmap, metric_label: String) -> impl IntoView {
    let query = use_query_map();
    let asked = query.with_untracked(ViewRequest::from_map);
    let path = use_location().pathname.get_untracked();
    let keep: Vec<(String, String)> = query.with_untracked(|q| {
        q.into_iter()
            .filter(|(k, _)| !is_view_key(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    let stored = heatmap.clone();
    let stored_label = metric_label.clone();
    view! {
        <div class="grid-explorer" data-testid="grid-explorer" data-swap-id="grid-explorer">
            <Transition fallback=move || {
                view! { <GridChart heatmap=stored.clone() metric_label=stored_label.clone() /> }
            }>
                {move || {
                    let (id, asked, heatmap, label, path, keep) = (
                        id.clone(),
                        asked.clone(),
                        heatmap.clone(),
                        metric_label.clone(),
                        path.clone(),
                        keep.clone(),
                    );
                    Suspend::new(async move {
                        let Loaded { view, error } = load(id, asked).await;
                        let reset = if keep.is_empty() {
                            path.clone()
                        } else {
                            let q: Vec<String> = keep
                                .iter()
                                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                                .collect();
                            format!("{path}?{}", q.join("&"))
                        };
                        let error = error.map(|e| {
                            view! {
                                <div class="alert alert--error grid-explorer__error" role="alert" data-testid="grid-error">
                                    {e.to_string()} " "
                                    <a href=reset>"Show the default view"</a>
                                </div>
                            }
                        });
                        let body = match view {
                            Some(v) => view! { <ViewWithControls view=v label path keep /> }.into_any(),
                            None => view! { <GridChart heatmap metric_label=label /> }.into_any(),
                        };
                        view! {
                            {error}
                            {body}
                        }
                    })
                }}
            </Transition>
        </div>
    }
}

/// One loaded view: its controls (when the job's grid can be explored) and its chart.
#[component]
fn ViewWithControls(
    view: GridView,
    label: String,
    path: String,
    keep: Vec<(String, String)>,
) -> impl IntoView {
    let choice = Choice::of(&view);
    let names: Vec<String> = view.params.iter().map(|p| p.name.clone()).collect();
    let others: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != view.x && Some(*n) != view.y.as_deref())
        .collect();
    let what = describe(&view, &label, &others);
    let chart_label = match view.fold {
        Fold::Max | Fold::Slice => label.clone(),
        Fold::Mean => format!("mean {label}"),
        Fold::Median => format!("median {label}"),
    };
    let controls = (view.explorable && view.params.len() >= 2)
        .then(|| view! { <Controls view=view.clone() choice path keep names /> });
    let stored_only = (!view.explorable).then(|| {
        view! {
            <p class="muted" data-testid="grid-stored-only">
                "This job ran before other views of its grid were kept: only this default view is \
                 available. Run it again to choose the axes and folds."
            </p>
        }
    });
    view! {
        {controls}
        {stored_only}
        <p class="muted grid-explorer__what" data-testid="grid-what">{what}</p>
        <GridChart heatmap=view.heatmap metric_label=chart_label />
    }
}

/// One sentence on what each cell (or point) holds.
fn describe(view: &GridView, label: &str, others: &[&str]) -> String {
    let unit = if view.y.is_some() { "cell" } else { "point" };
    if others.is_empty() {
        return format!("Each {unit}: the {label} of one run.");
    }
    let list = others.join(", ");
    match view.fold {
        Fold::Max => format!("Each {unit}: the best {label} over {list}."),
        Fold::Mean => format!("Each {unit}: the mean {label} over {list}."),
        Fold::Median => format!("Each {unit}: the median {label} over {list}."),
        Fold::Slice => {
            let at: Vec<String> = others
                .iter()
                .map(|n| {
                    let v = view.at.get(*n).copied().map_or_else(String::new, fmt_param);
                    format!("{n} = {v}")
                })
                .collect();
            format!("Each {unit}: the {label} of one run, at {}.", at.join(", "))
        }
    }
}

/// The controls: a GET form (x, y, fold, the slice values) with a submit button. Each option
/// names the URL of its view (`data-href`): with the WASM a change swaps the view at once.
/// A labelled `<select>` of the controls (its id is also its test id).
fn select_field(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    options: impl IntoView,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name=name data-testid=id>
                {options}
            </select>
        </div>
    }
}

#[component]
fn Controls(
    view: GridView,
    choice: Choice,
    path: String,
    keep: Vec<(String, String)>,
    names: Vec<String>,
) -> impl IntoView {
    let href = {
        let (path, keep) = (path.clone(), keep.clone());
        move |c: Choice| c.href(&path, &keep)
    };
    let hidden = keep
        .iter()
        .map(|(k, v)| view! { <input type="hidden" name=k.clone() value=v.clone() /> })
        .collect_view();
    let x_options = names
        .iter()
        .map(|n| {
            let selected = *n == view.x;
            let to = href(choice.clone().with_x(n.clone()));
            view! { <option value=n.clone() selected=selected data-href=to>{n.clone()}</option> }
        })
        .collect_view();
    let y_options = names
        .iter()
        .map(|n| {
            let selected = view.y.as_deref() == Some(n.as_str());
            let to = href(choice.clone().with_y(Some(n.clone()), &names));
            view! { <option value=n.clone() selected=selected data-href=to>{n.clone()}</option> }
        })
        .collect_view();
    let no_y = href(choice.clone().with_y(None, &names));
    let fold_options = Fold::ALL
        .into_iter()
        .map(|f| {
            let to = href(choice.clone().with_fold(f));
            view! { <option value=f.as_str() selected=f == view.fold data-href=to>{f.label()}</option> }
        })
        .collect_view();
    let slice = view
        .params
        .iter()
        .filter(|p| p.name != view.x && Some(p.name.as_str()) != view.y.as_deref())
        .map(|p| {
            let name = p.name.clone();
            let current = view.at.get(&name).copied();
            let options = p
                .values
                .iter()
                .map(|&v| {
                    let selected = current == Some(v);
                    let to = href(choice.clone().with_at(name.clone(), v).with_fold(Fold::Slice));
                    view! { <option value=v.to_string() selected=selected data-href=to>{fmt_param(v)}</option> }
                })
                .collect_view();
            let id = format!("grid-at-{name}");
            view! {
                <div class="field grid-explorer__slice">
                    <label for=id.clone()>{format!("{name} (slice)")}</label>
                    <select id=id.clone() name=format!("{AT_PREFIX}{name}") data-testid=id>
                        {options}
                    </select>
                </div>
            }
        })
        .collect_view();
    let class = if view.fold == Fold::Slice {
        "filters grid-explorer__controls grid-explorer__controls--slice"
    } else {
        "filters grid-explorer__controls"
    };
    view! {
        <form method="get" action=path class=class data-testid="grid-controls">
            {hidden}
            {select_field("grid-x", "X axis", X_KEY, x_options)}
            {select_field("grid-y", "Y axis", Y_KEY, view! {
                {y_options}
                <option value=NO_Y selected=view.y.is_none() data-href=no_y>"none (line)"</option>
            })}
            {select_field("grid-fold", "Other parameters", FOLD_KEY, fold_options)}
            {slice}
            <button type="submit" class="button button--secondary" data-testid="grid-apply">
                "Show"
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests;
