//! The command line of the `cli` examples (the same on every runtime):
//!
//! ```text
//! cli [--header 'Name: value']… [--era auto|modern|legacy] [--timeout SECS]
//!     [--cacert PEM-FILE] [--proxy URL|none] (--url URL | --stdio 'CMD ARGS…') COMMAND [ARGS]
//! ```
//!
//! `--cacert` trusts a CA's certificates for `https://` on top of the usual roots; `--proxy`
//! replaces the proxy of the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`…), `none`
//! ignoring it.
//!
//! COMMAND is `discover`, `tools/list`, `tools/call NAME [JSON]`, `resources/list`,
//! `resources/read URI`, `prompts/list` or `prompts/get NAME [JSON]`.

use std::time::Duration;

use mcp_proto::engine::EraPolicy;
use serde_json::{Value, json};

use crate::client::{CallError, Client};
use crate::http_client::HttpConnectOptions;
use crate::process::ChildCommand;
use crate::proxy::ProxyConfig;

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Streamable HTTP (or HTTP+SSE) URL.
    Url(String),
    /// A server process.
    Stdio(ChildCommand),
}

/// What to ask.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The handshake's outcome (era, version, server info, capabilities).
    Discover,
    /// Every tool.
    ListTools,
    /// Calls a tool with JSON arguments.
    CallTool(String, Value),
    /// Every resource.
    ListResources,
    /// Reads a resource.
    ReadResource(String),
    /// Every prompt.
    ListPrompts,
    /// Renders a prompt with JSON arguments.
    GetPrompt(String, Value),
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct CliArgs {
    /// `Name: value` headers for HTTP.
    pub headers: Vec<(String, String)>,
    /// The era policy.
    pub era: EraPolicy,
    /// The per-call timeout.
    pub timeout: Duration,
    /// A PEM file of extra root certificates for `https://`.
    pub cacert: Option<String>,
    /// A proxy URL, or `none`, instead of the environment's.
    pub proxy: Option<String>,
    /// The server.
    pub target: Target,
    /// The command.
    pub command: Command,
}

/// The usage text.
pub const USAGE: &str = "usage: cli [--header 'Name: value']... [--era auto|modern|legacy] \
[--timeout SECS] [--cacert PEM-FILE] [--proxy URL|none] (--url URL | --stdio 'CMD ARGS...') \
COMMAND [ARGS]\n\
commands: discover | tools/list | tools/call NAME [JSON] | resources/list | resources/read URI | \
prompts/list | prompts/get NAME [JSON]";

impl CliArgs {
    /// Parses the arguments (without the program name).
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut args = args.into_iter().peekable();
        let mut headers = Vec::new();
        let mut era = EraPolicy::Auto;
        let mut timeout = Duration::from_secs(30);
        let mut target = None;
        let mut cacert = None;
        let mut proxy = None;
        while let Some(flag) = args.next_if(|a| a.starts_with("--")) {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--header" => {
                    let header = value()?;
                    let (name, value) = header
                        .split_once(':')
                        .ok_or_else(|| format!("a header is 'Name: value', not {header:?}"))?;
                    headers.push((name.trim().to_owned(), value.trim().to_owned()));
                }
                "--era" => {
                    era = match value()?.as_str() {
                        "auto" => EraPolicy::Auto,
                        "modern" => EraPolicy::Modern,
                        "legacy" => EraPolicy::Legacy,
                        other => {
                            return Err(format!("--era is auto, modern or legacy, not {other}"));
                        }
                    };
                }
                "--timeout" => {
                    let seconds: f64 = value()?
                        .parse()
                        .map_err(|e| format!("--timeout takes seconds: {e}"))?;
                    timeout = Duration::try_from_secs_f64(seconds)
                        .map_err(|e| format!("--timeout: {e}"))?;
                }
                "--cacert" => cacert = Some(value()?),
                "--proxy" => proxy = Some(value()?),
                "--url" => target = Some(Target::Url(value()?)),
                "--stdio" => {
                    let line = value()?;
                    target = Some(Target::Stdio(
                        ChildCommand::parse(&line).map_err(|e| format!("--stdio: {e}"))?,
                    ));
                }
                other => return Err(format!("unknown option {other}")),
            }
        }
        let target = target.ok_or("either --url or --stdio is needed")?;
        let name = args.next().ok_or("a COMMAND is needed")?;
        let mut operand = |what: &str| args.next().ok_or(format!("{name} needs {what}"));
        let command = match name.as_str() {
            "discover" => Command::Discover,
            "tools/list" => Command::ListTools,
            "tools/call" => {
                let tool = operand("a tool NAME")?;
                Command::CallTool(tool, json_operand(args.next())?)
            }
            "resources/list" => Command::ListResources,
            "resources/read" => Command::ReadResource(operand("a URI")?),
            "prompts/list" => Command::ListPrompts,
            "prompts/get" => {
                let prompt = operand("a prompt NAME")?;
                Command::GetPrompt(prompt, json_operand(args.next())?)
            }
            other => return Err(format!("unknown command {other}")),
        };
        if let Some(extra) = args.next() {
            return Err(format!("unexpected argument {extra:?}"));
        }
        Ok(Self {
            headers,
            era,
            timeout,
            cacert,
            proxy,
            target,
            command,
        })
    }

    /// The HTTP options for `url` these arguments ask for: headers, proxy, extra roots
    /// (`--cacert` is read here).
    ///
    /// # Errors
    /// A message saying what is wrong (the URL, a header, the proxy URL, the PEM file).
    pub fn http_options(&self, url: &str) -> Result<HttpConnectOptions, String> {
        let url = url.parse().map_err(|e| format!("invalid URL {url}: {e}"))?;
        let mut http = HttpConnectOptions::new(url);
        for (name, value) in &self.headers {
            http = http.with_header(name, value)?;
        }
        match self.proxy.as_deref() {
            None => {}
            Some("none") => http = http.with_proxy(ProxyConfig::none()),
            Some(proxy) => {
                http = http
                    .with_proxy(ProxyConfig::fixed(proxy).map_err(|e| format!("--proxy: {e}"))?);
            }
        }
        if let Some(path) = &self.cacert {
            #[cfg(feature = "tls")]
            {
                let pem = std::fs::read(path).map_err(|e| format!("--cacert {path}: {e}"))?;
                http = http
                    .with_root_certificates_pem(&pem)
                    .map_err(|e| format!("--cacert {path}: {}", crate::dial::with_causes(&e)))?;
            }
            #[cfg(not(feature = "tls"))]
            return Err(format!(
                "--cacert {path}: this build has no TLS (the `tls` feature)"
            ));
        }
        Ok(http)
    }
}

