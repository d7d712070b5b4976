//! `/`: the backtest page.

use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="panel">
            <h1>"Runboard"</h1>
            <p>"Research jobs for trading strategies: submit a run and watch it live."</p>
        </section>
    }
}
