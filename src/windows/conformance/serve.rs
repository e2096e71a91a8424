//! A file server on this machine for the scenarios that transfer: plain HTTP/1.1 on the
//! loopback interface, one fixed file, byte ranges as BITS asks. It asks for no
//! authentication ([`FileServer::start`]), or it challenges each new connection once with
//! one scheme, as the server (401) or as the job's proxy (407), and records the account
//! that answers ([`FileServer::challenging`]; the handshake is in `ntlm`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::thread::JoinHandle;

use data_encoding::BASE64;

use super::ntlm::{self, Presented, Reply};
use crate::net::{AuthScheme, AuthTarget};

/// The file's size: large enough that BITS asks in ranges, small enough to be quick.
const SIZE: usize = 64 * 1024;

/// The host name of the file's URL when the server is the job's proxy: never resolved,
/// since the client asks the proxy for it.
const PROXIED_HOST: &str = "bits-conformance.invalid";

/// A running server; dropping it stops it.
#[derive(Debug)]
pub struct FileServer {
    address: SocketAddr,
    challenge: Option<(AuthTarget, AuthScheme)>,
    presented: Arc<Mutex<Option<Presented>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    /// Starts serving on `127.0.0.1`, on a port the system picks, to anyone.
    pub fn start() -> std::io::Result<FileServer> {
        FileServer::serve(None)
    }

    /// Starts serving as [`start`](FileServer::start) does, but each new connection must
    /// first answer a challenge offering `scheme` (NTLM or Negotiate): as the server
    /// (`401`, `WWW-Authenticate`) or, for [`AuthTarget::Proxy`], as the job's proxy
    /// (`407`, `Proxy-Authenticate`; the URL then names a host only the proxy serves).
    /// [`presented`](FileServer::presented) tells who answered.
    ///
    /// # Errors
    ///
    /// Another scheme (`InvalidInput`): the server speaks only NTLM, bare or in SPNEGO.
    /// Binding the port: as [`start`](FileServer::start).
    pub fn challenging(target: AuthTarget, scheme: AuthScheme) -> std::io::Result<FileServer> {
        if !matches!(scheme, AuthScheme::Ntlm | AuthScheme::Negotiate) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the local server cannot challenge with {scheme}: NTLM or Negotiate"),
            ));
        }
        FileServer::serve(Some((target, scheme)))
    }

    fn serve(challenge: Option<(AuthTarget, AuthScheme)>) -> std::io::Result<FileServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let presented = Arc::new(Mutex::new(None));
        let (stopped, record) = (Arc::clone(&stop), Arc::clone(&presented));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let record = Arc::clone(&record);
                    // One thread per connection: BITS may hold one open while it opens
                    // the next. A client that misbehaves loses its connection, nothing else.
                    std::thread::spawn(move || answer(stream, challenge, &record));
                }
            }
        });
        Ok(FileServer {
            address,
            challenge,
            presented,
            stop,
            thread: Some(thread),
        })
    }

    /// The file's URL.
    pub fn url(&self) -> String {
        match self.challenge {
            Some((AuthTarget::Proxy, _)) => format!("http://{PROXIED_HOST}/conformance.bin"),
            _ => format!("http://{}/conformance.bin", self.address),
        }
    }

    /// The proxy the job must go through (`host:port`), when the server is the proxy.
    pub fn proxy(&self) -> Option<String> {
        matches!(self.challenge, Some((AuthTarget::Proxy, _))).then(|| self.address.to_string())
    }

    /// The account that last answered the challenge, as the client named it; `None` when
    /// nobody has.
    pub fn presented(&self) -> Option<Presented> {
        self.presented
            .lock()
            .map_or_else(|poisoned| poisoned.into_inner().clone(), |p| p.clone())
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The file's byte at `i`.
fn byte(i: usize) -> u8 {
    (i % 251) as u8
}

/// Answers the requests of one connection, until the client closes it: the challenge
/// first, when there is one, until the connection is authenticated.
fn answer(
    stream: TcpStream,
    challenge: Option<(AuthTarget, AuthScheme)>,
    record: &Mutex<Option<Presented>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(core::time::Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    let mut authenticated = challenge.is_none();
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let mut range = None;
        let mut authorization = None;
        let asks = challenge.map(|(target, _)| match target {
            AuthTarget::Server => "authorization:",
            AuthTarget::Proxy => "proxy-authorization:",
        });
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("range:") {
                range = parse_range(value.trim());
            }
            if let Some(name) = asks.filter(|name| lower.starts_with(name)) {
                authorization = Some(line[name.len()..].trim().to_string());
            }
        }
        let mut completion = None;
        if let (false, Some((target, scheme))) = (authenticated, challenge) {
            match authorization
                .as_deref()
                .map(|value| handshake(scheme, value))
            {
                Some(Reply::Done(who, last)) => {
                    *record.lock().unwrap_or_else(|p| p.into_inner()) = Some(who);
                    authenticated = true;
                    completion = last.map(|token| (target, scheme, token));
                }
                Some(Reply::Continue(token)) => {
                    refuse(&mut out, target, scheme, Some(&token))?;
                    continue;
                }
                // No answer yet: offer the scheme. A wrong one: offer it again, and
                // close, so that a confused client cannot loop on this connection.
                None => {
                    refuse(&mut out, target, scheme, None)?;
                    continue;
                }
                Some(Reply::Refuse) => {
                    refuse(&mut out, target, scheme, None)?;
                    return Ok(());
                }
            }
        }
        let head = request.starts_with("HEAD ");
        if !(head || request.starts_with("GET ")) {
            out.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
            continue;
        }
        let (status, first, last) = match range {
            Some((first, last)) if first < SIZE => {
                ("206 Partial Content", first, last.min(SIZE - 1))
            }
            Some(_) => {
                out.write_all(
                    format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{SIZE}\r\nContent-Length: 0\r\n\r\n")
                        .as_bytes(),
                )?;
                continue;
            }
            None => ("200 OK", 0, SIZE - 1),
        };
        let length = last + 1 - first;
        let mut header = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\nContent-Length: {length}\r\nLast-Modified: Sat, 05 Dec 2026 00:00:00 GMT\r\n"
        );
        if range.is_some() {
            header.push_str(&format!("Content-Range: bytes {first}-{last}/{SIZE}\r\n"));
        }
        if let Some((target, scheme, token)) = completion {
            // SPNEGO's last token, with the answer the challenge unlocked.
            let field = authenticate_field(target);
            let token = BASE64.encode(&token);
            header.push_str(&format!("{field}: {} {token}\r\n", scheme.label()));
        }
        header.push_str("\r\n");
        out.write_all(header.as_bytes())?;
        if !head {
            let body: Vec<u8> = (first..=last).map(byte).collect();
            out.write_all(&body)?;
        }
        out.flush()?;
    }
}

