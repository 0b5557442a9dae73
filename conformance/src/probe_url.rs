//! `conformance probe --url URL`: a black-box check of any Streamable HTTP MCP server, over
//! real TCP ([`crate::blocking_http`]), with no runtime.
//!
//! It first finds the eras the server speaks — `server/discover` on the 2026-07-28 wire
//! ("modern"), `initialize` on the 2025-11-25 one ("legacy") — then runs one table of checks
//! ([`table`]), each with an id, the rule it tests and its severity: a broken MUST is a FAIL, a
//! broken SHOULD (or a rule from HTTP rather than MCP) a WARN, and a check that does not apply
//! (an era the server does not speak, a session it never issued) a SKIP. Checks of both eras
//! run once per era (`id@modern`, `id@legacy`).
//!
//! § numbers name sections of the project's spec checklist: §4.2 is the 2026-07-28 Streamable
//! HTTP transport, §4.L the 2025-11-25 one, §2.1–2.2 JSON-RPC as MCP restricts it, §1.4 version
//! negotiation, §3.1 `server/discover`, §2.10 caching fields.

use std::fmt;
use std::time::Duration;

use mcp_proto::http::{ACCEPT_TABLE, AcceptRow};
use mcp_proto::types::version::{KNOWN, ProtocolVersion};
use serde_json::{Value, json};

use crate::blocking_http::{self, Endpoint, HttpError, Limits, Request, Response, Want};

/// The modern protocol version the probe speaks.
const MODERN: &str = "2026-07-28";
/// The legacy version the probe asks for in `initialize`.
const LEGACY: &str = "2025-11-25";
/// An origin no local server should serve.
const FOREIGN_ORIGIN: &str = "http://evil.example";
/// The oversized POST body.
const OVERSIZED_BODY: usize = 8 * 1024 * 1024;
/// A session id no server issued.
const UNKNOWN_SESSION: &str = "probe-unknown-session-5f0c2a9e7b1d4c3a";
const CLIENT_NAME: &str = "conformance-probe";
const VERSION_HEADER: &str = "MCP-Protocol-Version";
const SESSION_HEADER: &str = "Mcp-Session-Id";
const METHOD_HEADER: &str = "Mcp-Method";
/// The time given to the raw connections of the liveness check.
const RAW_WAIT: Duration = Duration::from_secs(2);

/// How much a broken rule weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// A MUST of the spec: broken means FAIL.
    Must,
    /// A SHOULD, or HTTP semantics the spec does not restate: broken means WARN.
    Should,
}

/// The verdict on one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Verdict {
    Pass,
    Fail,
    Warn,
    Skip,
}

impl Verdict {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Warn => "WARN",
            Self::Skip => "SKIP",
        }
    }
}

/// A protocol era, as the probe speaks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    /// 2026-07-28: stateless, `_meta` and headers on every request.
    Modern,
    /// 2025-11-25 and older: `initialize`, sessions.
    Legacy,
}

impl Wire {
    fn name(self) -> &'static str {
        match self {
            Self::Modern => "modern",
            Self::Legacy => "legacy",
        }
    }
}

/// Which eras a check runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Once per era (ids get `@modern` / `@legacy`).
    Each,
    /// In this era only (the id gets its suffix).
    Only(Wire),
    /// Once, in the modern era when the server speaks it, else the legacy one.
    Once,
}

/// Why a check did not pass.
#[derive(Debug)]
enum Miss {
    /// The rule is broken: FAIL or WARN by the check's severity.
    Broken(String),
    /// A WARN whatever the severity: allowed, but not what the rule asks for.
    Soft(String),
    /// Not applicable.
    Skip(String),
}

impl From<HttpError> for Miss {
    fn from(error: HttpError) -> Self {
        Self::Broken(format!("no answer: {error}"))
    }
}

type Checked = Result<(), Miss>;

fn broken(observed: impl Into<String>) -> Miss {
    Miss::Broken(observed.into())
}

type Run = Box<dyn Fn(&mut Probe, Wire) -> Checked>;

/// One row of the table.
struct Check {
    id: String,
    rule: String,
    severity: Severity,
    scope: Scope,
    run: Run,
}

fn check(
    id: impl Into<String>,
    rule: impl Into<String>,
    severity: Severity,
    scope: Scope,
    run: impl Fn(&mut Probe, Wire) -> Checked + 'static,
) -> Check {
    Check {
        id: id.into(),
        rule: rule.into(),
        severity,
        scope,
        run: Box::new(run),
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub(crate) struct CheckResult {
    pub(crate) id: String,
    pub(crate) rule: String,
    pub(crate) verdict: Verdict,
    /// What was seen, for anything but a PASS.
    pub(crate) observed: Option<String>,
}

/// Everything one probe found.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) url: String,
    /// The eras found, in words.
    pub(crate) eras: String,
    pub(crate) results: Vec<CheckResult>,
}

impl Report {
    pub(crate) fn count(&self, verdict: Verdict) -> usize {
        self.results.iter().filter(|r| r.verdict == verdict).count()
    }

    /// `N passed, M failed, K warnings, S skipped`.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} warnings, {} skipped",
            self.count(Verdict::Pass),
            self.count(Verdict::Fail),
            self.count(Verdict::Warn),
            self.count(Verdict::Skip)
        )
    }

    /// One line per check: verdict, id, rule, and what was observed when it did not pass.
    pub(crate) fn lines(&self) -> Vec<String> {
        let width = self.results.iter().map(|r| r.id.len()).max().unwrap_or(0);
        self.results
            .iter()
            .map(|r| {
                let mut line = format!("{}  {:width$}  {}", r.verdict.label(), r.id, r.rule);
                if let Some(observed) = &r.observed {
                    line.push_str(" — ");
                    line.push_str(observed);
                }
                line
            })
            .collect()
    }
}

