//! Minimal HTTP/1.1 on a raw TCP stream: just enough for keep-alive clients, and low-level
//! enough that resets and truncated bodies are real on the wire.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Larger header sections are refused with 431.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Larger bodies are refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

pub struct Request {
    pub method: String,
    /// The path without any query string.
    pub path: String,
    pub keep_alive: bool,
    /// The `Authorization` header's value, when one was sent.
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

pub enum ReadOutcome {
    Request(Request),
    /// The peer closed the connection (possibly mid-request).
    Closed,
    /// Unparseable request: answer with this status and close.
    Bad {
        status: u16,
        message: String,
    },
}

/// Reads one request from `stream`. `buf` carries bytes already read past the previous
/// request (pipelining) and keeps any bytes past this one.
pub async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<ReadOutcome> {
    let mut scanned = 0;
    let header_end = loop {
        if let Some(pos) = find_crlfcrlf(buf, scanned) {
            break pos;
        }
        // Re-scan the last 3 bytes: the terminator may straddle two reads.
        scanned = buf.len().saturating_sub(3);
        if buf.len() > MAX_HEADER_BYTES {
            return Ok(bad(431, "request header section is larger than 64 KiB"));
        }
        if stream.read_buf(buf).await? == 0 {
            return Ok(ReadOutcome::Closed);
        }
    };
    let head = match parse_head(&buf[..header_end]) {
        Ok(head) => head,
        Err(outcome) => return Ok(outcome),
    };
    let body_start = header_end + 4;
    let body_end = body_start + head.content_length;
    if head.expect_continue && buf.len() < body_end {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    while buf.len() < body_end {
        if stream.read_buf(buf).await? == 0 {
            return Ok(ReadOutcome::Closed);
        }
    }
    let body = buf[body_start..body_end].to_vec();
    buf.drain(..body_end);
    Ok(ReadOutcome::Request(Request {
        method: head.method,
        path: head.path,
        keep_alive: head.keep_alive,
        authorization: head.authorization,
        body,
    }))
}

struct Head {
    method: String,
    path: String,
    keep_alive: bool,
    content_length: usize,
    expect_continue: bool,
    authorization: Option<String>,
}

fn bad(status: u16, message: &str) -> ReadOutcome {
    ReadOutcome::Bad {
        status,
        message: message.to_owned(),
    }
}

fn parse_head(bytes: &[u8]) -> Result<Head, ReadOutcome> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| bad(400, "request head is not valid UTF-8"))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(
            400,
            "malformed request line; expected 'METHOD PATH HTTP/1.1'",
        ));
    };
    let mut keep_alive = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(bad(505, "only HTTP/1.0 and HTTP/1.1 are supported")),
    };
    let mut content_length: Option<usize> = None;
    let mut expect_continue = false;
    let mut authorization = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(400, "malformed header line; expected 'Name: value'"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let length: usize = value
                .parse()
                .map_err(|_| bad(400, "Content-Length is not a non-negative integer"))?;
            if content_length.is_some_and(|previous| previous != length) {
                return Err(bad(400, "conflicting Content-Length headers"));
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(bad(
                411,
                "chunked request bodies are not supported; send Content-Length",
            ));
        } else if name.eq_ignore_ascii_case("expect") && value.eq_ignore_ascii_case("100-continue")
        {
            expect_continue = true;
        }
    }
    let content_length = content_length.unwrap_or(0);
    if content_length > MAX_BODY_BYTES {
        return Err(bad(413, "request body is larger than 64 MiB"));
    }
    let path = target.split('?').next().unwrap_or_default().to_owned();
    Ok(Head {
        method: method.to_owned(),
        path,
        keep_alive,
        content_length,
        expect_continue,
        authorization,
    })
}

fn find_crlfcrlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + from)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// A complete JSON response. Returns the bytes and the length of the head (where the body starts).
pub fn response(
    status: u16,
    extra_headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) -> (Vec<u8>, usize) {
    use std::io::Write;
    let mut out = Vec::with_capacity(160 + body.len());
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in extra_headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    let head_len = out.len();
    out.extend_from_slice(body);
    (out, head_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_parsing() {
        let head = match parse_head(b"POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\ncontent-length: 12\r\nConnection: Close") {
            Ok(head) => head,
            Err(_) => panic!("valid head rejected"),
        };
        assert_eq!(head.method, "POST");
        assert_eq!(head.path, "/v1/chat/completions");
        assert_eq!(head.content_length, 12);
        assert!(!head.keep_alive);
    }

    #[test]
    fn http10_defaults_to_close_and_bad_heads_are_rejected() {
        assert!(parse_head(b"GET / HTTP/1.0").is_ok_and(|h| !h.keep_alive));
        assert!(
            parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive").is_ok_and(|h| h.keep_alive)
        );
        assert!(matches!(
            parse_head(b"GET /"),
            Err(ReadOutcome::Bad { status: 400, .. })
        ));
        assert!(matches!(
            parse_head(b"GET / HTTP/2"),
            Err(ReadOutcome::Bad { status: 505, .. })
        ));
        assert!(matches!(
            parse_head(b"POST / HTTP/1.1\r\nContent-Length: -1"),
            Err(ReadOutcome::Bad { status: 400, .. })
        ));
        assert!(matches!(
            parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked"),
            Err(ReadOutcome::Bad { status: 411, .. })
        ));
    }

    #[test]
    fn terminator_search() {
        assert_eq!(find_crlfcrlf(b"ab\r\n\r\ncd", 0), Some(2));
        assert_eq!(find_crlfcrlf(b"ab\r\n\r\ncd", 3), None);
        assert_eq!(find_crlfcrlf(b"ab", 10), None);
    }

    #[test]
    fn response_layout() {
        let (bytes, head_len) = response(429, &[("Retry-After", "1")], b"{}", false);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.contains("Retry-After: 1\r\n"));
        assert!(text.contains("Connection: close\r\n"));
        assert_eq!(&bytes[head_len..], b"{}");
    }
}
