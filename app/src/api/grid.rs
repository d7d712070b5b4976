//! `/api/grid_view`: one view of an optimization's grid, folded on the server.
//!
//! An optimization stores the metric of every parameter combination beside its result (the
//! server's `job_grids`, up to 2,000,000 values that never reach the browser). This function
//! folds it into the view asked for: the metric over one or two chosen parameters, the others
//! folded away by max, mean or median, or held at fixed values (a slice); see
//! [`crate::model::research::grid_fold`]. The answer is small: at most
//! [`MAX_VIEW_CELLS`](crate::model::research::grid_fold::MAX_VIEW_CELLS) cells, plus the grid's
//! parameters and their values for the controls.
//!
//! A job that ran before grids were stored has only its stored heatmap: the default view (the
//! first two varying parameters, max) is answered from it, any other with a `409` that says so.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use super::ApiError;
use crate::model::research::finite_vec_or_null;
use crate::model::research::grid_fold::Fold;
use crate::model::research::Heatmap;

/// One parameter that varies in the grid, with the values tried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridParam {
    pub name: String,
    #[serde(with = "finite_vec_or_null")]
    pub values: Vec<f64>,
}

/// A view of an optimization's grid, and what the controls need to ask for another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridView {
    /// The parameters that vary, in declaration order, with their values.
    pub params: Vec<GridParam>,
    /// The parameter along x.
    pub x: String,
    /// The parameter along y; `None` for a one-parameter view (a line).
    pub y: Option<String>,
    /// How the other parameters are folded.
    pub fold: Fold,
    /// Where a slice holds each other varying parameter (the request's values, else the best
    /// run's); shown for every fold so the controls can offer it.
    pub at: BTreeMap<String, f64>,
    /// The metric over `x` (and `y`): `heatmap.y_param` is `None` for a line.
    pub heatmap: Heatmap,
    /// Whether other views can be asked for: `false` for a job run before grids were stored,
    /// which has only this, its default view.
    pub explorable: bool,
}

/// A view of optimization `id`'s grid: `{"id": "<uuid>", "x": "period", "y": "lower",
/// "fold": "median"}` or `{"id": …, "x": "period", "y": "none", "fold": "slice",
/// "at": {"upper": 70}}`. Every field but `id` is optional (the default view: the first two
/// varying parameters, max over the others, as the stored heatmap). `y: "none"` asks for a line.
/// Bad fields are refused with `400` naming `x`, `y`, `fold` or `at.<name>`. (Named `get_…`
/// because the macro names a struct after the function, which would clash with [`GridView`].)
#[server(prefix = "/api", endpoint = "grid_view", input = Json, output = Json)]
pub async fn get_grid_view(
    id: String,
    #[server(default)] x: Option<String>,
    #[server(default)] y: Option<String>,
    #[server(default)] fold: Option<String>,
    #[server(default)] at: BTreeMap<String, f64>,
) -> Result<GridView, ApiError> {
    use crate::model::research::grid_fold::ViewRequest;
    grid_view_in_page(id, ViewRequest { x, y, fold, at })
        .await
        .map_err(super::with_status)
}