/// Why no probe could run at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProbeError {
    #[error("{0}")]
    Url(HttpError),
    #[error("{url} is unreachable: {error}")]
    Unreachable { url: String, error: HttpError },
    #[error(
        "no MCP server answered at {url}: server/discover got {discover}; initialize got {initialize}"
    )]
    NotMcp {
        url: String,
        discover: String,
        initialize: String,
    },
}

/// What the probe may change.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProbeOptions {
    /// Origins the server is configured to allow: each must be served.
    pub(crate) origins_allowed: Vec<String>,
    pub(crate) limits: Limits,
}

/// A legacy session's facts.
#[derive(Debug, Clone)]
struct Legacy {
    /// The version `initialize` negotiated.
    version: String,
    /// The session id, when the server issued one.
    session: Option<String>,
}

/// The state of one probe run.
struct Probe {
    endpoint: Endpoint,
    limits: Limits,
    next_id: u64,
    /// The `server/discover` result, when the server speaks the modern era.
    modern: Option<Value>,
    legacy: Option<Legacy>,
    /// Whether the liveness check already abused the server.
    abused: bool,
}

/// Probes the server at `url`.
pub(crate) fn probe(url: &str, options: &ProbeOptions) -> Result<Report, ProbeError> {
    let endpoint = Endpoint::parse(url).map_err(ProbeError::Url)?;
    let mut probe = Probe {
        endpoint,
        limits: options.limits,
        next_id: 0,
        modern: None,
        legacy: None,
        abused: false,
    };
    let unreachable = |error| ProbeError::Unreachable {
        url: url.to_owned(),
        error,
    };
    // The era probe, as a dual-era client does it: discover first, then initialize.
    let (discover, discover_seen) = match probe.discover() {
        Ok(response) => {
            let result = response
                .answer
                .as_ref()
                .and_then(|a| a.get("result"))
                .filter(|r| r.is_object() && response.is_success())
                .cloned();
            (result, response.describe())
        }
        Err(error @ HttpError::Connect { .. }) => return Err(unreachable(error)),
        Err(error) => (None, error.to_string()),
    };
    probe.modern = discover;
    let (legacy, initialize_seen) = match probe.open_session(LEGACY) {
        Ok((legacy, response)) => (legacy, response.describe()),
        Err(error @ HttpError::Connect { .. }) => return Err(unreachable(error)),
        Err(error) => (None, error.to_string()),
    };
    probe.legacy = legacy;
    if probe.modern.is_none() && probe.legacy.is_none() {
        return Err(ProbeError::NotMcp {
            url: url.to_owned(),
            discover: discover_seen,
            initialize: initialize_seen,
        });
    }
    let eras = probe.eras();
    let results = run_table(&mut probe, &table(&options.origins_allowed));
    Ok(Report {
        url: url.to_owned(),
        eras,
        results,
    })
}

fn run_table(probe: &mut Probe, checks: &[Check]) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for check in checks {
        let wires: Vec<(Wire, bool)> = match check.scope {
            Scope::Each => vec![(Wire::Modern, true), (Wire::Legacy, true)],
            Scope::Only(wire) => vec![(wire, true)],
            Scope::Once => vec![(probe.preferred(), false)],
        };
        for (wire, suffixed) in wires {
            let id = if suffixed {
                format!("{}@{}", check.id, wire.name())
            } else {
                check.id.clone()
            };
            let outcome = if probe.speaks(wire) {
                (check.run)(probe, wire)
            } else {
                Err(Miss::Skip(format!(
                    "the server does not speak the {} era",
                    wire.name()
                )))
            };
            let (verdict, observed) = match outcome {
                Ok(()) => (Verdict::Pass, None),
                Err(Miss::Broken(seen)) => match check.severity {
                    Severity::Must => (Verdict::Fail, Some(seen)),
                    Severity::Should => (Verdict::Warn, Some(seen)),
                },
                Err(Miss::Soft(seen)) => (Verdict::Warn, Some(seen)),
                Err(Miss::Skip(why)) => (Verdict::Skip, Some(why)),
            };
            results.push(CheckResult {
                id,
                rule: check.rule.clone(),
                verdict,
                observed,
            });
        }
    }
    results
}