/// The server's reply to the `Authorization` value `value` under `scheme`: a value of
/// another scheme, or one that is not base64, is refused.
fn handshake(scheme: AuthScheme, value: &str) -> Reply {
    let Some((name, token)) = value.split_once(' ') else {
        return Reply::Refuse;
    };
    if !name.eq_ignore_ascii_case(scheme.label()) {
        return Reply::Refuse;
    }
    match BASE64.decode(token.trim().as_bytes()) {
        Ok(token) => ntlm::reply(scheme, &token),
        Err(_) => Reply::Refuse,
    }
}

/// A 401 (server) or 407 (proxy) offering `scheme`, with the next handshake token if any.
fn refuse(
    out: &mut TcpStream,
    target: AuthTarget,
    scheme: AuthScheme,
    token: Option<&[u8]>,
) -> std::io::Result<()> {
    let status = match target {
        AuthTarget::Server => "401 Unauthorized",
        AuthTarget::Proxy => "407 Proxy Authentication Required",
    };
    let mut offer = String::from(scheme.label());
    if let Some(token) = token {
        offer.push(' ');
        offer.push_str(&BASE64.encode(token));
    }
    let field = authenticate_field(target);
    out.write_all(
        format!("HTTP/1.1 {status}\r\n{field}: {offer}\r\nContent-Length: 0\r\n\r\n").as_bytes(),
    )?;
    out.flush()
}

fn authenticate_field(target: AuthTarget) -> &'static str {
    match target {
        AuthTarget::Server => "WWW-Authenticate",
        AuthTarget::Proxy => "Proxy-Authenticate",
    }
}

