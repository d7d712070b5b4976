//! The browser's sign-in: `GET /signin` shows the form, `POST /signin` checks the token (the
//! failure throttle applies) and sets the signed session cookie, then goes back to the page the
//! user came from (a local path only).

use super::*;

/// `GET /signin`: the sign-in form.
#[derive(Deserialize)]
pub struct SigninQuery {
    next: Option<String>,
}

pub async fn signin_page(
    Extension(security): Extension<Arc<Security>>,
    Extension(css): Extension<Stylesheet>,
    Query(query): Query<SigninQuery>,
) -> Response {
    if security.token.is_none() {
        return Redirect::to("/").into_response();
    }
    signin_html(
        StatusCode::OK,
        &css,
        &safe_next(query.next.as_deref()),
        None,
    )
}

/// `POST /signin` (a same-origin form): token in, session cookie out.
#[derive(Deserialize)]
pub struct SigninForm {
    token: String,
    next: Option<String>,
}

pub async fn signin_submit(
    Extension(security): Extension<Arc<Security>>,
    Extension(css): Extension<Stylesheet>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<SigninForm>,
) -> Response {
    let Some(token) = security.token.as_deref() else {
        return Redirect::to("/").into_response();
    };
    let next = safe_next(form.next.as_deref());
    let keys = Keys::new(token, security.read_token.as_deref());
    let Some(role) = keys.role_of_token(form.token.trim()) else {
        throttle().failed(connect.map(|c| c.0 .0.ip())).await;
        return signin_html(
            StatusCode::UNAUTHORIZED,
            &css,
            &next,
            Some("That token is not valid."),
        );
    };
    let secure = served_over_https(&headers);
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={SESSION_TTL_SECS}; HttpOnly; SameSite=Strict{}",
        keys.issue_session(role, now_secs()),
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The only policy the sign-in page needs: its stylesheet, and posting to itself.
const SIGNIN_CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

fn signin_html(status: StatusCode, css: &Stylesheet, next: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!(r#"<p class="signin__error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Runboard</title><link rel="stylesheet" href="{}"></head>
<body><main class="container signin"><h1>Runboard</h1>
<form method="post" action="/signin" data-testid="signin-form">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{}">
<button type="submit">Sign in</button>
</form>{error}
<p class="muted">The token is the server's <code>RUNBOARD_TOKEN</code> (or the read-only <code>RUNBOARD_READ_TOKEN</code>).</p>
</main></body></html>"#,
        escape(&css.0),
        escape(next)
    );
    let mut response = (status, Html(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SIGNIN_CSP),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Only a local path may follow sign-in (no `//host` or `https://…`: no open redirect).
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => {
            n.chars().take(2_000).collect()
        }
        _ => "/".into(),
    }
}

fn served_over_https(headers: &HeaderMap) -> bool {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| o.starts_with("https://"));
    forwarded || origin
}