/// The checks, in the order they run (the liveness check last: it follows the abuse).
fn table(origins_allowed: &[String]) -> Vec<Check> {
    use Severity::{Must, Should};
    let mut checks: Vec<Check> = ACCEPT_TABLE.iter().map(accept_check).collect();
    checks.extend([
        check(
            "notification-202",
            "§4.2 a notification POST → 202 without a body (or a 4xx refusal)",
            Must,
            Scope::Only(Wire::Modern),
            notification_modern,
        ),
        check(
            "notification-202",
            "§4.L notifications/initialized → 202 without a body",
            Must,
            Scope::Only(Wire::Legacy),
            notification_legacy,
        ),
        check(
            "response-202",
            "§4.L a JSON-RPC response POST → 202 without a body",
            Must,
            Scope::Only(Wire::Legacy),
            response_legacy,
        ),
        check(
            "response-refused",
            "§4.2 a JSON-RPC response is no valid POST body → 4xx (or 202 without a body)",
            Must,
            Scope::Only(Wire::Modern),
            response_modern,
        ),
        check(
            "session-missing-400",
            "§4.L a request without Mcp-Session-Id after initialize → 400",
            Should,
            Scope::Only(Wire::Legacy),
            session_missing,
        ),
        check(
            "session-unknown-404",
            "§4.L an unknown Mcp-Session-Id → 404",
            Must,
            Scope::Only(Wire::Legacy),
            session_unknown,
        ),
        check(
            "session-deleted-404",
            "§4.L DELETE ends the session (or 405); its id then → 404",
            Must,
            Scope::Only(Wire::Legacy),
            session_deleted,
        ),
        check(
            "origin-foreign-403",
            format!("§4.2/§4.L Origin: {FOREIGN_ORIGIN} → 403"),
            Must,
            Scope::Each,
            origin_foreign,
        ),
    ]);
    if origins_allowed.is_empty() {
        checks.push(check(
            "origin-allowed",
            "an Origin the server allows (--origin-allowed) is served",
            Must,
            Scope::Each,
            |_, _| Err(Miss::Skip("no --origin-allowed given".into())),
        ));
    }
    for origin in origins_allowed {
        let allowed = origin.clone();
        checks.push(check(
            format!("origin-allowed[{origin}]"),
            format!("an allowed Origin ({origin}) is served"),
            Must,
            Scope::Each,
            move |p, wire| origin_allowed(p, wire, &allowed),
        ));
    }
    checks.extend([
        check(
            "put-405",
            "RFC 9110 §15.5.6 PUT on the endpoint → 405 with Allow",
            Should,
            Scope::Once,
            put_405,
        ),
        check(
            "get-sse-or-405",
            "§4.L GET → 200 text/event-stream or 405",
            Must,
            Scope::Only(Wire::Legacy),
            get_legacy,
        ),
        check(
            "get-405",
            "§4.2 GET on a 2026-07-28 endpoint → 405",
            Should,
            Scope::Only(Wire::Modern),
            get_modern,
        ),
        check(
            "content-type-415",
            "RFC 9110 §15.5.16 Content-Type: text/plain → 415",
            Should,
            Scope::Each,
            content_type_415,
        ),
        check(
            "version-header-400",
            "§4.L MCP-Protocol-Version: 1999-01-01 (unsupported) → 400",
            Must,
            Scope::Only(Wire::Legacy),
            version_legacy,
        ),
        check(
            "version-unsupported-32022",
            "§4.2/§1.4 version 2099-01-01 → 400 + -32022 {supported, requested}",
            Must,
            Scope::Only(Wire::Modern),
            version_modern,
        ),
        check(
            "parse-error-32700",
            "§2.2 malformed JSON → -32700",
            Must,
            Scope::Each,
            parse_error,
        ),
        check(
            "non-object-32600",
            "§2.2 a body of `42` → -32600",
            Must,
            Scope::Each,
            non_object,
        ),
        check(
            "id-null-32600",
            "§2.1 \"id\": null → -32600, not a notification",
            Must,
            Scope::Each,
            id_null,
        ),
        check(
            "batch-refused",
            "§2.1 a JSON-RPC batch (removed in 2025-06-18) is refused",
            Should,
            Scope::Each,
            batch_refused,
        ),
        check(
            "unknown-method-32601",
            "§2.2/§4.2 an unknown method → -32601 (404 on 2026-07-28)",
            Must,
            Scope::Each,
            unknown_method,
        ),
        check(
            "initialize-future-version",
            "§1.4 initialize with 2099-01-01 → the server's latest legacy version",
            Must,
            Scope::Only(Wire::Legacy),
            initialize_future,
        ),
        check(
            "discover-versions",
            "§1.4/§3.1 server/discover lists supportedVersions with 2026-07-28, all known",
            Must,
            Scope::Only(Wire::Modern),
            discover_versions,
        ),
        check(
            "discover-result-fields",
            "§2.1/§2.10 the discover result has resultType, ttlMs and cacheScope",
            Must,
            Scope::Only(Wire::Modern),
            discover_fields,
        ),
        check(
            "body-too-large-413",
            "RFC 9110 §15.5.14 an 8 MiB body → 413",
            Should,
            Scope::Once,
            too_large,
        ),
        check(
            "alive-after-abuse",
            "after garbage bytes and a half-sent request: discover/initialize + tools/list work",
            Must,
            Scope::Each,
            alive,
        ),
    ]);
    checks
}

