//! The bit of HTTP/1.1 the std-thread test servers speak: one request per
//! connection (request line, headers, a `content-length` body), one response.
//! Hand-written rather than a server library: the test servers must also
//! answer wrongly on purpose (cut bodies, bad framing), which a conforming
//! server library does not let them do.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// One request.
pub(crate) struct Req {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Reads the one request of a connection.
pub(crate) fn read(sock: &TcpStream) -> std::io::Result<Req> {
    let mut r = BufReader::new(sock.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let query = q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let n = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; n];
    r.read_exact(&mut body)?;
    Ok(Req { method, path: path.to_string(), query, headers, body })
}

/// Writes the response and closes the exchange; `extra` holds further
/// header lines, each ending in CRLF.
pub(crate) fn respond(mut sock: &TcpStream, status: u16, extra: &str, ct: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        sock,
        "HTTP/1.1 {status} X\r\ncontent-type: {ct}\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    sock.write_all(body)?;
    sock.flush()
}