/// What [`get_grid_view`] answers, without setting the response's status: for a page that
/// renders a view on the server, whose own status must not become the view's error.
#[cfg(feature = "ssr")]
pub async fn grid_view_in_page(
    id: String,
    asked: crate::model::research::grid_fold::ViewRequest,
) -> Result<GridView, ApiError> {
    let id = super::parse_job_id(&id)?;
    ssr::grid_view(id, asked).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use uuid::Uuid;

    use super::{GridParam, GridView};
    use crate::api::backend::backend;
    use crate::api::ApiError;
    use crate::model::research::grid_fold::{
        self, default_axes, varying, Fold, ViewRequest, ViewSpec, NO_Y,
    };
    use crate::model::research::{FullGrid, Heatmap};
    use crate::model::JobKind;

    /// The parts of a stored optimization result a view needs.
    #[derive(Deserialize)]
    struct Stored {
        grid: Heatmap,
        #[serde(default)]
        best_params: BTreeMap<String, f64>,
    }

    pub async fn grid_view(id: Uuid, request: ViewRequest) -> Result<GridView, ApiError> {
        let backend = backend()?;
        let job = backend.job_result(id).await?;
        if job.kind != JobKind::Optimize {
            return Err(ApiError::invalid(
                "id",
                format!(
                    "job {id} is a {} job; only optimizations have a grid",
                    job.kind.label().to_lowercase()
                ),
            ));
        }
        let Some(result) = job.result else {
            return Err(ApiError::Conflict {
                message: format!(
                    "job {id} has no result yet ({}); its grid is shown once it succeeds",
                    job.state
                ),
            });
        };
        let stored: Stored = serde_json::from_value(result).map_err(|e| {
            leptos::logging::error!(
                "job {id}: the stored optimization result does not decode: {e}"
            );
            ApiError::Internal {
                reference: format!("grid-{}", &id.simple().to_string()[..8]),
            }
        })?;
        match backend.job_grid(id).await? {
            Some(grid) => {
                let spec =
                    grid_fold::resolve(&grid.params, &grid.axes, &request, &stored.best_params)
                        .map_err(|e| ApiError::invalid(e.field, e.message))?;
                let heatmap = grid_fold::fold(&grid, &spec);
                Ok(view_of(&grid, &spec, heatmap))
            }
            None => stored_view(id, stored.grid, &request),
        }
    }

    /// The answer for a resolved view of a stored grid.
    fn view_of(grid: &FullGrid, spec: &ViewSpec, heatmap: Heatmap) -> GridView {
        let on_axis = |d: usize| d == spec.x || Some(d) == spec.y;
        let varying = varying(&grid.axes);
        GridView {
            params: varying
                .iter()
                .map(|&d| GridParam {
                    name: grid.params[d].clone(),
                    values: grid.axes[d].clone(),
                })
                .collect(),
            x: grid.params[spec.x].clone(),
            y: spec.y.map(|d| grid.params[d].clone()),
            fold: spec.fold,
            at: varying
                .iter()
                .filter(|&&d| !on_axis(d))
                .map(|&d| (grid.params[d].clone(), grid.axes[d][spec.at[d]]))
                .collect(),
            heatmap,
            explorable: true,
        }
    }

    /// A job without a stored grid (run before grids were kept): its stored heatmap is the only
    /// view, so only the default view is answered.
    fn stored_view(
        id: Uuid,
        heatmap: Heatmap,
        request: &ViewRequest,
    ) -> Result<GridView, ApiError> {
        let given = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let y_default = heatmap.y_param.clone().unwrap_or_else(|| NO_Y.to_string());
        let default = given(&request.x).is_none_or(|x| x == heatmap.x_param)
            && given(&request.y).is_none_or(|y| y == y_default)
            && given(&request.fold).is_none_or(|f| Fold::parse(&f) == Some(Fold::Max));
        if !default {
            return Err(ApiError::Conflict {
                message: format!(
                    "job {id} ran before other views of its grid were stored: only its default \
                     view is available (x={}, y={y_default}, fold=max); run it again to explore \
                     other axes and folds",
                    heatmap.x_param
                ),
            });
        }
        let mut params = vec![GridParam {
            name: heatmap.x_param.clone(),
            values: heatmap.x_values.clone(),
        }];
        if let Some(y) = &heatmap.y_param {
            params.push(GridParam {
                name: y.clone(),
                values: heatmap.y_values.clone(),
            });
        }
        // Keep only the axes that vary, as for a stored grid.
        let axes: Vec<Vec<f64>> = params.iter().map(|p| p.values.clone()).collect();
        let (x, _) = default_axes(&axes);
        let keep = varying(&axes);
        Ok(GridView {
            x: params[x].name.clone(),
            y: heatmap.y_param.clone(),
            params: keep.into_iter().map(|d| params[d].clone()).collect(),
            fold: Fold::Max,
            at: BTreeMap::new(),
            heatmap,
            explorable: false,
        })
    }
}