// --- Accept ----------------------------------------------------------------------------------

/// A short id for an Accept row, from its header lines.
pub(crate) fn accept_slug(lines: &[&str]) -> String {
    if lines.is_empty() {
        return "absent".into();
    }
    let slugs: Vec<String> = lines
        .iter()
        .map(|line| {
            let line = line.trim();
            if line.is_empty() {
                return "empty".to_owned();
            }
            let mut slug = line.to_ascii_lowercase();
            for (long, short) in [
                ("application/json", "json"),
                ("text/event-stream", "sse"),
                ("application/*", "application-any"),
                ("text/*", "text-any"),
                ("*/*", "any"),
                ("text/html", "html"),
            ] {
                slug = slug.replace(long, short);
            }
            let slug: String = slug
                .chars()
                .filter_map(|c| match c {
                    ' ' | '"' | '=' => None,
                    ',' => Some('+'),
                    ';' => Some('.'),
                    other => Some(other),
                })
                .collect();
            if line.chars().any(|c| c.is_ascii_uppercase()) {
                format!("mixedcase-{slug}")
            } else {
                slug
            }
        })
        .collect();
    slugs.join("&")
}

/// Whether a client sending these lines obeys §4.2 (both media types listed, neither
/// refused): then the server owes an answer; other rows are judged by HTTP's rules alone.
fn accept_is_mcp_compliant(row: &AcceptRow) -> bool {
    let all = row.lines.join(",").to_ascii_lowercase();
    row.json
        && row.event_stream
        && all.contains("application/json")
        && all.contains("text/event-stream")
}

