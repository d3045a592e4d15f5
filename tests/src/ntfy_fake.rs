//! A local NTFY stand-in on 127.0.0.1:0: a small HTTP/1.1 server that
//! records every request (method, path, headers, body) and answers as told:
//! 200 with NTFY's JSON, any status (5xx, 429 with Retry-After), hang past
//! the client's timeout, or drop the connection without an answer. Written
//! on raw TCP so that "drop" really closes the socket mid-request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200 with a JSON body, like NTFY.
    Ok,
    /// This status with a JSON error body (429 also sends Retry-After).
    Status(u16),
    /// Read the request, then answer nothing for this long.
    Hang(Duration),
    /// Read the request, then close the connection.
    Drop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// The status answered, or `None` (hung or dropped).
    pub answered: Option<u16>,
}

impl Request {
    pub fn topic(&self) -> &str {
        self.path.trim_start_matches('/')
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn accepted(&self) -> bool {
        self.answered.is_some_and(|code| (200..300).contains(&code))
    }
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    /// Added before every answer.
    latency: Duration,
    requests: Vec<Request>,
}

pub struct NtfyFake {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: CancellationToken,
}

impl Drop for NtfyFake {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl NtfyFake {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            mode: Some(Mode::Ok),
            latency: Duration::ZERO,
            requests: Vec::new(),
        }));
        let stop = CancellationToken::new();
        let (accept_state, accept_stop) = (Arc::clone(&state), stop.clone());
        tokio::spawn(async move {
            loop {
                let (socket, _) = tokio::select! {
                    _ = accept_stop.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(_) => continue,
                    },
                };
                let (state, stop) = (Arc::clone(&accept_state), accept_stop.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = serve(socket, state) => {}
                    }
                });
            }
        });
        Self { addr, state, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    /// Delays every answer by `latency` (a slow NTFY).
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    /// Every request received, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The requests answered with 2xx: the pushes NTFY actually took.
    pub fn accepted(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(Request::accepted)
            .collect()
    }

    /// Accepted pushes per message body (every push body is unique in tests).
    pub fn accepted_bodies(&self) -> Vec<String> {
        let mut bodies: Vec<String> = self.accepted().into_iter().map(|r| r.body).collect();
        bodies.sort();
        bodies
    }
}

async fn serve(socket: TcpStream, state: Arc<Mutex<State>>) {
    let mut reader = BufReader::new(socket);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = match (parts.next(), parts.next()) {
            (Some(m), Some(p)) => (m.to_owned(), p.to_owned()),
            _ => return,
        };
        let mut headers = BTreeMap::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let (mode, latency) = {
            let state = state.lock().unwrap();
            (state.mode.unwrap_or(Mode::Ok), state.latency)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let answered = match mode {
            Mode::Ok => Some(200),
            Mode::Status(code) => Some(code),
            Mode::Hang(_) | Mode::Drop => None,
        };
        state.lock().unwrap().requests.push(Request {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            answered,
        });
        let (status, extra, payload) = match mode {
            Mode::Hang(duration) => {
                tokio::time::sleep(duration).await;
                return;
            }
            Mode::Drop => return,
            Mode::Ok => (200, "", r#"{"id":"fake","event":"message"}"#.to_owned()),
            Mode::Status(429) => (
                429,
                "Retry-After: 1\r\n",
                r#"{"code":42901,"http":429,"error":"limit reached"}"#.to_owned(),
            ),
            Mode::Status(code) => (
                code,
                "",
                format!(r#"{{"code":{code}00,"http":{code},"error":"fake error"}}"#),
            ),
        };
        let response = format!(
            "HTTP/1.1 {status} Fake\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{payload}",
            payload.len()
        );
        if reader
            .get_mut()
            .write_all(response.as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}
