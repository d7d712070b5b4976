//! The HTTP side: one blocking client for the server's JSON API, with the token, clear errors
//! for the API's typed error bodies, and a streamed upload that reports bytes sent.

use std::io::Read;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use ureq::{Agent, SendBody};

/// A server and the credentials to talk to it.
pub struct Client {
    base: String,
    token: Option<String>,
    agent: Agent,
}

/// What an API call answered: its HTTP status and its JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Client {
    /// A client for `server` (`http://host:port`; HTTPS is not built in: use a loopback
    /// address, an SSH tunnel or a local TLS-terminating proxy).
    pub fn new(server: &str, token: Option<String>) -> Result<Client> {
        let base = server.trim_end_matches('/').to_string();
        if base.starts_with("https://") {
            bail!(
                "--server {base}: this client speaks plain HTTP only; reach an HTTPS server \
                 through an SSH tunnel or a local proxy"
            );
        }
        if !base.starts_with("http://") {
            bail!("--server {base}: expected a URL such as http://127.0.0.1:3000");
        }
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .into();
        Ok(Client {
            base,
            token: token.filter(|t| !t.is_empty()),
            agent,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn auth(&self) -> Option<String> {
        self.token.as_ref().map(|t| format!("Bearer {t}"))
    }

    /// `POST path` with a JSON body; any status, the JSON body read back.
    pub fn post_json(&self, path: &str, body: &Value) -> Result<Answer> {
        let mut req = self
            .agent
            .post(self.url(path))
            .header("content-type", "application/json")
            .header("accept", "application/json");
        if let Some(a) = self.auth() {
            req = req.header("authorization", a);
        }
        let resp = req
            .send_json(body)
            .with_context(|| format!("could not reach {}", self.base))?;
        read_answer(resp)
    }

    /// `GET path`, returning the body as text (CSV downloads).
    pub fn get_text(&self, path: &str) -> Result<(u16, String)> {
        let mut req = self.agent.get(self.url(path));
        if let Some(a) = self.auth() {
            req = req.header("authorization", a);
        }
        let resp = req
            .call()
            .with_context(|| format!("could not reach {}", self.base))?;
        read_text(resp, 1 << 30)
    }

    /// `POST path` with a streamed body (never held whole in memory).
    pub fn post_stream(
        &self,
        path: &str,
        content_type: &str,
        gzip: bool,
        body: &mut dyn Read,
    ) -> Result<Answer> {
        let mut req = self
            .agent
            .post(self.url(path))
            .header("content-type", content_type)
            .header("accept", "application/json");
        if gzip {
            req = req.header("content-encoding", "gzip");
        }
        if let Some(a) = self.auth() {
            req = req.header("authorization", a);
        }
        let resp = req
            .send(SendBody::from_reader(body))
            .with_context(|| format!("could not upload to {}", self.base))?;
        read_answer(resp)
    }

    /// A JSON API call that must succeed: a 4xx/5xx becomes an error that quotes the server.
    pub fn call(&self, endpoint: &str, body: Value) -> Result<Value> {
        let answer = self.post_json(&format!("/api/{endpoint}"), &body)?;
        ok_or_error(answer)
    }
}

/// The status and the body as text; a body over `limit` bytes is an error.
fn read_text(mut resp: ureq::http::Response<ureq::Body>, limit: u64) -> Result<(u16, String)> {
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_string()
        .context("could not read the answer")?;
    Ok((status, text))
}

/// The status and the body as JSON (the text as a JSON string when it is not JSON).
fn read_answer(resp: ureq::http::Response<ureq::Body>) -> Result<Answer> {
    let (status, text) = read_text(resp, 64 << 20)?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Answer { status, body })
}

/// The body of a 2xx answer, or an error naming what the server said.
pub fn ok_or_error(answer: Answer) -> Result<Value> {
    if (200..300).contains(&answer.status) {
        return Ok(answer.body);
    }
    Err(anyhow!(describe_error(answer.status, &answer.body)))
}

/// The server's typed error in one line: `400 invalid_request: grid.n1: …`.
pub fn describe_error(status: u16, body: &Value) -> String {
    let kind = body.get("kind").and_then(Value::as_str);
    let field = body.get("field").and_then(Value::as_str);
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| body.as_str().map(|s| s.chars().take(300).collect()));
    let mut out = format!("server answered {status}");
    if let Some(k) = kind {
        out.push_str(&format!(" {k}"));
    }
    match (field, message) {
        (Some(f), Some(m)) => out.push_str(&format!(": {f}: {m}")),
        (None, Some(m)) if !m.is_empty() => out.push_str(&format!(": {m}")),
        _ => {}
    }
    if status == 401 {
        out.push_str(" (set --token or RUNBOARD_TOKEN)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_quote_the_field_and_message() {
        let body = json!({"kind": "invalid_request", "field": "grid.n1", "message": "step must be positive"});
        assert_eq!(
            describe_error(400, &body),
            "server answered 400 invalid_request: grid.n1: step must be positive"
        );
        assert_eq!(
            describe_error(401, &json!({"kind": "unauthorized"})),
            "server answered 401 unauthorized (set --token or RUNBOARD_TOKEN)"
        );
        assert_eq!(
            describe_error(502, &Value::String("bad gateway".into())),
            "server answered 502: bad gateway"
        );
    }

    #[test]
    fn only_http_urls_are_accepted() {
        assert!(Client::new("http://127.0.0.1:3000/", None).is_ok());
        let e = Client::new("https://example.org", None).err().unwrap();
        assert!(e.to_string().contains("plain HTTP only"));
        assert!(Client::new("localhost:3000", None).is_err());
    }
}