fn accept_check(row: &'static AcceptRow) -> Check {
    let shown = if row.lines.is_empty() {
        "absent".to_owned()
    } else {
        row.lines
            .iter()
            .map(|l| format!("{l:?}"))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let expected = match (row.json, row.event_stream) {
        (true, true) => "2xx (JSON or SSE)",
        (true, false) => "2xx as JSON",
        (false, true) => "2xx as SSE",
        (false, false) => "406",
    };
    let (severity, reference) = if accept_is_mcp_compliant(row) {
        (Severity::Must, "§4.2/§4.L")
    } else {
        (Severity::Should, "RFC 9110 §12.5.1")
    };
    check(
        format!("accept:{}", accept_slug(row.lines)),
        format!("{reference} Accept {shown} → {expected}"),
        severity,
        Scope::Each,
        move |p, wire| accept(p, wire, row),
    )
}

fn accept(p: &mut Probe, wire: Wire, row: &AcceptRow) -> Checked {
    let (mut request, id) = p.call(wire, "tools/list", json!({}));
    request = request.without("accept");
    for line in row.lines {
        request = request.header("Accept", *line);
    }
    let response = p.send(&request, &Want::Id(id))?;
    if !row.json && !row.event_stream {
        return match response.status {
            406 => Ok(()),
            _ => Err(broken(format!("not 406: {}", response.describe()))),
        };
    }
    if !response.is_success() {
        return Err(broken(response.describe()));
    }
    if (row.json && response.is_json()) || (row.event_stream && response.is_event_stream()) {
        Ok(())
    } else {
        Err(broken(format!(
            "answered a type this Accept refuses: {}",
            response.describe()
        )))
    }
}

// --- 202 for notifications and responses ----------------------------------------------------

/// 202 without a body passes; a 4xx refusal passes when `refusal_ok`, else warns.
fn accepted_202(response: &Response, refusal_ok: bool) -> Checked {
    match response.status {
        202 if response.body.iter().all(u8::is_ascii_whitespace) => Ok(()),
        202 => Err(broken(format!("202 with a body: {}", response.describe()))),
        400..=499 if refusal_ok => Ok(()),
        400..=499 => Err(Miss::Soft(format!("refused: {}", response.describe()))),
        _ => Err(broken(response.describe())),
    }
}

fn notification_modern(p: &mut Probe, _: Wire) -> Checked {
    // 2026-07-28 defines no client notification over HTTP: a 4xx is as right as a 202.
    let body = json!({
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": "probe-none", "_meta": modern_meta(MODERN)},
    });
    let request = modern_post("notifications/cancelled").body(body.to_string());
    let response = p.send(&request, &Want::AnyAnswer)?;
    accepted_202(&response, true)
}

fn notification_legacy(p: &mut Probe, _: Wire) -> Checked {
    let (session, _) = p.initialize(LEGACY)?;
    let legacy = session.ok_or_else(|| broken("initialize failed on a fresh try"))?;
    let request = legacy_post(&legacy.version, legacy.session.as_deref())
        .body(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
    let response = p.send(&request, &Want::AnyAnswer)?;
    accepted_202(&response, false)
}

const UNSOLICITED_RESPONSE: &str = r#"{"jsonrpc":"2.0","id":"probe-unsolicited","result":{}}"#;

fn response_legacy(p: &mut Probe, _: Wire) -> Checked {
    let request = p.legacy_post_shared().body(UNSOLICITED_RESPONSE);
    let response = p.send(&request, &Want::AnyAnswer)?;
    accepted_202(&response, false)
}

fn response_modern(p: &mut Probe, _: Wire) -> Checked {
    let request = json_post()
        .header(VERSION_HEADER, MODERN)
        .body(UNSOLICITED_RESPONSE);
    let response = p.send(&request, &Want::AnyAnswer)?;
    accepted_202(&response, true)
}

// --- Sessions --------------------------------------------------------------------------------

/// The shared session's facts, or a SKIP when the server issued no session id.
fn with_session(p: &Probe) -> Result<Legacy, Miss> {
    match &p.legacy {
        Some(legacy) if legacy.session.is_some() => Ok(legacy.clone()),
        _ => Err(Miss::Skip(
            "the server issued no Mcp-Session-Id (stateless)".into(),
        )),
    }
}

fn tools_list_body(id: &Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": {}}).to_string()
}

fn status_is(response: &Response, status: u16) -> Checked {
    if response.status == status {
        Ok(())
    } else {
        Err(broken(response.describe()))
    }
}

fn session_missing(p: &mut Probe, _: Wire) -> Checked {
    let legacy = with_session(p)?;
    let id = p.id();
    let request = legacy_post(&legacy.version, None).body(tools_list_body(&id));
    let response = p.send(&request, &Want::Id(id))?;
    status_is(&response, 400)
}

fn session_unknown(p: &mut Probe, _: Wire) -> Checked {
    let legacy = with_session(p)?;
    let id = p.id();
    let request = legacy_post(&legacy.version, Some(UNKNOWN_SESSION)).body(tools_list_body(&id));
    let response = p.send(&request, &Want::Id(id))?;
    status_is(&response, 404)
}

fn session_deleted(p: &mut Probe, _: Wire) -> Checked {
    with_session(p)?;
    let (fresh, _) = p.initialize(LEGACY)?;
    let Some(Legacy {
        version,
        session: Some(session),
    }) = fresh
    else {
        return Err(broken("a fresh initialize issued no session"));
    };
    let delete = Request::new("DELETE")
        .header(VERSION_HEADER, version.as_str())
        .header(SESSION_HEADER, session.as_str());
    let deleted = p.send(&delete, &Want::AnyAnswer)?;
    if deleted.status == 405 {
        return Err(Miss::Skip(
            "DELETE → 405: the server does not let clients end sessions".into(),
        ));
    }
    if !deleted.is_success() {
        return Err(broken(format!("DELETE answered {}", deleted.describe())));
    }
    let id = p.id();
    let request = legacy_post(&version, Some(&session)).body(tools_list_body(&id));
    let response = p.send(&request, &Want::Id(id))?;
    match response.status {
        404 => Ok(()),
        _ => Err(broken(format!(
            "after DELETE ({}), the id got {}",
            deleted.status,
            response.describe()
        ))),
    }
}

// --- Origin ----------------------------------------------------------------------------------

fn origin_foreign(p: &mut Probe, wire: Wire) -> Checked {
    let (request, id) = p.call(wire, "tools/list", json!({}));
    let response = p.send(&request.header("Origin", FOREIGN_ORIGIN), &Want::Id(id))?;
    status_is(&response, 403)
}

fn origin_allowed(p: &mut Probe, wire: Wire, origin: &str) -> Checked {
    let (request, id) = p.call(wire, "tools/list", json!({}));
    let response = p.send(&request.header("Origin", origin), &Want::Id(id))?;
    if response.is_success() {
        Ok(())
    } else {
        Err(broken(response.describe()))
    }
}

// --- Methods ---------------------------------------------------------------------------------

fn put_405(p: &mut Probe, _: Wire) -> Checked {
    let request = Request::new("PUT")
        .header("Content-Type", "application/json")
        .body("{}");
    let response = p.send(&request, &Want::AnyAnswer)?;
    match (response.status, response.header("allow")) {
        (405, Some(_)) => Ok(()),
        (405, None) => Err(Miss::Soft(
            "405 without the Allow header RFC 9110 §15.5.6 requires".into(),
        )),
        _ => Err(broken(response.describe())),
    }
}

fn get_legacy(p: &mut Probe, _: Wire) -> Checked {
    let legacy = p
        .legacy
        .clone()
        .ok_or_else(|| broken("no legacy session"))?;
    let mut request = Request::new("GET")
        .header("Accept", "text/event-stream")
        .header(VERSION_HEADER, legacy.version.as_str());
    if let Some(session) = &legacy.session {
        request = request.header(SESSION_HEADER, session.as_str());
    }
    let response = p.send(&request, &Want::Head)?;
    match response.status {
        405 => Ok(()),
        200 if response.is_event_stream() => Ok(()),
        _ => Err(broken(response.describe())),
    }
}

fn get_modern(p: &mut Probe, _: Wire) -> Checked {
    let request = Request::new("GET")
        .header("Accept", "text/event-stream")
        .header(VERSION_HEADER, MODERN);
    let response = p.send(&request, &Want::Head)?;
    status_is(&response, 405)
}

fn content_type_415(p: &mut Probe, wire: Wire) -> Checked {
    let (request, id) = p.call(wire, "tools/list", json!({}));
    let request = request.replace("Content-Type", "text/plain");
    let response = p.send(&request, &Want::Id(id))?;
    status_is(&response, 415)
}

// --- Versions --------------------------------------------------------------------------------

fn version_legacy(p: &mut Probe, _: Wire) -> Checked {
    let (request, id) = p.call(Wire::Legacy, "tools/list", json!({}));
    let request = request.replace(VERSION_HEADER, "1999-01-01");
    let response = p.send(&request, &Want::Id(id))?;
    status_is(&response, 400)
}

fn version_modern(p: &mut Probe, _: Wire) -> Checked {
    let requested = "2099-01-01";
    let id = p.id();
    let body = json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/list",
        "params": {"_meta": modern_meta(requested)},
    });
    let request = modern_post("tools/list")
        .replace(VERSION_HEADER, requested)
        .body(body.to_string());
    let response = p.send(&request, &Want::Id(id))?;
    let data = response
        .answer
        .as_ref()
        .and_then(|a| a.get("error"))
        .and_then(|e| e.get("data"));
    let supported = data
        .and_then(|d| d.get("supported"))
        .and_then(Value::as_array);
    let lists_modern = supported.is_some_and(|s| s.iter().any(|v| v == MODERN));
    let names_request = data.and_then(|d| d.get("requested")) == Some(&json!(requested));
    if response.status == 400
        && response.error_code() == Some(-32022)
        && lists_modern
        && names_request
    {
        Ok(())
    } else {
        Err(broken(response.describe()))
    }
}

