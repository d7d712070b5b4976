//! The result charts: `<EquityChart/>` (equity with a drawdown panel, `equity_chart`),
//! `<LossChart/>` (training loss per epoch, `loss_chart`) and `<HeatmapChart/>` (an optimization
//! metric over two parameters, `heatmap`), one file each on the shared bits in `svg`.
//!
//! Each chart's markup is a pure function of its data (`*_svg`, unit-tested), set as the inner
//! HTML of an `<svg>` that the component owns (`viewBox`, `role="img"`, `aria-label`,
//! `data-testid`). The same string is produced on the server and in the browser, so hydration
//! keeps the server's nodes untouched, and hundreds of heatmap cells cost the WASM bundle no view
//! code. Colours come from CSS classes (see `style/main.css`, "Results"), except the heatmap's
//! data colours. Why no plotting crate: see [`super::scale`].

pub use super::equity_chart::{curve_svg, equity_svg, Curve, EquityChart, PriceChart};
pub use super::heatmap::{heatmap_svg, HeatmapChart, HEATMAP_MAX_BINS};
pub use super::loss_chart::{loss_svg, LossChart};
pub use super::svg::ChartSvg;