fn json_operand(operand: Option<String>) -> Result<Value, String> {
    operand.map_or(Ok(json!({})), |text| {
        serde_json::from_str(&text).map_err(|e| format!("invalid JSON {text:?}: {e}"))
    })
}

/// Runs `command` on `client`; the JSON to print.
///
/// # Errors
/// The call's [`CallError`].
pub async fn run(client: &Client, command: Command) -> Result<Value, CallError> {
    let to_json = |value: Result<Value, serde_json::Error>| {
        value.map_err(|e| CallError::InvalidResult(e.to_string()))
    };
    match command {
        Command::Discover => {
            let negotiated = client.negotiated();
            Ok(json!({
                "era": format!("{:?}", negotiated.era).to_lowercase(),
                "protocolVersion": negotiated.protocol_version.as_str(),
                "serverInfo": negotiated.server_info,
                "capabilities": negotiated.server_capabilities,
                "instructions": negotiated.instructions,
            }))
        }
        Command::ListTools => to_json(serde_json::to_value(client.list_tools().await?)),
        Command::CallTool(name, arguments) => to_json(serde_json::to_value(
            client.call_tool(&name, arguments).await?,
        )),
        Command::ListResources => to_json(serde_json::to_value(client.list_resources().await?)),
        Command::ReadResource(uri) => {
            to_json(serde_json::to_value(client.read_resource(&uri).await?))
        }
        Command::ListPrompts => to_json(serde_json::to_value(client.list_prompts().await?)),
        Command::GetPrompt(name, arguments) => to_json(serde_json::to_value(
            client.get_prompt(&name, arguments).await?,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Result<CliArgs, String> {
        CliArgs::parse(line.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn command_lines_parse() {
        let args = parse(&[
            "--header",
            "Authorization: Bearer t",
            "--era",
            "legacy",
            "--timeout",
            "2.5",
            "--stdio",
            "python3 -m 'my server'",
            "tools/call",
            "echo",
            r#"{"message":"hi"}"#,
        ])
        .unwrap();
        assert_eq!(
            args.headers,
            [("Authorization".to_owned(), "Bearer t".to_owned())]
        );
        assert_eq!(args.era, EraPolicy::Legacy);
        assert_eq!(args.timeout, Duration::from_millis(2500));
        assert!(
            matches!(&args.target, Target::Stdio(c) if c.program == "python3" && c.args == ["-m", "my server"])
        );
        assert_eq!(
            args.command,
            Command::CallTool("echo".into(), json!({"message": "hi"}))
        );
        assert_eq!(
            parse(&["--url", "http://x/mcp", "discover"])
                .unwrap()
                .command,
            Command::Discover
        );
        let args = parse(&[
            "--proxy",
            "http://proxy:3128",
            "--header",
            "X-A: b",
            "--url",
            "http://x/mcp",
            "tools/list",
        ])
        .unwrap();
        let http = args.http_options("http://x/mcp").unwrap();
        assert_eq!(http.headers["x-a"], "b");
        assert_eq!(
            http.proxy
                .proxy_for(&http.url)
                .unwrap()
                .unwrap()
                .to_string(),
            "proxy:3128"
        );
        let none = parse(&["--proxy", "none", "--url", "u", "discover"]).unwrap();
        assert_eq!(
            none.http_options("http://x/").unwrap().proxy,
            ProxyConfig::none()
        );
        let bad_proxy = parse(&["--proxy", "socks5://p", "--url", "u", "discover"]).unwrap();
        assert!(bad_proxy.http_options("http://x/").is_err());
        let missing = parse(&["--cacert", "/nonexistent.pem", "--url", "u", "discover"]).unwrap();
        assert!(
            missing
                .http_options("https://x/")
                .unwrap_err()
                .contains("/nonexistent.pem")
        );
        for bad in [
            &["discover"][..],
            &["--url", "u"],
            &["--url", "u", "nope"],
            &["--url", "u", "tools/call"],
            &["--url", "u", "tools/call", "t", "{bad"],
            &["--era", "old", "--url", "u", "discover"],
            &["--url", "u", "discover", "extra"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