fn initialize_future(p: &mut Probe, _: Wire) -> Checked {
    let (fresh, response) = p.initialize("2099-01-01")?;
    let Some(fresh) = fresh else {
        return Err(broken(response.describe()));
    };
    let answered = ProtocolVersion::parse(&fresh.version);
    if !KNOWN.contains(&answered) {
        return Err(broken(format!(
            "answered {:?}, not a known version",
            fresh.version
        )));
    }
    if answered.is_modern() {
        return Err(Miss::Soft(format!(
            "answered {:?}: initialize selects the legacy era (§1.4, inference)",
            fresh.version
        )));
    }
    let latest = p
        .legacy
        .as_ref()
        .map(|l| l.version.clone())
        .unwrap_or_default();
    if fresh.version < latest {
        return Err(Miss::Soft(format!(
            "answered {:?}, older than the {latest:?} it speaks (SHOULD be its latest)",
            fresh.version
        )));
    }
    Ok(())
}

fn discover_versions(p: &mut Probe, _: Wire) -> Checked {
    let result = p.modern.clone().unwrap_or_default();
    let Some(versions) = result.get("supportedVersions").and_then(Value::as_array) else {
        return Err(broken(format!(
            "no supportedVersions array in {}",
            blocking_http::excerpt(&result.to_string(), 160)
        )));
    };
    let names: Vec<&str> = versions.iter().filter_map(Value::as_str).collect();
    if names.len() != versions.len() || !names.contains(&MODERN) {
        return Err(broken(format!("supportedVersions {versions:?}")));
    }
    let unknown: Vec<&str> = names
        .iter()
        .copied()
        .filter(|v| !KNOWN.contains(&ProtocolVersion::parse(v)))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(broken(format!("unknown versions listed: {unknown:?}")))
    }
}

fn discover_fields(p: &mut Probe, _: Wire) -> Checked {
    let result = p.modern.clone().unwrap_or_default();
    let mut missing = Vec::new();
    if result.get("resultType") != Some(&json!("complete")) {
        missing.push("resultType \"complete\"");
    }
    if !result.get("ttlMs").is_some_and(Value::is_u64) {
        missing.push("ttlMs (a non-negative integer)");
    }
    if !result.get("cacheScope").is_some_and(Value::is_string) {
        missing.push("cacheScope");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(broken(format!(
            "missing {} in {}",
            missing.join(", "),
            blocking_http::excerpt(&result.to_string(), 160)
        )))
    }
}

// --- JSON-RPC errors -------------------------------------------------------------------------

/// A POST of `body` with `wire`'s headers (the shared session's on the legacy wire).
fn raw_post(p: &Probe, wire: Wire, body: &str) -> Request {
    match wire {
        Wire::Modern => modern_post("tools/list").body(body),
        Wire::Legacy => p.legacy_post_shared().body(body),
    }
}

fn error_code_is(response: &Response, code: i64) -> Checked {
    match response.error_code() {
        Some(got) if got == code => Ok(()),
        Some(got) => Err(broken(format!("error {got}: {}", response.describe()))),
        None => Err(broken(format!(
            "no JSON-RPC error: {}",
            response.describe()
        ))),
    }
}