/// `bytes=first-last` or `bytes=first-`; `None` for any other form.
fn parse_range(value: &str) -> Option<(usize, usize)> {
    let spec = value.strip_prefix("bytes=")?;
    let (first, last) = spec.split_once('-')?;
    let first: usize = first.trim().parse().ok()?;
    let last = match last.trim() {
        "" => usize::MAX,
        l => l.parse().ok()?,
    };
    (first <= last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::windows::conformance::ntlm::client::{authenticate, negotiate};

    /// Sends `request` on `stream` and reads one response: its head, and its body's length.
    fn exchange(stream: &mut TcpStream, request: &str) -> (String, usize) {
        stream.write_all(request.as_bytes()).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .map_or(0, |n| n.trim().parse().unwrap());
        let mut body = alloc::vec![0u8; length];
        stream.read_exact(&mut body).unwrap();
        (head, length)
    }

    /// The token a `WWW-Authenticate` / `Proxy-Authenticate` line of `head` carries.
    fn token(head: &str, field: &str) -> Option<Vec<u8>> {
        let line = head.lines().find(|l| l.starts_with(field))?;
        let value = line.split_once(": ")?.1;
        let token = value.split_once(' ')?.1;
        Some(BASE64.decode(token.as_bytes()).unwrap())
    }

    #[test]
    fn an_open_server_serves_the_file_and_ranges() {
        let server = FileServer::start().unwrap();
        assert!(server.proxy().is_none());
        let mut s = TcpStream::connect(server.address).unwrap();
        let (head, len) = exchange(&mut s, "GET /conformance.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(len, SIZE);
        let (head, len) = exchange(
            &mut s,
            "GET /conformance.bin HTTP/1.1\r\nRange: bytes=10-19\r\n\r\n",
        );
        assert!(head.starts_with("HTTP/1.1 206"), "{head}");
        assert_eq!(len, 10);
        assert_eq!(server.presented(), None);
    }

    #[test]
    fn a_challenging_server_records_who_answered_and_then_serves() {
        let server = FileServer::challenging(AuthTarget::Server, AuthScheme::Ntlm).unwrap();
        assert!(server.url().contains("127.0.0.1"));
        let mut s = TcpStream::connect(server.address).unwrap();
        let get = "GET /conformance.bin HTTP/1.1\r\nHost: x\r\n";
        let (head, _) = exchange(&mut s, &format!("{get}\r\n"));
        assert!(head.starts_with("HTTP/1.1 401"), "{head}");
        assert!(head.contains("WWW-Authenticate: NTLM\r\n"), "{head}");
        let one = BASE64.encode(&negotiate());
        let (head, _) = exchange(&mut s, &format!("{get}Authorization: NTLM {one}\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 401"), "{head}");
        let challenge = token(&head, "WWW-Authenticate").expect("a challenge token");
        assert!(challenge.starts_with(b"NTLMSSP\0\x02\0\0\0"));
        assert_eq!(server.presented(), None, "nobody has answered yet");
        let three = BASE64.encode(&authenticate("RUNNER", "bitsuser"));
        let (head, len) = exchange(&mut s, &format!("{get}Authorization: NTLM {three}\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(len, SIZE);
        let who = server.presented().expect("recorded");
        assert_eq!(
            (who.domain.as_str(), who.user.as_str()),
            ("RUNNER", "bitsuser")
        );
        // The connection stays authenticated; a new one is challenged again.
        let (head, _) = exchange(&mut s, &format!("{get}\r\n"));
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let mut t = TcpStream::connect(server.address).unwrap();
        let (head, _) = exchange(&mut t, &format!("{get}\r\n"));
        assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    }

    #[test]
    fn as_a_proxy_it_asks_with_407_and_names_a_host_only_it_serves() {
        let server = FileServer::challenging(AuthTarget::Proxy, AuthScheme::Negotiate).unwrap();
        assert_eq!(server.proxy(), Some(server.address.to_string()));
        assert!(server.url().starts_with("http://bits-conformance.invalid/"));
        let mut s = TcpStream::connect(server.address).unwrap();
        let get = format!("GET {} HTTP/1.1\r\n", server.url());
        let (head, _) = exchange(&mut s, &format!("{get}\r\n"));
        assert!(head.starts_with("HTTP/1.1 407"), "{head}");
        assert!(head.contains("Proxy-Authenticate: Negotiate\r\n"), "{head}");
        // The server's own header does not answer the proxy.
        let one = BASE64.encode(&negotiate());
        let (head, _) = exchange(
            &mut s,
            &format!("{get}Authorization: Negotiate {one}\r\n\r\n"),
        );
        assert!(head.starts_with("HTTP/1.1 407"), "{head}");
        let (head, _) = exchange(
            &mut s,
            &format!("{get}Proxy-Authorization: Negotiate {one}\r\n\r\n"),
        );
        assert!(token(&head, "Proxy-Authenticate").is_some(), "{head}");
        let three = BASE64.encode(&authenticate("", ""));
        let (head, _) = exchange(
            &mut s,
            &format!("{get}Proxy-Authorization: Negotiate {three}\r\n\r\n"),
        );
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            server.presented().expect("recorded").user.is_empty(),
            "anonymous"
        );
    }

    #[test]
    fn a_wrong_answer_is_refused_and_the_connection_closed() {
        let server = FileServer::challenging(AuthTarget::Server, AuthScheme::Ntlm).unwrap();
        let mut s = TcpStream::connect(server.address).unwrap();
        let (head, _) = exchange(
            &mut s,
            "GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwdw==\r\n\r\n",
        );
        assert!(head.starts_with("HTTP/1.1 401"), "{head}");
        let mut rest = Vec::new();
        assert_eq!(s.read_to_end(&mut rest).unwrap_or(0), 0, "closed");
        assert_eq!(server.presented(), None);
        let basic = FileServer::challenging(AuthTarget::Server, AuthScheme::Basic).unwrap_err();
        assert_eq!(basic.kind(), std::io::ErrorKind::InvalidInput);
    }
}
