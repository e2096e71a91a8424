//! A file server on this machine for the scenarios that transfer: plain HTTP/1.1 on the
//! loopback interface, no authentication, one fixed file, byte ranges as BITS asks.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;

/// The file's size: large enough that BITS asks in ranges, small enough to be quick.
const SIZE: usize = 64 * 1024;

/// A running server; dropping it stops it.
#[derive(Debug)]
pub struct FileServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    /// Starts serving on `127.0.0.1`, on a port the system picks.
    pub fn start() -> std::io::Result<FileServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    // A client that misbehaves loses its connection, nothing else.
                    let _ = answer(stream);
                }
            }
        });
        Ok(FileServer {
            address,
            stop,
            thread: Some(thread),
        })
    }

    /// The file's URL.
    pub fn url(&self) -> String {
        format!("http://{}/conformance.bin", self.address)
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

/// Answers the requests of one connection, until the client closes it.
fn answer(stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(core::time::Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let mut range = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("range:") {
                range = parse_range(value.trim());
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
        header.push_str("\r\n");
        out.write_all(header.as_bytes())?;
        if !head {
            let body: Vec<u8> = (first..=last).map(byte).collect();
            out.write_all(&body)?;
        }
        out.flush()?;
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