fn parse_error(p: &mut Probe, wire: Wire) -> Checked {
    let request = raw_post(p, wire, r#"{"jsonrpc":"2.0","id":1,"method":"#);
    let response = p.send(&request, &Want::AnyAnswer)?;
    error_code_is(&response, -32700)
}

fn non_object(p: &mut Probe, wire: Wire) -> Checked {
    let request = raw_post(p, wire, "42");
    let response = p.send(&request, &Want::AnyAnswer)?;
    error_code_is(&response, -32600)
}

fn id_null(p: &mut Probe, wire: Wire) -> Checked {
    let params = match wire {
        Wire::Modern => json!({"_meta": modern_meta(MODERN)}),
        Wire::Legacy => json!({}),
    };
    let body = json!({"jsonrpc": "2.0", "id": null, "method": "tools/list", "params": params});
    let request = raw_post(p, wire, &body.to_string());
    let response = p.send(&request, &Want::AnyAnswer)?;
    if response.status == 202 {
        return Err(broken("202: treated as a notification"));
    }
    if response
        .answer
        .as_ref()
        .and_then(|a| a.get("result"))
        .is_some()
    {
        return Err(broken(format!(
            "answered as a request: {}",
            response.describe()
        )));
    }
    match response.error_code() {
        Some(-32600) => Ok(()),
        _ if (400..500).contains(&response.status) => Err(Miss::Soft(format!(
            "refused, but not with -32600: {}",
            response.describe()
        ))),
        _ => Err(broken(response.describe())),
    }
}

fn batch_refused(p: &mut Probe, wire: Wire) -> Checked {
    if wire == Wire::Legacy {
        let version = p
            .legacy
            .as_ref()
            .map(|l| l.version.clone())
            .unwrap_or_default();
        if version.as_str() < "2025-06-18" {
            return Err(Miss::Skip(format!("{version} has batches")));
        }
    }
    let (request, id) = p.call(wire, "tools/list", json!({}));
    let inner: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let request = request.body(json!([inner]).to_string());
    let response = p.send(&request, &Want::AnyAnswer)?;
    let answered = |m: &Value| m.get("id") == Some(&id) && m.get("result").is_some();
    let processed = match &response.answer {
        Some(Value::Array(items)) => items.iter().any(answered),
        Some(other) => answered(other),
        None => false,
    };
    if processed {
        return Err(broken(format!("processed: {}", response.describe())));
    }
    if (400..500).contains(&response.status) || response.error_code().is_some() {
        Ok(())
    } else {
        Err(broken(response.describe()))
    }
}

fn unknown_method(p: &mut Probe, wire: Wire) -> Checked {
    let (request, id) = p.call(wire, "probe/no-such-method", json!({}));
    let response = p.send(&request, &Want::Id(id))?;
    error_code_is(&response, -32601)?;
    if wire == Wire::Modern && response.status != 404 {
        return Err(broken(format!(
            "-32601 but not 404: {}",
            response.describe()
        )));
    }
    Ok(())
}

// --- Limits and liveness ---------------------------------------------------------------------

fn too_large(p: &mut Probe, wire: Wire) -> Checked {
    let padding = "x".repeat(OVERSIZED_BODY);
    let (mut request, id) = p.call(wire, "tools/list", json!({"padding": padding}));
    request.stop_on_answer = true;
    let response = p.send(&request, &Want::Id(id))?;
    if response.status == 413 {
        return Ok(());
    }
    let sent = response.body_sent.map_or_else(
        || "after the whole body".to_owned(),
        |n| format!("after {n} bytes"),
    );
    Err(broken(format!("{} ({sent})", response.describe())))
}

fn alive(p: &mut Probe, wire: Wire) -> Checked {
    if !p.abused {
        p.abused = true;
        p.abuse();
    }
    let (request, id) = match wire {
        Wire::Modern => {
            let discover = p.discover()?;
            if discover
                .answer
                .as_ref()
                .and_then(|a| a.get("result"))
                .is_none()
            {
                return Err(broken(format!("server/discover: {}", discover.describe())));
            }
            p.call(Wire::Modern, "tools/list", json!({}))
        }
        Wire::Legacy => {
            let (fresh, response) = p.initialize(LEGACY)?;
            let fresh =
                fresh.ok_or_else(|| broken(format!("initialize: {}", response.describe())))?;
            let initialized = legacy_post(&fresh.version, fresh.session.as_deref())
                .body(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
            p.send(&initialized, &Want::AnyAnswer)?;
            let id = p.id();
            let request =
                legacy_post(&fresh.version, fresh.session.as_deref()).body(tools_list_body(&id));
            (request, id)
        }
    };
    let response = p.send(&request, &Want::Id(id))?;
    let tools = response
        .answer
        .as_ref()
        .and_then(|a| a.get("result"))
        .and_then(|r| r.get("tools"))
        .is_some_and(Value::is_array);
    if tools {
        Ok(())
    } else {
        Err(broken(format!("tools/list: {}", response.describe())))
    }
}

// --- Requests --------------------------------------------------------------------------------

fn modern_meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION")},
    })
}

/// A POST with the JSON content type and the Accept every client MUST send.
fn json_post() -> Request {
    Request::new("POST")
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
}

fn modern_post(method: &str) -> Request {
    json_post()
        .header(VERSION_HEADER, MODERN)
        .header(METHOD_HEADER, method)
}

fn legacy_post(version: &str, session: Option<&str>) -> Request {
    let request = json_post().header(VERSION_HEADER, version);
    match session {
        Some(session) => request.header(SESSION_HEADER, session),
        None => request,
    }
}

impl Probe {
    fn id(&mut self) -> Value {
        self.next_id += 1;
        json!(self.next_id)
    }

