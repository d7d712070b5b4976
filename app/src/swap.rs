//! In-place page swaps: the browser side of the parts that render on the server only.
//!
//! A region is an element with `data-swap-id="<name>"`. The server renders every region from
//! the page's URL alone, so a region is refreshed by fetching its page and taking the region
//! with the same name from the answer: no view code for it reaches the browser, and each
//! region's links and forms still work without JavaScript (they load the whole page).
//!
//! - A link with `data-swap` (another page of trades) fetches its `href` and swaps the region
//!   around it; the address bar follows (`history.pushState`).
//! - A `<select>` inside a region whose chosen `<option>` carries `data-href` (the grid
//!   explorer's axes and fold) does the same with that URL as soon as it changes.
//! - [`refresh`] swaps named regions from the current URL (a job's results once it ends, its
//!   results so far while it runs).
//!
//! Back and forward after a swap reload the page, which the server renders as it was. Any
//! failure falls back to loading the URL as a whole page.

/// The attribute that names a region.
pub const REGION_ATTR: &str = "data-swap-id";

/// Installs the document's listeners (once, from the WASM entry); a no-op on the server.
pub fn install() {
    #[cfg(feature = "hydrate")]
    browser::install();
}

/// Loads `href` as a whole page (in the browser; a no-op on the server).
#[allow(unused_variables)]
pub fn navigate(href: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(href);
    }
}

/// Puts `href` in the address bar without loading it (in the browser).
#[allow(unused_variables)]
pub fn push_url(href: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(Ok(history)) = web_sys::window().map(|w| w.history()) {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
    }
}

/// Swaps the regions `names` inside `scope` with those of a fresh render of the current page.
#[cfg(feature = "hydrate")]
pub async fn refresh(scope: web_sys::Element, names: &[&str]) -> Result<(), ()> {
    let href = browser::current_href().ok_or(())?;
    let page = browser::fetch_page(&href).await?;
    for name in names {
        let selector = browser::region_selector(name);
        let (Ok(Some(old)), Ok(Some(new))) = (
            scope.query_selector(&selector),
            page.query_selector(&selector),
        ) else {
            continue;
        };
        old.replace_with_with_node_1(&new).map_err(|_| ())?;
    }
    Ok(())
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Document, DomParser, Element, Event, HtmlSelectElement, MouseEvent};

    use super::REGION_ATTR;

    pub fn region_selector(name: &str) -> String {
        format!("[{REGION_ATTR}=\"{name}\"]")
    }

    pub fn current_href() -> Option<String> {
        web_sys::window()?.location().href().ok()
    }

    /// The page at `href`, fetched with the session's cookie and parsed (scripts stay inert).
    pub async fn fetch_page(href: &str) -> Result<Document, ()> {
        let window = web_sys::window().ok_or(())?;
        let answer = JsFuture::from(window.fetch_with_str(href))
            .await
            .map_err(|_| ())?;
        let answer: web_sys::Response = answer.dyn_into().map_err(|_| ())?;
        if !answer.ok() {
            return Err(());
        }
        let text = JsFuture::from(answer.text().map_err(|_| ())?)
            .await
            .map_err(|_| ())?
            .as_string()
            .ok_or(())?;
        DomParser::new()
            .map_err(|_| ())?
            .parse_from_string(&text, web_sys::SupportedType::TextHtml)
            .map_err(|_| ())
    }

    pub fn install() {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some(document) = window.document() else {
            return;
        };
        let on_click = Closure::<dyn Fn(MouseEvent)>::new(on_click);
        let on_change = Closure::<dyn Fn(Event)>::new(on_change);
        let on_pop = Closure::<dyn Fn(Event)>::new(|_: Event| {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        });
        let _ =
            document.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        let _ =
            document.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        let _ =
            window.add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
        // The listeners live as long as the page.
        on_click.forget();
        on_change.forget();
        on_pop.forget();
    }

    /// A plain left click on a `data-swap` link inside a region.
    fn on_click(ev: MouseEvent) {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(link) = ev
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|e| e.closest("a[data-swap]").ok().flatten())
        else {
            return;
        };
        let (Some(href), Some(region)) = (link.get_attribute("href"), region_of(&link)) else {
            return;
        };
        ev.prevent_default();
        go(href, region);
    }

    /// A changed `<select>` whose chosen option names the URL of the view it asks for.
    fn on_change(ev: Event) {
        let Some(select) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
        else {
            return;
        };
        let chosen = select.selected_index();
        let Some(option) = (chosen >= 0)
            .then(|| select.options().item(chosen as u32))
            .flatten()
        else {
            return;
        };
        let (Some(href), Some(region)) = (option.get_attribute("data-href"), region_of(&select))
        else {
            return;
        };
        go(href, region);
    }

    fn region_of(element: &Element) -> Option<Element> {
        element.closest(&format!("[{REGION_ATTR}]")).ok().flatten()
    }

    /// Fetches `href`, swaps `region` for its namesake there and puts `href` in the address
    /// bar; the element that had the focus (by id) gets it back.
    fn go(href: String, region: Element) {
        let Some(name) = region.get_attribute(REGION_ATTR) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let swapped = async {
                let page = fetch_page(&href).await?;
                let new = page
                    .query_selector(&region_selector(&name))
                    .ok()
                    .flatten()
                    .ok_or(())?;
                let window = web_sys::window().ok_or(())?;
                let document = window.document().ok_or(())?;
                let focused = document.active_element().map(|e| e.id());
                region.replace_with_with_node_1(&new).map_err(|_| ())?;
                window
                    .history()
                    .map_err(|_| ())?
                    .push_state_with_url(&JsValue::NULL, "", Some(&href))
                    .map_err(|_| ())?;
                if let Some(el) = focused
                    .filter(|id| !id.is_empty())
                    .and_then(|id| document.get_element_by_id(&id))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.focus();
                }
                Ok::<(), ()>(())
            };
            if swapped.await.is_err() {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().assign(&href);
                }
            }
        });
    }
}