    fn send(&self, request: &Request, want: &Want) -> Result<Response, HttpError> {
        blocking_http::send(&self.endpoint, request, want, &self.limits)
    }

    fn speaks(&self, wire: Wire) -> bool {
        match wire {
            Wire::Modern => self.modern.is_some(),
            Wire::Legacy => self.legacy.is_some(),
        }
    }

    fn preferred(&self) -> Wire {
        if self.modern.is_some() {
            Wire::Modern
        } else {
            Wire::Legacy
        }
    }

    fn eras(&self) -> String {
        let modern = match &self.modern {
            Some(_) => format!("modern ({MODERN})"),
            None => "no modern era".to_owned(),
        };
        let legacy = match &self.legacy {
            Some(Legacy {
                version,
                session: Some(_),
            }) => format!("legacy ({version}, with sessions)"),
            Some(Legacy {
                version,
                session: None,
            }) => format!("legacy ({version}, stateless)"),
            None => "no legacy era".to_owned(),
        };
        format!("{modern}; {legacy}")
    }

    /// A POST on the shared legacy session.
    fn legacy_post_shared(&self) -> Request {
        match &self.legacy {
            Some(legacy) => legacy_post(&legacy.version, legacy.session.as_deref()),
            None => legacy_post(LEGACY, None),
        }
    }

    /// A request for `method` on `wire`, with its id.
    fn call(&mut self, wire: Wire, method: &str, mut params: Value) -> (Request, Value) {
        let id = self.id();
        let request = match wire {
            Wire::Modern => {
                if let Some(object) = params.as_object_mut() {
                    object.insert("_meta".into(), modern_meta(MODERN));
                }
                modern_post(method)
            }
            Wire::Legacy => self.legacy_post_shared(),
        };
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        (request.body(body.to_string()), id)
    }

    fn discover(&mut self) -> Result<Response, HttpError> {
        let (request, id) = self.call(Wire::Modern, "server/discover", json!({}));
        self.send(&request, &Want::Id(id))
    }

    /// `initialize` asking for `version`: the session's facts when it succeeded.
    fn initialize(&mut self, version: &str) -> Result<(Option<Legacy>, Response), HttpError> {
        let id = self.id();
        let body = json!({
            "jsonrpc": "2.0", "id": id, "method": "initialize",
            "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION")},
            },
        });
        let response = self.send(&json_post().body(body.to_string()), &Want::Id(id))?;
        let answered = response
            .answer
            .as_ref()
            .and_then(|a| a.get("result"))
            .and_then(|r| r.get("protocolVersion"))
            .and_then(Value::as_str)
            .filter(|_| response.is_success())
            .map(str::to_owned);
        let legacy = answered.map(|version| Legacy {
            version,
            session: response.header(SESSION_HEADER).map(str::to_owned),
        });
        Ok((legacy, response))
    }

    /// `initialize` and `notifications/initialized`: a ready session.
    fn open_session(&mut self, version: &str) -> Result<(Option<Legacy>, Response), HttpError> {
        let (legacy, response) = self.initialize(version)?;
        if let Some(legacy) = &legacy {
            let initialized = legacy_post(&legacy.version, legacy.session.as_deref())
                .body(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
            self.send(&initialized, &Want::AnyAnswer)?;
        }
        Ok((legacy, response))
    }

    /// Garbage on one connection, half a request on another; neither is judged.
    fn abuse(&self) {
        let garbage =
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GARBAGE\xff\xfe\x00\r\n\r\n\r\n";
        // What the server makes of them is its business; only that it survives is checked.
        let _ = blocking_http::raw_exchange(&self.endpoint, garbage, 4096, RAW_WAIT);
        let half = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"jsonrpc\":\"2.0\",\"id\":1,",
            self.endpoint.path, self.endpoint.host
        );
        let _ = blocking_http::send_and_drop(&self.endpoint, half.as_bytes(), RAW_WAIT);
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "probe {}: {}", self.url, self.eras)?;
        for line in self.lines() {
            writeln!(f, "{line}")?;
        }
        write!(f, "{}", self.summary())
    }
}

/// `conformance probe --url URL [--origin-allowed ORIGIN]... [--timeout SECS]`: 0 when no check
/// failed, 1 on a FAIL, 2 on a usage error or when the URL cannot be probed at all.
pub(crate) fn probe_command(args: &[String]) -> Result<bool, String> {
    let mut url = None;
    let mut options = ProbeOptions::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--url" => url = Some(value()?),
            "--origin-allowed" => options.origins_allowed.push(value()?),
            "--timeout" => {
                let text = value()?;
                let seconds: f64 = text
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 600.0)
                    .ok_or_else(|| format!("--timeout {text:?}: seconds, 0 < s <= 600"))?;
                options.limits.timeout = Duration::from_secs_f64(seconds);
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    let url = url.ok_or("--url URL is required")?;
    let report = probe(&url, &options).map_err(|e| e.to_string())?;
    #[allow(clippy::print_stdout)]
    {
        println!("{report}");
    }
    Ok(report.count(Verdict::Fail) == 0)
}

#[cfg(test)]
#[path = "probe_url_tests.rs"]
mod tests;
